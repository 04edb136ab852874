/**
 * SQLite file store (`BUS_AUTH_STORE_PATH`) on `node:sqlite`, in WAL mode.
 * Every read-modify-write runs in a `BEGIN IMMEDIATE` transaction, so the
 * guarantees hold across processes sharing the file, not only within one.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
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
  type UserCursor,
  type UserRecord,
  type UserStatus,
} from "./store.ts";
import { SQLITE_MIGRATIONS } from "./sqlite_schema.ts";

import type { AuditQuery, AuditRecord } from "./audit.ts";
import type { ClientRecord, ClientStore, CreateClientResult } from "./clients.ts";
import { SqliteAudit } from "./sqlite_audit.ts";
import { SqliteClients } from "./sqlite_clients.ts";
import { WalCheckpointer } from "./wal_checkpointer.ts";
import { pause } from "../event_loop.ts";

/** The newest migration of the SQLite store. */
const SQLITE_LATEST_VERSION = Math.max(...SQLITE_MIGRATIONS.map((migration) => migration.version));

/** What the concern modules of the SQLite store (clients, audit) use of it. */
export interface SqliteAccess {
  /** Runs a body; engine failures become `StoreUnavailableError`. */
  run<T>(body: () => T): Promise<T>;
  /** A prepared statement, cached. */
  prepare(sql: string): StatementSync;
  /** Runs a body in a `BEGIN IMMEDIATE` transaction. */
  transaction<T>(body: () => T): T;
}

type Row = Record<string, SQLInputValue>;

const USER_COLUMNS =
  "user_id, email, verified, status, account_id, rejection_reason, tokens_not_before, scope_policy, created_at, updated_at";
const BUSY_TIMEOUT_MS = 5000;
// Messages of engine conditions (not programming errors) that mean "the store
// cannot serve right now"; Deno's node:sqlite errors carry no numeric code.
const UNAVAILABLE =
  /locked|busy|unable to open|disk|I\/O|readonly|read-only|full|corrupt|not a database|not open|closed/i;

/**
 * Bytes of the database file that SQLite reads through a memory map
 * (`PRAGMA mmap_size`) instead of a `pread` into its 2 MB page cache for
 * every page it misses. At a million users most pages a call touches are
 * such misses; interleaved runs of `bench/store_bench.ts` at a million
 * users (sixth session, `docs/BENCHMARKS.md`): admin approve 14-15 µs
 * against 18-23 µs without, a waitlist page 226-259 µs against 365-411 µs;
 * at a thousand users no difference. Writes still go through the
 * write-ahead log. The mapped pages are the kernel's file cache, counted
 * in the process's resident memory while mapped and reclaimed like any
 * file cache; an I/O error while reading a mapped page ends the process
 * (`SIGBUS`) instead of failing the call.
 */
export const MMAP_BYTES = 1024 * 1024 * 1024;

/**
 * WAL pages after which a commit copies the log back into the database
 * file (SQLite's `wal_autocheckpoint`, 1000 by default) when checkpoints
 * run in line: in the command-line programs, and in the provider if its
 * checkpoint worker fails ({@link SqliteStore.checkpointInWorker}). The
 * copy runs in the committing call, on the event loop, so its length is a
 * pause for every request in flight: with 1000 pages, the internal token
 * endpoint (an audit record a request) had a p99 of 14-15 ms at 32
 * connections; with 100 pages, 8-9 ms, for about 15 % fewer of its
 * requests a second (`bench/http_bench.ts --stores sqlite --only internal`).
 */
export const WAL_CHECKPOINT_PAGES = 100;

/**
 * WAL pages after which a commit checkpoints in line while a worker
 * checkpoints ({@link SqliteStore.checkpointInWorker}): a backstop, reached
 * only when the worker falls behind or the log is never wholly copied at
 * the start of a write (SQLite restarts the log from its beginning only
 * then), so the log stays bounded.
 */
export const WAL_BACKSTOP_PAGES = 4000;

/** Expired rows one statement of a purge deletes: a few ms of the event loop each. */
export const PURGE_BATCH_ROWS = 1000;

/** Revoked token ids read at a time when the cache loads the revocation list: about 2 ms of the event loop each. */
export const REVOKED_PAGE_IDS = 2000;

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /**
   * `PRAGMA synchronous` of the file: `NORMAL` (default) survives a process
   * crash but may lose the last commit on power loss; `FULL` syncs each commit.
   */
  synchronous?: "NORMAL" | "FULL";
}

/** A {@link Store} in one SQLite file. */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #clients: SqliteClients;
  #audit: SqliteAudit;
  #path: string;
  #checkpointer: WalCheckpointer | null = null;

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
    const access: SqliteAccess = {
      run: (body) => this.#run(body),
      prepare: (sql) => this.#prepare(sql),
      transaction: (body) => this.#transaction(body),
    };
    this.#clients = new SqliteClients(access);
    this.#audit = new SqliteAudit(access);
  }

  /**
   * Opens (creating when missing, with mode 0600 and a 0700 folder) the
   * database file, switches it to WAL and applies pending migrations.
   * `":memory:"` opens a private in-memory database.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    try {
      if (path !== ":memory:") prepareFile(path);
      const db = new DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON;`);
      const synchronous = options.synchronous === "FULL" ? "FULL" : "NORMAL";
      if (path !== ":memory:") {
        db.exec(
          `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; ` +
            `PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}; PRAGMA mmap_size = ${MMAP_BYTES};`,
        );
      }
      const store = new SqliteStore(db, path);
      if (options.migrate ?? true) store.migrate();
      return store;
    } catch (error) {
      throw asUnavailable(error, `Cannot open the SQLite store "${path}"`);
    }
  }
  /**
   * Moves the WAL checkpoints to a worker thread with its own connection
   * (`wal_checkpointer.ts`), off the event loop. Commits still checkpoint in
   * line past {@link WAL_BACKSTOP_PAGES}, and again every
   * {@link WAL_CHECKPOINT_PAGES} if the worker fails (`onFailure` is told why).
   *
   * @returns whether the worker runs; `false`: checkpoints stay in line (an in-memory database, or the worker did not start)
   */
  async checkpointInWorker(
    options: { onFailure?: (message: string) => void; intervalMs?: number; workerUrl?: string } = {},
  ): Promise<boolean> {
    if (this.#path === ":memory:" || this.#checkpointer !== null) return this.#checkpointer?.running ?? false;
    try {
      this.#checkpointer = await WalCheckpointer.start(this.#path, {
        busyTimeoutMs: BUSY_TIMEOUT_MS,
        intervalMs: options.intervalMs,
        workerUrl: options.workerUrl,
        onFailure: (message) => {
          if (this.#db.isOpen) this.#db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES};`);
          options.onFailure?.(message);
        },
      });
    } catch (error) {
      options.onFailure?.(error instanceof Error ? error.message : String(error));
      return false;
    }
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${WAL_BACKSTOP_PAGES};`);
    return true;
  }

  /**
   * The journal mode, `synchronous` level and WAL checkpoint threshold (in
   * pages) the file is open with, as SQLite reports them, and where
   * checkpoints run: in a worker ({@link SqliteStore.checkpointInWorker}) or in line.
   */
  durability(): {
    journalMode: string;
    synchronous: "OFF" | "NORMAL" | "FULL" | "EXTRA";
    checkpointPages: number;
    checkpoints: "worker" | "inline";
  } {
    const journal = this.#db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    const level = (this.#db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
    const checkpoint = this.#db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number };
    return {
      journalMode: journal.journal_mode,
      synchronous: (["OFF", "NORMAL", "FULL", "EXTRA"] as const)[level],
      checkpointPages: checkpoint.wal_autocheckpoint,
      checkpoints: this.#checkpointer?.running ? "worker" : "inline",
    };
  }

  /**
   * Applies the migrations newer than the file's schema version.
   * @returns the versions applied now
   */
  migrate(): number[] {
    return this.#transaction(() => {
      this.#db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
      );
      const row = this.#prepare("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations").get() as Row;
      const applied: number[] = [];
      for (const migration of SQLITE_MIGRATIONS) {
        if (migration.version <= Number(row.version)) continue;
        this.#db.exec(migration.sql);
        this.#prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
          migration.version,
          Date.now(),
        );
        applied.push(migration.version);
      }
      return applied;
    });
  }

  ping(): Promise<void> {
    return this.#run(() => {
      this.#prepare("SELECT 1 FROM users LIMIT 1").get();
    });
  }

  schemaVersion(): Promise<SchemaState> {
    return this.#run(() => {
      const row = this.#prepare("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations").get() as Row;
      return { current: Number(row.version), latest: SQLITE_LATEST_VERSION };
    });
  }

  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    this.#audit.flush();
    const checkpointer = this.#checkpointer;
    this.#checkpointer = null;
    await checkpointer?.close();
    if (this.#db.isOpen) this.#db.close();
  }

  registerUser(input: { userId: string; email: string; now: number }): Promise<{ user: UserRecord; created: boolean }> {
    return this.#run(() => {
      const inserted = this.#prepare(
        `INSERT INTO users (user_id, email, verified, status, created_at, updated_at)
         VALUES (?, ?, 0, 'waitlisted', ?, ?) ON CONFLICT (email) DO NOTHING RETURNING ${USER_COLUMNS}`,
      ).get(input.userId, input.email, input.now, input.now) as Row | undefined;
      if (inserted) return { user: toUser(inserted), created: true };
      return { user: this.#userBy("email", input.email)!, created: false };
    });
  }

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.#run(() => this.#userBy("email", email));
  }

  findUserById(userId: string): Promise<UserRecord | null> {
    return this.#run(() => this.#userBy("user_id", userId));
  }

  findUserByAccountId(accountId: string): Promise<UserRecord | null> {
    return this.#run(() => this.#userBy("account_id", accountId));
  }

  createOtpChallenge(challenge: NewOtpChallenge): Promise<CreateChallengeResult> {
    return this.#run(() =>
      this.#transaction((): CreateChallengeResult => {
        if (challenge.newUserId !== undefined) {
          this.#prepare(
            `INSERT INTO users (user_id, email, verified, status, created_at, updated_at)
             VALUES (?, ?, 0, 'waitlisted', ?, ?) ON CONFLICT (email) DO NOTHING`,
          ).run(challenge.newUserId, challenge.email, challenge.now, challenge.now);
        }
        if (challenge.failureBudget !== undefined) {
          const lock = this.#lockState(challenge.email, challenge.now, challenge.failureBudget);
          if (lock.locked) return { ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds };
        }
        const previous = this.#prepare("SELECT created_at FROM otp_challenges WHERE email = ?").get(
          challenge.email,
        ) as Row | undefined;
        const resendAt = previous ? Number(previous.created_at) + challenge.resendSeconds * 1000 : 0;
        if (previous && challenge.now < resendAt) {
          return {
            ok: false,
            reason: "resend_too_soon",
            retryAfterSeconds: Math.ceil((resendAt - challenge.now) / 1000),
          };
        }
        this.#prepare(
          `INSERT INTO otp_challenges (email, challenge_id, code_hash, created_at, expires_at, attempts, consumed_at)
           VALUES (?, ?, ?, ?, ?, 0, NULL)
           ON CONFLICT (email) DO UPDATE SET challenge_id = excluded.challenge_id, code_hash = excluded.code_hash,
             created_at = excluded.created_at, expires_at = excluded.expires_at, attempts = 0, consumed_at = NULL`,
        ).run(challenge.email, challenge.challengeId, challenge.codeHash, challenge.now, challenge.expiresAt);
        return { ok: true };
      })
    );
  }

  deleteOtpChallenge(email: string, challengeId: string): Promise<void> {
    return this.#run(() => {
      this.#prepare("DELETE FROM otp_challenges WHERE email = ? AND challenge_id = ?").run(email, challengeId);
    });
  }

  attemptOtp(input: OtpAttempt): Promise<OtpAttemptResult> {
    return this.#run(() =>
      this.#transaction((): OtpAttemptResult => {
        const lock = this.#lockState(input.email, input.now, input.failureBudget);
        if (lock.locked) return { ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds };
        const challenge = this.#prepare(
          "SELECT code_hash, expires_at, attempts, consumed_at FROM otp_challenges WHERE email = ?",
        ).get(input.email) as Row | undefined;
        if (!challenge) return { ok: false, reason: "not_requested" };
        if (challenge.consumed_at !== null) return { ok: false, reason: "used" };
        if (input.now >= Number(challenge.expires_at)) return { ok: false, reason: "expired" };
        const attempts = Number(challenge.attempts);
        if (attempts >= input.maxAttempts) return { ok: false, reason: "exhausted" };
        if (!secretsEqual(String(challenge.code_hash), input.codeHash)) {
          this.#prepare("UPDATE otp_challenges SET attempts = attempts + 1 WHERE email = ?").run(input.email);
          this.#prepare("INSERT INTO otp_failures (email, failed_at) VALUES (?, ?)").run(input.email, input.now);
          return {
            ok: false,
            reason: "mismatch",
            attemptsLeft: input.maxAttempts - attempts - 1,
            lockedNow: this.#lockState(input.email, input.now, input.failureBudget).locked,
          };
        }
        this.#prepare("UPDATE otp_challenges SET consumed_at = ? WHERE email = ?").run(input.now, input.email);
        this.#prepare("DELETE FROM otp_failures WHERE email = ?").run(input.email);
        const user = this.#prepare(
          `UPDATE users SET verified = 1, updated_at = CASE WHEN verified = 1 THEN updated_at ELSE ? END
           WHERE email = ? RETURNING ${USER_COLUMNS}`,
        ).get(input.now, input.email) as Row | undefined;
        if (!user) return { ok: false, reason: "not_requested" };
        if (input.session !== undefined) {
          this.#insertSession({ ...input.session, userId: String(user.user_id), now: input.now });
        }
        return { ok: true, user: toUser(user) };
      })
    );
  }

  otpLockState(input: { email: string; now: number; failureBudget: OtpFailureBudget }): Promise<OtpLockState> {
    return this.#run(() => this.#lockState(input.email, input.now, input.failureBudget));
  }

  #lockState(email: string, now: number, budget: OtpFailureBudget): OtpLockState {
    const rows = this.#prepare("SELECT failed_at FROM otp_failures WHERE email = ? AND failed_at > ?")
      .all(email, now - budget.windowSeconds * 1000) as Row[];
    return lockStateOf(rows.map((row) => Number(row.failed_at)), now, budget);
  }

  createSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }): Promise<void> {
    return this.#run(() => this.#insertSession(session));
  }

  #insertSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }): void {
    this.#prepare(
      "INSERT INTO sessions (session_id, user_id, created_at, absolute_expires_at) VALUES (?, ?, ?, ?)",
    ).run(session.sessionId, session.userId, session.now, session.absoluteExpiresAt);
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.#run(() => {
      const row = this.#prepare(
        "SELECT session_id, user_id, created_at, absolute_expires_at, revoked_at FROM sessions WHERE session_id = ?",
      ).get(sessionId) as Row | undefined;
      return row
        ? {
          sessionId: String(row.session_id),
          userId: String(row.user_id),
          createdAt: Number(row.created_at),
          absoluteExpiresAt: Number(row.absolute_expires_at),
          revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
        }
        : null;
    });
  }

  revokeSession(sessionId: string, now: number): Promise<void> {
    return this.#run(() => {
      this.#prepare("UPDATE sessions SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL").run(
        now,
        sessionId,
      );
    });
  }

  revokeToken(input: { tokenId: string; expiresAt: number; now: number }): Promise<boolean> {
    return this.#run(() => {
      const result = this.#prepare(
        "INSERT INTO revoked_tokens (token_id, expires_at) VALUES (?, ?) ON CONFLICT (token_id) DO NOTHING",
      ).run(input.tokenId, input.expiresAt);
      return Number(result.changes) === 1;
    });
  }

  isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.#run(() => this.#prepare("SELECT 1 FROM revoked_tokens WHERE token_id = ?").get(tokenId) !== undefined);
  }

  /**
   * Counted first: a list over the limit is not read only to be thrown away
   * (100,000 ids: about 5 ms counted, 68-143 ms read). A list within it is
   * read in pages of {@link REVOKED_PAGE_IDS}, the event loop free between
   * them, instead of stopping every request for the whole read. A change by
   * another connection between two pages changes the file's data version,
   * and the cache drops whatever it loaded (`factory.ts`).
   */
  async listRevokedTokenIds(limit: number): Promise<string[] | null> {
    try {
      const counted = this.#prepare("SELECT count(*) AS listed FROM (SELECT 1 FROM revoked_tokens LIMIT ?)").get(
        limit + 1,
      ) as { listed: number };
      if (counted.listed > limit) return null;
      const page = this.#prepare(
        "SELECT rowid AS row, token_id FROM revoked_tokens WHERE rowid > ? ORDER BY rowid LIMIT ?",
      );
      const ids: string[] = [];
      for (let after = 0;;) {
        const rows = page.all(after, REVOKED_PAGE_IDS);
        for (const row of rows) ids.push(String(row.token_id));
        if (ids.length > limit) return null;
        if (rows.length < REVOKED_PAGE_IDS) return ids;
        after = Number(rows[rows.length - 1].row);
        await pause();
      }
    } catch (error) {
      throw asUnavailable(error, "The SQLite store failed");
    }
  }

  approveUser(
    input: { email: string; accountId: string; now: number; scopePolicy?: readonly string[] | null },
  ): Promise<DecisionResult> {
    return this.#run(() =>
      this.#transaction((): DecisionResult => {
        let user = this.#userBy("email", input.email);
        if (!user) return { ok: false, reason: "not_found" };
        if (!user.verified) return { ok: false, reason: "not_verified" };
        const changed = user.status !== "approved";
        if (changed) {
          user = toUser(
            this.#prepare(
              `UPDATE users SET status = 'approved', account_id = COALESCE(account_id, ?), updated_at = ?
               WHERE email = ? RETURNING ${USER_COLUMNS}`,
            ).get(input.accountId, input.now, input.email) as Row,
          );
        }
        if (input.scopePolicy !== undefined) {
          user = toUser(
            this.#prepare(`UPDATE users SET scope_policy = ?, updated_at = ? WHERE email = ? RETURNING ${USER_COLUMNS}`)
              .get(input.scopePolicy === null ? null : input.scopePolicy.join(" "), input.now, input.email) as Row,
          );
        }
        return { ok: true, user, changed };
      })
    );
  }

  setScopePolicy(
    input: { accountId: string; scopes: readonly string[] | null; now: number },
  ): Promise<UserRecord | null> {
    return this.#run(() => {
      const row = this.#prepare(
        `UPDATE users SET scope_policy = ?, updated_at = ? WHERE account_id = ? RETURNING ${USER_COLUMNS}`,
      ).get(input.scopes === null ? null : input.scopes.join(" "), input.now, input.accountId) as Row | undefined;
      return row ? toUser(row) : null;
    });
  }

  rejectUser(input: { email: string; reason: string | null; now: number }): Promise<DecisionResult> {
    return this.#run(() =>
      this.#transaction((): DecisionResult => {
        const user = this.#userBy("email", input.email);
        if (!user) return { ok: false, reason: "not_found" };
        if (user.status === "rejected") return { ok: true, user, changed: false };
        const row = this.#prepare(
          `UPDATE users SET status = 'rejected', rejection_reason = ?, updated_at = ?,
             tokens_not_before = MAX(COALESCE(tokens_not_before, ?), ?)
           WHERE email = ? RETURNING ${USER_COLUMNS}`,
        ).get(input.reason, input.now, input.now, input.now, input.email) as Row;
        return { ok: true, user: toUser(row), changed: true };
      })
    );
  }

  listUsers(input: { status: UserStatus | null; limit: number; after: UserCursor | null }): Promise<UserRecord[]> {
    return this.#run(() => {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (input.status !== null) {
        where.push("status = ?");
        params.push(input.status);
      }
      if (input.after !== null) {
        where.push("(created_at, user_id) > (?, ?)");
        params.push(input.after.createdAt, input.after.userId);
      }
      const rows = this.#prepare(
        `SELECT ${USER_COLUMNS} FROM users ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at, user_id LIMIT ?`,
      ).all(...params, input.limit) as Row[];
      return rows.map(toUser);
    });
  }

  hitRateLimit(input: { key: string; limit: number; windowSeconds: number; now: number }): Promise<RateLimitResult> {
    return this.#run(() => {
      const windowMs = input.windowSeconds * 1000;
      const endsAt = Math.floor(input.now / windowMs) * windowMs + windowMs;
      const row = this.#prepare(
        `INSERT INTO rate_limits (key, window_ends_at, count) VALUES (?, ?, 1)
         ON CONFLICT (key, window_ends_at) DO UPDATE SET count = count + 1 WHERE count < ?
         RETURNING count`,
      ).get(input.key, endsAt, input.limit) as Row | undefined;
      return { allowed: row !== undefined, retryAfterSeconds: Math.ceil((endsAt - input.now) / 1000) };
    });
  }

  /**
   * Deletes what has expired, {@link PURGE_BATCH_ROWS} rows a statement,
   * the event loop free between statements: one transaction deleting
   * 100,000 expired revocations and 100,000 sessions stopped every request
   * for 409 ms here. Each statement commits on its own; a purge stopped
   * half-way leaves only expired rows behind, for the next one.
   */
  async purgeExpired(now: number): Promise<void> {
    const expired: [table: string, column: string, cutoff: number][] = [
      ["otp_challenges", "expires_at", now],
      ["revoked_tokens", "expires_at", now],
      ["rate_limits", "window_ends_at", now],
      ["sessions", "absolute_expires_at", now],
      ["otp_failures", "failed_at", now - OTP_FAILURE_RETENTION_SECONDS * 1000],
    ];
    try {
      for (const [table, column, cutoff] of expired) {
        const purge = this.#prepare(
          `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} <= ? LIMIT ?)`,
        );
        while (Number(purge.run(cutoff, PURGE_BATCH_ROWS).changes) === PURGE_BATCH_ROWS) {
          await pause();
        }
      }
    } catch (error) {
      throw asUnavailable(error, "The SQLite store failed");
    }
  }

  #userBy(column: "email" | "user_id" | "account_id", value: string): UserRecord | null {
    const row = this.#prepare(`SELECT ${USER_COLUMNS} FROM users WHERE ${column} = ?`).get(value) as
      | Row
      | undefined;
    return row ? toUser(row) : null;
  }

  /** A prepared statement, compiled once per SQL text. */
  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #run<T>(body: () => T): Promise<T> {
    try {
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(asUnavailable(error, "The SQLite store failed"));
    }
  }

  /** The bytes of the file read through a memory map ({@link MMAP_BYTES}), as SQLite reports them. */
  mmapBytes(): number {
    return Number((this.#db.prepare("PRAGMA mmap_size").get() as { mmap_size: number }).mmap_size);
  }

  /**
   * SQLite's `PRAGMA data_version`: a number that changes whenever another
   * connection (another process) commits to the file, and only then. The
   * cache of token checks drops what it keeps when it changes.
   */
  dataVersion(): number {
    return (this.#prepare("PRAGMA data_version").get() as { data_version: number }).data_version;
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

function toUser(row: Row): UserRecord {
  return {
    userId: String(row.user_id),
    email: String(row.email),
    verified: Number(row.verified) === 1,
    status: String(row.status) as UserStatus,
    accountId: row.account_id === null ? null : String(row.account_id),
    rejectionReason: row.rejection_reason === null ? null : String(row.rejection_reason),
    tokensNotBefore: row.tokens_not_before === null ? null : Number(row.tokens_not_before),
    scopePolicy: row.scope_policy === null ? null : scopeList(String(row.scope_policy)),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** A stored scope policy: space-separated scopes; `""` allows none. */
function scopeList(text: string): string[] {
  return text === "" ? [] : text.split(" ");
}

function prepareFile(path: string): void {
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const file = Deno.openSync(path, { create: true, append: true, mode: 0o600 });
  file.close();
}

function asUnavailable(error: unknown, context: string): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (
    error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound || UNAVAILABLE.test(message)
  ) {
    return new StoreUnavailableError(`${context}: ${message.split("\n")[0]}`, { cause: error });
  }
  return error;
}
