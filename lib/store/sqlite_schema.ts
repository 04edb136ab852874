/**
 * Versioned schema of the SQLite file store. Times are integer milliseconds
 * since the epoch. Each entry is applied once, in order, inside a write
 * transaction; never edit an entry that has shipped, add a new one.
 *
 * @module
 */

/** One schema step. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every migration of the SQLite store, oldest first. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "users, OTP challenges, sessions, revocations, rate limits",
    sql: `
CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
  status TEXT NOT NULL CHECK (status IN ('waitlisted', 'approved', 'rejected')),
  account_id TEXT UNIQUE,
  rejection_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX users_page ON users (created_at, user_id);
CREATE INDEX users_status_page ON users (status, created_at, user_id);

CREATE TABLE otp_challenges (
  email TEXT PRIMARY KEY,
  challenge_id TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  consumed_at INTEGER
);
CREATE INDEX otp_challenges_expiry ON otp_challenges (expires_at);

CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (user_id),
  created_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (absolute_expires_at);

CREATE TABLE revoked_tokens (
  token_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

CREATE TABLE rate_limits (
  key TEXT NOT NULL,
  window_ends_at INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, window_ends_at)
);
CREATE INDEX rate_limits_expiry ON rate_limits (window_ends_at);
`,
  },
  {
    version: 2,
    description: "users.tokens_not_before: API tokens issued at or before a rejection stay refused",
    sql: `
ALTER TABLE users ADD COLUMN tokens_not_before INTEGER;
`,
  },
  {
    version: 3,
    description: "otp_failures: wrong OTP guesses per email across codes, for the daily budget",
    sql: `
CREATE TABLE otp_failures (
  email TEXT NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE INDEX otp_failures_email ON otp_failures (email, failed_at);
CREATE INDEX otp_failures_expiry ON otp_failures (failed_at);
`,
  },
  {
    version: 4,
    description: "users.scope_policy: the scopes an account may be issued (NULL: the whole global list)",
    sql: `
ALTER TABLE users ADD COLUMN scope_policy TEXT;
`,
  },
  {
    version: 5,
    description: "clients and client_keys: named service clients with hashed, display-once keys",
    sql: `
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  audience TEXT NOT NULL,
  scopes TEXT NOT NULL,
  max_ttl_seconds INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE TABLE client_keys (
  key_id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (client_id),
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retires_at INTEGER
);
CREATE INDEX client_keys_client ON client_keys (client_id);
`,
  },
  {
    version: 6,
    description:
      "audit: one append-only row per privileged or security-relevant act; triggers refuse UPDATE, and DELETE " +
      "outside a prune (audit_prune holds the prune's cutoff while it runs)",
    sql: `
CREATE TABLE audit (
  audit_id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  detail TEXT,
  request_id TEXT,
  source_ip TEXT,
  outcome TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at, audit_id);
CREATE INDEX audit_actor ON audit (actor, at, audit_id);
CREATE INDEX audit_target ON audit (target, at, audit_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE audit_prune (before INTEGER NOT NULL);
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  WHEN NOT EXISTS (SELECT 1 FROM audit_prune WHERE OLD.at < audit_prune.before)
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: records leave only through audit prune'); END;
`,
  },
];
