/**
 * Versioned schema of the PostgreSQL store. `bus-api-provider-auth migrate`
 * applies the pending entries under an advisory lock; `migrate --print-sql`
 * prints {@link postgresSchemaSql} for an operator who applies it by hand.
 * Never edit an entry that has shipped, add a new one.
 *
 * Indexes serve what users do at a million users: lookup by normalised
 * email (unique), by account id (unique), waitlist pages by
 * (status, created_at, user_id) keyset, revocation checks by primary key,
 * and the expiry sweeps.
 *
 * @module
 */

import type { Migration } from "./sqlite_schema.ts";

/** Table that records applied versions. */
export const POSTGRES_MIGRATIONS_TABLE = "bus_auth_schema_migrations";

/** Key of the advisory lock that serialises migrations across processes. */
export const POSTGRES_MIGRATION_LOCK = 0x6275_7361; // "busa"

/** Every migration of the PostgreSQL store, oldest first. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "users, OTP challenges, sessions, revocations, rate limits",
    sql: `
CREATE TABLE bus_auth_users (
  user_id text PRIMARY KEY,
  email text NOT NULL,
  verified boolean NOT NULL DEFAULT false,
  status text NOT NULL CHECK (status IN ('waitlisted', 'approved', 'rejected')),
  account_id text,
  rejection_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX bus_auth_users_email ON bus_auth_users (email);
CREATE UNIQUE INDEX bus_auth_users_account ON bus_auth_users (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX bus_auth_users_page ON bus_auth_users (created_at, user_id);
CREATE INDEX bus_auth_users_status_page ON bus_auth_users (status, created_at, user_id);

CREATE TABLE bus_auth_otp_challenges (
  email text PRIMARY KEY,
  challenge_id text NOT NULL,
  code_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  consumed_at timestamptz
);
CREATE INDEX bus_auth_otp_challenges_expiry ON bus_auth_otp_challenges (expires_at);

CREATE TABLE bus_auth_sessions (
  session_id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES bus_auth_users (user_id),
  created_at timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX bus_auth_sessions_user ON bus_auth_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX bus_auth_sessions_expiry ON bus_auth_sessions (absolute_expires_at);

CREATE TABLE bus_auth_revoked_tokens (
  token_id text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX bus_auth_revoked_tokens_expiry ON bus_auth_revoked_tokens (expires_at);

CREATE TABLE bus_auth_rate_limits (
  key text NOT NULL,
  window_ends_at timestamptz NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (key, window_ends_at)
);
CREATE INDEX bus_auth_rate_limits_expiry ON bus_auth_rate_limits (window_ends_at);
`,
  },
  {
    version: 2,
    description: "users.tokens_not_before: API tokens issued at or before a rejection stay refused",
    sql: `
ALTER TABLE bus_auth_users ADD COLUMN tokens_not_before timestamptz;
`,
  },
  {
    version: 3,
    description: "bus_auth_otp_failures: wrong OTP guesses per email across codes, for the daily budget",
    sql: `
CREATE TABLE bus_auth_otp_failures (
  email text NOT NULL,
  failed_at timestamptz NOT NULL
);
CREATE INDEX bus_auth_otp_failures_email ON bus_auth_otp_failures (email, failed_at);
CREATE INDEX bus_auth_otp_failures_expiry ON bus_auth_otp_failures (failed_at);
`,
  },
  {
    version: 4,
    description: "users.scope_policy: the scopes an account may be issued (NULL: the whole global list)",
    sql: `
ALTER TABLE bus_auth_users ADD COLUMN scope_policy text;
`,
  },
  {
    version: 5,
    description: "clients and client_keys: named service clients with hashed, display-once keys",
    sql: `
CREATE TABLE bus_auth_clients (
  client_id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  audience text NOT NULL,
  scopes text NOT NULL,
  max_ttl_seconds integer NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE TABLE bus_auth_client_keys (
  key_id text PRIMARY KEY,
  client_id text NOT NULL REFERENCES bus_auth_clients (client_id),
  prefix text NOT NULL,
  key_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  retires_at timestamptz
);
CREATE INDEX bus_auth_client_keys_client ON bus_auth_client_keys (client_id);
`,
  },
  {
    version: 6,
    description: "bus_auth_audit: one append-only row per privileged or security-relevant act " +
      "(UPDATE, DELETE and TRUNCATE revoked from the migrating role)",
    sql: `
CREATE TABLE bus_auth_audit (
  audit_id text PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text,
  detail text,
  request_id text,
  source_ip text,
  outcome text NOT NULL
);
CREATE INDEX bus_auth_audit_at ON bus_auth_audit (at, audit_id);
CREATE INDEX bus_auth_audit_actor ON bus_auth_audit (actor, at, audit_id);
CREATE INDEX bus_auth_audit_target ON bus_auth_audit (target, at, audit_id);
REVOKE UPDATE, DELETE, TRUNCATE ON bus_auth_audit FROM CURRENT_USER;
`,
  },
  {
    version: 7,
    description: "change notifications: inserting or updating a user, session, revoked token, client or client " +
      "key sends NOTIFY bus_auth_changes with its id, deleting or truncating sends one with the table name, " +
      "so the caches of the replicas stay current",
    sql: `
CREATE FUNCTION bus_auth_notify_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_TABLE_NAME = 'bus_auth_users' THEN
    PERFORM pg_notify('bus_auth_changes', 'u:' || NEW.user_id || ':' || COALESCE(NEW.account_id, ''));
  ELSIF TG_TABLE_NAME = 'bus_auth_sessions' THEN
    PERFORM pg_notify('bus_auth_changes', 's:' || NEW.session_id);
  ELSIF TG_TABLE_NAME = 'bus_auth_revoked_tokens' THEN
    PERFORM pg_notify('bus_auth_changes', 'j:' || NEW.token_id);
  ELSE
    PERFORM pg_notify('bus_auth_changes', 'c:' || NEW.client_id);
  END IF;
  RETURN NULL;
END
$fn$;
CREATE FUNCTION bus_auth_notify_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM gone) THEN
    PERFORM pg_notify('bus_auth_changes', 'x:' || TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END
$fn$;
CREATE FUNCTION bus_auth_notify_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('bus_auth_changes', 'x:' || TG_TABLE_NAME);
  RETURN NULL;
END
$fn$;
CREATE TRIGGER bus_auth_users_changed AFTER INSERT OR UPDATE ON bus_auth_users
  FOR EACH ROW EXECUTE FUNCTION bus_auth_notify_change();
CREATE TRIGGER bus_auth_users_deleted AFTER DELETE ON bus_auth_users REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_deleted();
CREATE TRIGGER bus_auth_users_truncated AFTER TRUNCATE ON bus_auth_users
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_truncated();
CREATE TRIGGER bus_auth_sessions_changed AFTER INSERT OR UPDATE ON bus_auth_sessions
  FOR EACH ROW EXECUTE FUNCTION bus_auth_notify_change();
CREATE TRIGGER bus_auth_sessions_deleted AFTER DELETE ON bus_auth_sessions REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_deleted();
CREATE TRIGGER bus_auth_sessions_truncated AFTER TRUNCATE ON bus_auth_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_truncated();
CREATE TRIGGER bus_auth_revoked_tokens_changed AFTER INSERT OR UPDATE ON bus_auth_revoked_tokens
  FOR EACH ROW EXECUTE FUNCTION bus_auth_notify_change();
CREATE TRIGGER bus_auth_revoked_tokens_deleted AFTER DELETE ON bus_auth_revoked_tokens REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_deleted();
CREATE TRIGGER bus_auth_revoked_tokens_truncated AFTER TRUNCATE ON bus_auth_revoked_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_truncated();
CREATE TRIGGER bus_auth_clients_changed AFTER INSERT OR UPDATE ON bus_auth_clients
  FOR EACH ROW EXECUTE FUNCTION bus_auth_notify_change();
CREATE TRIGGER bus_auth_clients_deleted AFTER DELETE ON bus_auth_clients REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_deleted();
CREATE TRIGGER bus_auth_clients_truncated AFTER TRUNCATE ON bus_auth_clients
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_truncated();
CREATE TRIGGER bus_auth_client_keys_changed AFTER INSERT OR UPDATE ON bus_auth_client_keys
  FOR EACH ROW EXECUTE FUNCTION bus_auth_notify_change();
CREATE TRIGGER bus_auth_client_keys_deleted AFTER DELETE ON bus_auth_client_keys REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_deleted();
CREATE TRIGGER bus_auth_client_keys_truncated AFTER TRUNCATE ON bus_auth_client_keys
  FOR EACH STATEMENT EXECUTE FUNCTION bus_auth_notify_truncated();
`,
  },
  {
    version: 8,
    description: "change notifications: a deletion whose revoked tokens or sessions had all expired (a purge) " +
      "sends e:<table> instead of x:<table>, so the replicas keep their caches",
    sql: `
CREATE OR REPLACE FUNCTION bus_auth_notify_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  expired boolean := false;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM gone) THEN
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'bus_auth_revoked_tokens' THEN
    expired := NOT EXISTS (SELECT 1 FROM gone WHERE expires_at > now());
  ELSIF TG_TABLE_NAME = 'bus_auth_sessions' THEN
    expired := NOT EXISTS (SELECT 1 FROM gone WHERE absolute_expires_at > now());
  END IF;
  PERFORM pg_notify('bus_auth_changes', CASE WHEN expired THEN 'e:' ELSE 'x:' END || TG_TABLE_NAME);
  RETURN NULL;
END
$fn$;
`,
  },
];

/** Key of the advisory lock that serialises `audit prune` runs across processes. */
export const POSTGRES_AUDIT_PRUNE_LOCK = 0x6275_7370; // "busp"

/** What migration 6 does to the privileges of `bus_auth_audit`, as `migrate --print-sql` says it. */
export const AUDIT_APPEND_ONLY_NOTE = `--
-- The audit trail bus_auth_audit is append-only (migration 6): the script revokes UPDATE, DELETE and
-- TRUNCATE on it from the role that applies it (CURRENT_USER), which keeps SELECT and INSERT. Apply it as
-- the role the provider connects as; if another role applies it, grant the provider's role only
-- SELECT, INSERT on bus_auth_audit. The table's owner keeps the right to grant them back:
-- "bus-api-provider-auth audit prune" grants its own role DELETE, deletes the records older than
-- BUS_AUTH_AUDIT_RETENTION_DAYS and revokes DELETE again, in one transaction. A superuser bypasses
-- privileges: never let the provider connect as one.
--`;

/**
 * The whole DDL as one idempotent script for manual application with
 * `psql -v ON_ERROR_STOP=1 -f`: it takes the same advisory lock as
 * `migrate`, skips versions already recorded, and records what it applies.
 */
export function postgresSchemaSql(): string {
  const steps = POSTGRES_MIGRATIONS.map((migration) => {
    const statements = splitStatements(migration.sql).map((statement) =>
      `    EXECUTE $ddl$${statement.replace(/\n/g, "\n      ")}$ddl$;`
    );
    return `-- ${migration.version}: ${migration.description}
DO $migration$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${POSTGRES_MIGRATIONS_TABLE} WHERE version = ${migration.version}) THEN
${statements.join("\n")}
    INSERT INTO ${POSTGRES_MIGRATIONS_TABLE} (version, description)
      VALUES (${migration.version}, '${migration.description.replace(/'/g, "''")}');
  END IF;
END
$migration$;`;
  });
  return `-- bus-api-provider-auth PostgreSQL schema (apply with: psql -v ON_ERROR_STOP=1 -f schema.sql)
${AUDIT_APPEND_ONLY_NOTE}
BEGIN;
SELECT pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK});
CREATE TABLE IF NOT EXISTS ${POSTGRES_MIGRATIONS_TABLE} (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
${steps.join("\n\n")}
COMMIT;
`;
}

/**
 * Splits a migration into its statements: each ends with `;` at a line end,
 * outside dollar-quoted text (`$fn$ … $fn$`, such as a function body).
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let quote: string | null = null;
  const tokens = /\$[A-Za-z_]*\$|;[ \t]*(?:\n|$)/g;
  for (let match = tokens.exec(sql); match !== null; match = tokens.exec(sql)) {
    if (match[0].startsWith("$")) {
      if (quote === null) quote = match[0];
      else if (quote === match[0]) quote = null;
    } else if (quote === null) {
      statements.push(sql.slice(start, match.index));
      start = match.index + match[0].length;
    }
  }
  statements.push(sql.slice(start));
  return statements.map((statement) => statement.trim()).filter((statement) => statement !== "");
}
