/**
 * PostgreSQL store (`BUS_AUTH_POSTGRES_DSN`) on postgres.js, for several
 * provider processes sharing one database. The schema is
 * `store/postgres_schema.ts`; times are `timestamptz` in the database and
 * epoch milliseconds in the {@link Store} interface.
 *
 * Atomicity: single-statement upserts where one statement suffices
 * (registration, token revocation, rate limits, OTP challenge creation), and
 * READ COMMITTED transactions that lock the row first (`SELECT … FOR UPDATE`)
 * for the read-decide-write operations (OTP attempts, approval, rejection).
 * OTP code hashes are compared in constant time in the process, after the
 * lock. Migrations run in one transaction under an advisory lock.
 *
 * Availability: when the database cannot be reached every method fails fast
 * with `StoreUnavailableError` (HTTP 503). A connection attempt (TCP, TLS,
 * authentication) is bounded by `connectTimeoutSeconds`, each statement by
 * `statementTimeoutSeconds` (server side), and a whole operation, including
 * its wait for a pooled connection, by the sum of both plus one second
 * (client side). An operation past that deadline is abandoned and its pool
 * replaced, since its connections may be wedged. Connections open lazily, so
 * the same store recovers by itself when the database is back; reconnection
 * attempts back off by at most half a second. Connection-level failures
 * become `StoreUnavailableError`: network errors, postgres.js's
 * `CONNECT_TIMEOUT`, `CONNECTION_CLOSED` and `CONNECTION_ENDED` (closed
 * store), TLS and certificate errors (a server without TLS under an
 * `sslmode` that requires it says so in libpq's words), and the SQLSTATE classes `08`
 * (connection), `28` (authorization), `53` (resources, such as `53300`
 * too_many_connections), `57` (operator intervention: `57P01` admin_shutdown,
 * `57P02`, `57P03` cannot_connect_now, `57014` statement timeout), `58`
 * (system), plus `3D000` (no such database) and `25006` (read-only, as on a
 * standby after a failover). Any other error, a programming error, propagates
 * unchanged. No message contains the DSN or its password.
 *
 * Metrics: postgres.js reports nothing about its pool, so {@link PostgresStore.poolStats}
 * counts for itself: the sockets open now (through the socket factory) and
 * the operations running or waiting for a connection.
 *
 * TLS and the failure classification live in `postgres_connection.ts`.
 *
 * @module
 */

import type postgres from "postgres";
import { StoreUnavailableError } from "../errors.ts";
import { secretsEqual } from "../secret.ts";
import {
  type CreateChallengeResult,
  type DecisionResult,
  lockStateOf,
  type NewOtpChallenge,
  OTP_FAILURE_RETENTION_SECONDS,
  type OtpAttempt,
  type OtpAttemptResult,
  type OtpFailureBudget,
  type OtpLockState,
  type RateLimitResult,
  type SchemaState,
  type SessionRecord,
  type Store,
  type StorePoolStats,
  type UserCursor,
  type UserRecord,
  type UserStatus,
} from "./store.ts";
import type { AuditQuery, AuditRecord } from "./audit.ts";
import type { ClientRecord, ClientStore, CreateClientResult } from "./clients.ts";
import { PostgresAudit } from "./postgres_audit.ts";
import { PostgresClients } from "./postgres_clients.ts";
import {
  POSTGRES_MIGRATION_LOCK,
  POSTGRES_MIGRATIONS,
  POSTGRES_MIGRATIONS_TABLE,
  splitStatements,
} from "./postgres_schema.ts";

import {
  asUnavailable,
  type ClientArguments,
  clientArguments,
  createPool,
  type PostgresStoreConfig,
  type SocketCount,
} from "./postgres_connection.ts";

export type { PostgresStoreConfig };

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** Apply pending migrations on open (default true); otherwise only check that the database answers. */
  migrate?: boolean;
}

/** A row of `bus_auth_users`. */
interface UserRow {
  user_id: string;
  email: string;
  verified: boolean;
  status: string;
  account_id: string | null;
  rejection_reason: string | null;
  tokens_not_before: Date | null;
  scope_policy: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What the concern modules of the PostgreSQL store (clients, audit) use of it. */
export interface PostgresAccess {
  /** Runs one operation under the store's deadline; connection failures become `StoreUnavailableError`. */
  run<T>(body: (sql: postgres.Sql) => Promise<T>): Promise<T>;
  /** Runs `body` in a transaction. */
  transaction<T>(sql: postgres.Sql, body: (tx: postgres.TransactionSql) => Promise<T>): Promise<T>;
}

/** The newest migration of the PostgreSQL store. */
const POSTGRES_LATEST_VERSION = Math.max(...POSTGRES_MIGRATIONS.map((migration) => migration.version));
/** Statements of a migration (DDL on large tables) may run this long, at least. */
const MIGRATION_STATEMENT_TIMEOUT_SECONDS = 300;
/** Client-side slack on top of the connect and statement timeouts. */
const DEADLINE_MARGIN_MS = 1000;
/** Attempts of the optimistic OTP challenge upsert before giving up. */
const CHALLENGE_ATTEMPTS = 5;

/** A {@link Store} in a PostgreSQL database, shared safely by several processes. */
export class PostgresStore implements Store {
  readonly kind = "postgres";
  #sql: postgres.Sql;
  #config: PostgresStoreConfig;
  #client: ClientArguments;
  #deadlineMs: number;
  #closed = false;
  #sockets: SocketCount = { open: 0 };
  /** Operations in {@link PostgresStore.#run} now. */
  #inFlight = 0;
  #clients: PostgresClients;
  #audit: PostgresAudit;

  private constructor(config: PostgresStoreConfig) {
    this.#config = config;
    this.#client = clientArguments(config, this.#sockets);
    this.#sql = createPool(this.#client);
    this.#deadlineMs = (config.connectTimeoutSeconds + config.statementTimeoutSeconds) * 1000 + DEADLINE_MARGIN_MS;
    const access: PostgresAccess = { run: (body) => this.#run(body), transaction };
    this.#clients = new PostgresClients(access);
    this.#audit = new PostgresAudit(access);
  }

  /**
   * Creates the connection pool, then applies pending migrations (or, with
   * `migrate: false`, checks that the database answers).
   *
   * @throws `StoreUnavailableError` when the database cannot be reached
   * @throws Error when the DSN is invalid (the message never shows it)
   */
  static async open(config: PostgresStoreConfig, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(config);
    try {
      if (options.migrate ?? true) await store.migrate();
      else await store.ping();
      return store;
    } catch (error) {
      await store.#sql.end({ timeout: 0 }).catch(() => {});
      if (error instanceof StoreUnavailableError) {
        throw new StoreUnavailableError(
          error.message.replace(/^The PostgreSQL store is unavailable/, "Cannot open the PostgreSQL store"),
          { cause: error.cause },
        );
      }
      throw error;
    }
  }

  /**
   * Applies the migrations not yet recorded in `bus_auth_schema_migrations`,
   * in one transaction under the migration advisory lock: safe when several
   * processes start at once, and a no-op when the schema is current
   * (including after a manual `postgresSchemaSql()` run).
   *
   * @returns the versions applied now
   */
  migrate(): Promise<number[]> {
    const timeoutSeconds = Math.max(this.#config.statementTimeoutSeconds, MIGRATION_STATEMENT_TIMEOUT_SECONDS);
    return this.#run(
      (sql) =>
        sql.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL statement_timeout = ${Math.trunc(timeoutSeconds * 1000)}`);
          await tx.unsafe(`SELECT pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK})`);
          await tx.unsafe(
            `CREATE TABLE IF NOT EXISTS ${POSTGRES_MIGRATIONS_TABLE} (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`,
          );
          const rows = await tx.unsafe<{ version: number }[]>(`SELECT version FROM ${POSTGRES_MIGRATIONS_TABLE}`);
          const done = new Set(rows.map((row) => Number(row.version)));
          const applied: number[] = [];
          for (const migration of POSTGRES_MIGRATIONS) {
            if (done.has(migration.version)) continue;
            for (const statement of splitStatements(migration.sql)) await tx.unsafe(statement);
            await tx.unsafe(`INSERT INTO ${POSTGRES_MIGRATIONS_TABLE} (version, description) VALUES ($1, $2)`, [
              migration.version,
              migration.description,
            ]);
            applied.push(migration.version);
          }
          return applied;
        }),
      // Waiting for another process's migration may take longer than one operation.
      (timeoutSeconds + this.#config.connectTimeoutSeconds) * 1000 + DEADLINE_MARGIN_MS,
    );
  }

  ping(): Promise<void> {
    return this.#run(async (sql) => {
      await sql`SELECT 1`;
    });
  }

  schemaVersion(): Promise<SchemaState> {
    return this.#run(async (sql) => {
      const [row] = await sql<{ version: number | null }[]>`
        SELECT max(version) AS version FROM ${sql(POSTGRES_MIGRATIONS_TABLE)}`;
      return { current: Number(row?.version ?? 0), latest: POSTGRES_LATEST_VERSION };
    });
  }

  poolStats(): StorePoolStats {
    return { max: this.#config.poolMax, open: this.#sockets.open, inFlight: this.#inFlight };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#sql.end({ timeout: 5 });
  }

  registerUser(input: { userId: string; email: string; now: number }): Promise<{ user: UserRecord; created: boolean }> {
    return this.#run(async (sql) => {
      const now = new Date(input.now);
      const inserted = await sql<UserRow[]>`
        INSERT INTO bus_auth_users (user_id, email, verified, status, created_at, updated_at)
        VALUES (${input.userId}, ${input.email}, false, 'waitlisted', ${now}, ${now})
        ON CONFLICT (email) DO NOTHING
        RETURNING ${sql.unsafe(USER_COLUMNS)}`;
      if (inserted.length > 0) return { user: toUser(inserted[0]), created: true };
      // The conflicting row is committed (ON CONFLICT waited for it), so this statement sees it.
      const existing = await userBy(sql, "email", input.email);
      if (existing === null) throw new Error(`The user "${input.email}" vanished during registration`);
      return { user: existing, created: false };
    });
  }

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.#run((sql) => userBy(sql, "email", email));
  }

  findUserById(userId: string): Promise<UserRecord | null> {
    return this.#run((sql) => userBy(sql, "user_id", userId));
  }

  findUserByAccountId(accountId: string): Promise<UserRecord | null> {
    return this.#run((sql) => userBy(sql, "account_id", accountId));
  }

  createOtpChallenge(challenge: NewOtpChallenge): Promise<CreateChallengeResult> {
    return this.#run(async (sql) => {
      const resendMs = challenge.resendSeconds * 1000;
      const budget = challenge.failureBudget;
      const now = new Date(challenge.now);
      // One statement decides atomically: it registers the email when asked to and it has no user, reads its
      // failures inside the budget's window and upserts only while they are fewer than the budget and the previous
      // challenge is old enough. When it did not, the failures say whether the email is locked, else the row is
      // read to say how long to wait. The registration is a part of its own (the challenges do not reference the
      // users), idempotent when the statement runs again.
      for (let attempt = 0; attempt < CHALLENGE_ATTEMPTS; attempt++) {
        const windowStart = new Date(
          budget === undefined ? challenge.now : challenge.now - budget.windowSeconds * 1000,
        );
        const [{ replaced, failures }] = await sql<{ replaced: number; failures: number[] }[]>`
          WITH ${
          challenge.newUserId === undefined ? sql`` : sql`registered AS (
            INSERT INTO bus_auth_users (user_id, email, verified, status, created_at, updated_at)
            VALUES (${challenge.newUserId}, ${challenge.email}, false, 'waitlisted', ${now}, ${now})
            ON CONFLICT (email) DO NOTHING
          ), `
        }failures AS (
            SELECT failed_at FROM bus_auth_otp_failures
            WHERE ${budget !== undefined} AND email = ${challenge.email} AND failed_at > ${windowStart}
          ), upserted AS (
            INSERT INTO bus_auth_otp_challenges
              (email, challenge_id, code_hash, created_at, expires_at, attempts, consumed_at)
            SELECT ${challenge.email}, ${challenge.challengeId}, ${challenge.codeHash}, ${now},
              ${new Date(challenge.expiresAt)}, 0, NULL
            WHERE (SELECT count(*) FROM failures) < ${budget?.max ?? 1}
            ON CONFLICT (email) DO UPDATE SET challenge_id = excluded.challenge_id, code_hash = excluded.code_hash,
              created_at = excluded.created_at, expires_at = excluded.expires_at, attempts = 0, consumed_at = NULL
            WHERE bus_auth_otp_challenges.created_at <= ${new Date(challenge.now - resendMs)}
            RETURNING 1
          )
          SELECT (SELECT count(*) FROM upserted)::int AS replaced,
            (SELECT coalesce(json_agg(floor(extract(epoch FROM failed_at) * 1000)), '[]') FROM failures) AS failures`;
        if (replaced > 0) return { ok: true };
        if (budget !== undefined) {
          const lock = lockStateOf(failures, challenge.now, budget);
          if (lock.locked) return { ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds };
        }
        const [previous] = await sql<{ created_at: Date }[]>`
          SELECT created_at FROM bus_auth_otp_challenges WHERE email = ${challenge.email}`;
        if (previous === undefined) continue; // Deleted meanwhile: try again.
        const resendAt = previous.created_at.getTime() + resendMs;
        if (challenge.now < resendAt) {
          return {
            ok: false,
            reason: "resend_too_soon",
            retryAfterSeconds: Math.ceil((resendAt - challenge.now) / 1000),
          };
        }
      }
      throw new StoreUnavailableError("The PostgreSQL store is unavailable: the OTP challenge kept changing");
    });
  }

  deleteOtpChallenge(email: string, challengeId: string): Promise<void> {
    return this.#run(async (sql) => {
      await sql`DELETE FROM bus_auth_otp_challenges WHERE email = ${email} AND challenge_id = ${challengeId}`;
    });
  }

  attemptOtp(input: OtpAttempt): Promise<OtpAttemptResult> {
    return this.#run((sql) =>
      transaction(sql, async (tx): Promise<OtpAttemptResult> => {
        const budget = input.failureBudget;
        const windowStart = new Date(input.now - budget.windowSeconds * 1000);
        // The challenge row lock serialises the attempts of one email across replicas. The same statement reads
        // the email's failures, as its snapshot shows them: the snapshot is taken before any wait for the lock, so
        // an attempt that held it may have added a failure since. Every failure is written together with an update
        // of the challenge row, so when the locked row (the newest) is still the snapshot's, none was added and the
        // failures read are current; else they are read again, the lock held. One round trip instead of two.
        const [challenge] = await tx<ChallengeAttemptRow[]>`
          SELECT c.code_hash, c.expires_at, c.attempts, c.consumed_at,
            (SELECT s.challenge_id = c.challenge_id AND s.attempts = c.attempts
                AND s.consumed_at IS NOT DISTINCT FROM c.consumed_at
              FROM bus_auth_otp_challenges s WHERE s.email = c.email) AS unchanged,
            (SELECT coalesce(json_agg(floor(extract(epoch FROM failed_at) * 1000)), '[]') FROM bus_auth_otp_failures
              WHERE email = c.email AND failed_at > ${windowStart}) AS failures
          FROM bus_auth_otp_challenges c WHERE c.email = ${input.email} FOR UPDATE OF c`;
        const failures = challenge?.unchanged === true
          ? challenge.failures
          : await failureTimes(tx, input.email, windowStart);
        const lock = lockStateOf(failures, input.now, budget);
        if (lock.locked) return { ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds };
        if (challenge === undefined) return { ok: false, reason: "not_requested" };
        if (challenge.consumed_at !== null) return { ok: false, reason: "used" };
        if (input.now >= challenge.expires_at.getTime()) return { ok: false, reason: "expired" };
        const attempts = Number(challenge.attempts);
        if (attempts >= input.maxAttempts) return { ok: false, reason: "exhausted" };
        if (!secretsEqual(challenge.code_hash, input.codeHash)) {
          // No other attempt of this email can add a failure while this one holds the lock: the failures read
          // and this one are all there are.
          await tx`
            WITH counted AS (
              UPDATE bus_auth_otp_challenges SET attempts = attempts + 1 WHERE email = ${input.email}
            )
            INSERT INTO bus_auth_otp_failures (email, failed_at) VALUES (${input.email}, ${new Date(input.now)})`;
          return {
            ok: false,
            reason: "mismatch",
            attemptsLeft: input.maxAttempts - attempts - 1,
            lockedNow: lockStateOf([...failures, input.now], input.now, budget).locked,
          };
        }
        // One statement (one round trip, not four): the code is consumed, the email's failures cleared, the user
        // verified and the session started. Its parts touch different tables (the session takes the user id the
        // update returns), so the snapshot they share changes nothing.
        const now = new Date(input.now);
        const session = input.session;
        const [user] = await tx<UserRow[]>`
          WITH consumed AS (
            UPDATE bus_auth_otp_challenges SET consumed_at = ${now} WHERE email = ${input.email}
          ), cleared AS (
            DELETE FROM bus_auth_otp_failures WHERE email = ${input.email}
          ), verified AS (
            UPDATE bus_auth_users SET verified = true,
              updated_at = CASE WHEN verified THEN updated_at ELSE ${now}::timestamptz END
            WHERE email = ${input.email}
            RETURNING ${tx.unsafe(USER_COLUMNS)}
          )${
          session === undefined ? tx`` : tx`, started AS (
            INSERT INTO bus_auth_sessions (session_id, user_id, created_at, absolute_expires_at)
            SELECT ${session.sessionId}, user_id, ${now}, ${new Date(session.absoluteExpiresAt)} FROM verified
          )`
        }
          SELECT * FROM verified`;
        return user ? { ok: true, user: toUser(user) } : { ok: false, reason: "not_requested" };
      })
    );
  }

  otpLockState(input: { email: string; now: number; failureBudget: OtpFailureBudget }): Promise<OtpLockState> {
    return this.#run((sql) => lockState(sql, input.email, input.now, input.failureBudget));
  }

  createSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }): Promise<void> {
    return this.#run(async (sql) => {
      await sql`
        INSERT INTO bus_auth_sessions (session_id, user_id, created_at, absolute_expires_at)
        VALUES (${session.sessionId}, ${session.userId}, ${new Date(session.now)},
          ${new Date(session.absoluteExpiresAt)})`;
    });
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.#run(async (sql) => {
      const [row] = await sql<
        { session_id: string; user_id: string; created_at: Date; absolute_expires_at: Date; revoked_at: Date | null }[]
      >`
        SELECT session_id, user_id, created_at, absolute_expires_at, revoked_at FROM bus_auth_sessions
        WHERE session_id = ${sessionId}`;
      return row
        ? {
          sessionId: row.session_id,
          userId: row.user_id,
          createdAt: row.created_at.getTime(),
          absoluteExpiresAt: row.absolute_expires_at.getTime(),
          revokedAt: row.revoked_at === null ? null : row.revoked_at.getTime(),
        }
        : null;
    });
  }

  revokeSession(sessionId: string, now: number): Promise<void> {
    return this.#run(async (sql) => {
      await sql`
        UPDATE bus_auth_sessions SET revoked_at = ${new Date(now)}
        WHERE session_id = ${sessionId} AND revoked_at IS NULL`;
    });
  }

  revokeToken(input: { tokenId: string; expiresAt: number; now: number }): Promise<boolean> {
    return this.#run(async (sql) => {
      const result = await sql`
        INSERT INTO bus_auth_revoked_tokens (token_id, expires_at) VALUES (${input.tokenId}, ${new Date(
        input.expiresAt,
      )})
        ON CONFLICT (token_id) DO NOTHING`;
      return result.count === 1;
    });
  }

  isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.#run(async (sql) => {
      const rows = await sql`SELECT 1 FROM bus_auth_revoked_tokens WHERE token_id = ${tokenId}`;
      return rows.length > 0;
    });
  }

  listRevokedTokenIds(limit: number): Promise<string[] | null> {
    return this.#run(async (sql) => {
      // Counted first: a list over the limit is not sent and parsed only to be thrown away (100,000 ids: about 13
      // ms counted, 77-119 ms read, most of it parsing on the event loop).
      const [counted] = await sql<{ over: boolean }[]>`
        SELECT count(*) > ${limit} AS over FROM (SELECT 1 FROM bus_auth_revoked_tokens LIMIT ${limit + 1}) AS listed`;
      if (counted.over) return null;
      const rows = await sql<{ token_id: string }[]>`SELECT token_id FROM bus_auth_revoked_tokens LIMIT ${limit + 1}`;
      return rows.length > limit ? null : rows.map((row) => row.token_id);
    });
  }

  approveUser(
    input: { email: string; accountId: string; now: number; scopePolicy?: readonly string[] | null },
  ): Promise<DecisionResult> {
    return this.#run((sql) =>
      transaction(sql, async (tx): Promise<DecisionResult> => {
        let user = await userBy(tx, "email", input.email, true);
        if (!user) return { ok: false, reason: "not_found" };
        if (!user.verified) return { ok: false, reason: "not_verified" };
        const changed = user.status !== "approved";
        if (changed) {
          const [row] = await tx<UserRow[]>`
            UPDATE bus_auth_users SET status = 'approved', account_id = COALESCE(account_id, ${input.accountId}),
              updated_at = ${new Date(input.now)}
            WHERE user_id = ${user.userId}
            RETURNING ${tx.unsafe(USER_COLUMNS)}`;
          user = toUser(row);
        }
        if (input.scopePolicy !== undefined) {
          const [row] = await tx<UserRow[]>`
            UPDATE bus_auth_users SET scope_policy = ${input.scopePolicy === null ? null : input.scopePolicy.join(" ")},
              updated_at = ${new Date(input.now)}
            WHERE user_id = ${user.userId}
            RETURNING ${tx.unsafe(USER_COLUMNS)}`;
          user = toUser(row);
        }
        return { ok: true, user, changed };
      })
    );
  }

  setScopePolicy(
    input: { accountId: string; scopes: readonly string[] | null; now: number },
  ): Promise<UserRecord | null> {
    return this.#run(async (sql) => {
      const [row] = await sql<UserRow[]>`
        UPDATE bus_auth_users SET scope_policy = ${input.scopes === null ? null : input.scopes.join(" ")},
          updated_at = ${new Date(input.now)}
        WHERE account_id = ${input.accountId}
        RETURNING ${sql.unsafe(USER_COLUMNS)}`;
      return row ? toUser(row) : null;
    });
  }

  rejectUser(input: { email: string; reason: string | null; now: number }): Promise<DecisionResult> {
    return this.#run((sql) =>
      transaction(sql, async (tx): Promise<DecisionResult> => {
        const user = await userBy(tx, "email", input.email, true);
        if (!user) return { ok: false, reason: "not_found" };
        if (user.status === "rejected") return { ok: true, user, changed: false };
        const now = new Date(input.now);
        const [row] = await tx<UserRow[]>`
          UPDATE bus_auth_users SET status = 'rejected', rejection_reason = ${input.reason}, updated_at = ${now},
            tokens_not_before = GREATEST(tokens_not_before, ${now}::timestamptz)
          WHERE user_id = ${user.userId}
          RETURNING ${tx.unsafe(USER_COLUMNS)}`;
        return { ok: true, user: toUser(row), changed: true };
      })
    );
  }

  listUsers(input: { status: UserStatus | null; limit: number; after: UserCursor | null }): Promise<UserRecord[]> {
    return this.#run(async (sql) => {
      const { status, after } = input;
      // Keyset pagination served by bus_auth_users_status_page, or bus_auth_users_page without a status.
      const rows = await sql<UserRow[]>`
        SELECT ${sql.unsafe(USER_COLUMNS)} FROM bus_auth_users
        WHERE true
          ${status === null ? sql`` : sql`AND status = ${status}`}
          ${after === null ? sql`` : sql`AND (created_at, user_id) > (${new Date(after.createdAt)}, ${after.userId})`}
        ORDER BY created_at, user_id
        LIMIT ${input.limit}`;
      return rows.map(toUser);
    });
  }

  hitRateLimit(input: { key: string; limit: number; windowSeconds: number; now: number }): Promise<RateLimitResult> {
    return this.#run(async (sql) => {
      const windowMs = input.windowSeconds * 1000;
      const endsAt = Math.floor(input.now / windowMs) * windowMs + windowMs;
      const rows = await sql`
        INSERT INTO bus_auth_rate_limits (key, window_ends_at, count) VALUES (${input.key}, ${new Date(endsAt)}, 1)
        ON CONFLICT (key, window_ends_at) DO UPDATE SET count = bus_auth_rate_limits.count + 1
        WHERE bus_auth_rate_limits.count < ${input.limit}
        RETURNING count`;
      return { allowed: rows.length > 0, retryAfterSeconds: Math.ceil((endsAt - input.now) / 1000) };
    });
  }

  purgeExpired(now: number): Promise<void> {
    return this.#run((sql) =>
      transaction(sql, async (tx) => {
        const at = new Date(now);
        await tx`DELETE FROM bus_auth_otp_challenges WHERE expires_at <= ${at}`;
        await tx`DELETE FROM bus_auth_revoked_tokens WHERE expires_at <= ${at}`;
        await tx`DELETE FROM bus_auth_rate_limits WHERE window_ends_at <= ${at}`;
        await tx`DELETE FROM bus_auth_sessions WHERE absolute_expires_at <= ${at}`;
        await tx`DELETE FROM bus_auth_otp_failures
          WHERE failed_at <= ${new Date(now - OTP_FAILURE_RETENTION_SECONDS * 1000)}`;
      })
    );
  }

  /**
   * Runs one operation: bounded by a client-side deadline, with connection
   * failures turned into `StoreUnavailableError`. An operation that misses
   * its deadline is abandoned, and the pool it ran on is replaced: its
   * connections may be wedged (a peer gone without a reset, or a peer that
   * keeps hanging up during TLS start-up, on which postgres.js retries
   * forever), and ending it fails whatever still waits on it.
   */
  async #run<T>(body: (sql: postgres.Sql) => Promise<T>, deadlineMs = this.#deadlineMs): Promise<T> {
    const sql = this.#sql;
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.#inFlight++;
    const work = body(sql);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#replacePool(sql);
        const seconds = Math.ceil(deadlineMs / 1000);
        reject(new StoreUnavailableError(`The PostgreSQL store is unavailable: no answer within "${seconds}" seconds`));
      }, deadlineMs);
    });
    try {
      return await Promise.race([work, deadline]);
    } catch (error) {
      throw asUnavailable(error);
    } finally {
      this.#inFlight--;
      clearTimeout(timer);
      // An abandoned operation may still fail later: that failure is not unhandled.
      work.catch(() => {});
    }
  }

  /** Replaces `stale` with a fresh pool, once, unless the store was closed. */
  #replacePool(stale: postgres.Sql): void {
    if (this.#closed || this.#sql !== stale) return;
    this.#sql = createPool(this.#client);
    stale.end({ timeout: 0 }).catch(() => {});
  }

  // Service clients and the audit trail live in their own modules.
  createClient(input: Parameters<ClientStore["createClient"]>[0]): Promise<CreateClientResult> {
    return this.#clients.createClient(input);
  }
  findClientById(clientId: string): Promise<ClientRecord | null> {
    return this.#clients.findClientById(clientId);
  }
  findClientByName(name: string): Promise<ClientRecord | null> {
    return this.#clients.findClientByName(name);
  }
  listClients(): Promise<ClientRecord[]> {
    return this.#clients.listClients();
  }
  rotateClientKey(input: Parameters<ClientStore["rotateClientKey"]>[0]): Promise<ClientRecord | null> {
    return this.#clients.rotateClientKey(input);
  }
  revokeClient(input: { clientId: string; now: number }): Promise<ClientRecord | null> {
    return this.#clients.revokeClient(input);
  }
  touchClient(input: { clientId: string; now: number }): Promise<void> {
    return this.#clients.touchClient(input);
  }
  appendAudit(record: AuditRecord): Promise<void> {
    return this.#audit.appendAudit(record);
  }
  listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#audit.listAudit(query);
  }
  pruneAudit(before: number): Promise<number> {
    return this.#audit.pruneAudit(before);
  }
}

/** The lock state of an email from its failures inside the budget's window. */
async function lockState(
  sql: postgres.Sql | postgres.TransactionSql,
  email: string,
  now: number,
  budget: OtpFailureBudget,
): Promise<OtpLockState> {
  return lockStateOf(await failureTimes(sql, email, new Date(now - budget.windowSeconds * 1000)), now, budget);
}

/** The times (ms) of an email's failures after `windowStart`. */
async function failureTimes(
  sql: postgres.Sql | postgres.TransactionSql,
  email: string,
  windowStart: Date,
): Promise<number[]> {
  const rows = await sql<{ failed_at: Date }[]>`
    SELECT failed_at FROM bus_auth_otp_failures WHERE email = ${email} AND failed_at > ${windowStart}`;
  return rows.map((row) => row.failed_at.getTime());
}

/** What `attemptOtp` reads of a challenge: the row, whether the snapshot's is the same, the email's failures. */
interface ChallengeAttemptRow {
  code_hash: string;
  expires_at: Date;
  attempts: number;
  consumed_at: Date | null;
  unchanged: boolean;
  failures: number[];
}

const USER_COLUMNS =
  "user_id, email, verified, status, account_id, rejection_reason, tokens_not_before, scope_policy, created_at, updated_at";

/** Reads one user by a unique column; `lock` takes the row lock for the rest of the transaction. */
async function userBy(
  sql: postgres.Sql | postgres.TransactionSql,
  column: "email" | "user_id" | "account_id",
  value: string,
  lock = false,
): Promise<UserRecord | null> {
  const [row] = await sql<UserRow[]>`
    SELECT ${sql.unsafe(USER_COLUMNS)} FROM bus_auth_users WHERE ${sql(column)} = ${value}
    ${lock ? sql`FOR UPDATE` : sql``}`;
  return row ? toUser(row) : null;
}

/** Runs `body` in a transaction (READ COMMITTED); typed without postgres.js's array unwrapping. */
export async function transaction<T>(sql: postgres.Sql, body: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return await sql.begin(body) as T;
}

function toUser(row: UserRow): UserRecord {
  return {
    userId: row.user_id,
    email: row.email,
    verified: row.verified,
    status: row.status as UserStatus,
    accountId: row.account_id,
    rejectionReason: row.rejection_reason,
    tokensNotBefore: row.tokens_not_before === null ? null : row.tokens_not_before.getTime(),
    scopePolicy: row.scope_policy === null ? null : row.scope_policy === "" ? [] : row.scope_policy.split(" "),
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
  };
}
