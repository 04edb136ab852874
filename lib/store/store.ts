/**
 * The `Store` interface: every piece of state the auth provider keeps, with
 * the atomic operations that must hold when several requests, or several
 * provider processes on one database, race. Backends live in `lib/store/` and
 * all pass the same conformance suite (`tests/helpers/store_conformance.ts`).
 *
 * Times are milliseconds since the epoch. Backends throw
 * `StoreUnavailableError` (`lib/errors.ts`) when their engine cannot be reached.
 *
 * @module
 */

import type { AuditStore } from "./audit.ts";
import type { ClientStore } from "./clients.ts";

/** Approval state of a registration. */
export type UserStatus = "waitlisted" | "approved" | "rejected";

/** Every {@link UserStatus}, in display order. */
export const USER_STATUSES: readonly UserStatus[] = Object.freeze(["waitlisted", "approved", "rejected"]);

/** A registered user. */
export interface UserRecord {
  /** Stable user UUID (auth-service identity). */
  userId: string;
  /** Normalised email: the unique identity key. */
  email: string;
  /** Whether the mailbox was proven with an OTP. */
  verified: boolean;
  status: UserStatus;
  /** Stable account UUID, created by the first approval and kept afterwards. */
  accountId: string | null;
  /** Operator note of the latest rejection, if any. */
  rejectionReason: string | null;
  /**
   * Set by every rejection that changes the status: API tokens of the
   * account issued at or before this instant are refused for good, even
   * after a later approval. `null` until the first rejection.
   */
  tokensNotBefore: number | null;
  /**
   * The scopes the account may be issued, a subset of the global list;
   * `null` means the whole global list (the default).
   */
  scopePolicy: readonly string[] | null;
  createdAt: number;
  updatedAt: number;
}

/** A new OTP challenge. */
export interface NewOtpChallenge {
  challengeId: string;
  email: string;
  /** Keyed hash of the code; the code itself is never stored. */
  codeHash: string;
  now: number;
  expiresAt: number;
  /** Minimum seconds between two challenges for one email. */
  resendSeconds: number;
  /**
   * The email's budget of wrong guesses: while it is spent, no challenge is
   * created (`locked`). Read by the same statement that writes the challenge
   * (one round trip less a code request on PostgreSQL). None: not checked.
   */
  failureBudget?: OtpFailureBudget;
  /**
   * When given, the email is registered first if it has no user yet: a
   * waitlisted, unverified user with this id, created in the same
   * transaction as the challenge (on PostgreSQL, the same statement), so
   * that a code request registers and asks in one commit. The user stays
   * when the challenge is refused, as it would after a `registerUser`.
   */
  newUserId?: string;
}

/** Outcome of {@link Store.createOtpChallenge}: created, or refused with the seconds until it may be asked again. */
export type CreateChallengeResult =
  | { ok: true }
  | { ok: false; reason: "resend_too_soon" | "locked"; retryAfterSeconds: number };

/**
 * The budget of wrong OTP guesses per email across codes: at most `max`
 * in any window of `windowSeconds`. A correct code clears it.
 */
export interface OtpFailureBudget {
  max: number;
  windowSeconds: number;
}

/** Outcome of {@link Store.otpLockState}: whether an email's guess budget is spent, and until when. */
export type OtpLockState = { locked: false } | { locked: true; retryAfterSeconds: number };

/** What {@link Store.attemptOtp} checks, and the session it starts when the code matches. */
export interface OtpAttempt {
  email: string;
  codeHash: string;
  now: number;
  maxAttempts: number;
  failureBudget: OtpFailureBudget;
  /**
   * A session to start for the user when the code matches, created at `now`
   * in the same transaction as the challenge is consumed: a consumed code
   * always has its session, and the store writes both at once (one round
   * trip and one commit less a sign-in on PostgreSQL and SQLite).
   */
  session?: { sessionId: string; absoluteExpiresAt: number };
}

/** Outcome of {@link Store.attemptOtp}. */
export type OtpAttemptResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "not_requested" | "used" | "expired" | "exhausted" }
  | { ok: false; reason: "locked"; retryAfterSeconds: number }
  | {
    ok: false;
    reason: "mismatch";
    attemptsLeft: number;
    /** This wrong guess spent the email's budget: the email is locked from now on. */
    lockedNow: boolean;
  };

/** An auth-service session (one sign-in; refreshes keep the session). */
export interface SessionRecord {
  sessionId: string;
  userId: string;
  createdAt: number;
  /** Absolute end of the session, however often it is refreshed. */
  absoluteExpiresAt: number;
  revokedAt: number | null;
}

/** Outcome of an operator decision. */
export type DecisionResult =
  | { ok: true; user: UserRecord; changed: boolean }
  | { ok: false; reason: "not_found" | "not_verified" };

/** Position after which a page of users starts (keyset pagination). */
export interface UserCursor {
  createdAt: number;
  userId: string;
}

/** Outcome of {@link Store.hitRateLimit}. */
export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
}

/** The schema a store holds against the newest one this code knows (`/readyz`). */
export interface SchemaState {
  /** The newest migration applied to the store; 0 for none. */
  current: number;
  /** The newest migration of this code. */
  latest: number;
}

/**
 * Connection use of a pooled store, for metrics. postgres.js reports no
 * pool statistics, so the PostgreSQL store counts for itself.
 */
export interface StorePoolStats {
  /** Most connections of the pool (`BUS_AUTH_POSTGRES_POOL_MAX`). */
  max: number;
  /** Connections open now (sockets, counted as they open and close). */
  open: number;
  /** Store operations running or waiting for a connection now. */
  inFlight: number;
}

/** How the cache of token checks is used, for metrics (`lib/store/read_cache.ts`). */
export interface StoreCacheStats {
  /** Reads answered from memory. */
  hits: number;
  /** Reads that went to the database because the value was not kept. */
  misses: number;
  /** Reads that went to the database because the cache was not proven current. */
  bypassed: number;
  /** Values kept now, every kind together. */
  size: number;
  /** Most values kept of each kind (`BUS_AUTH_CACHE_ENTRIES`). */
  maxEntries: number;
  /** Whether the cache is proven current now. */
  trusted: boolean;
  /** Revoked token ids held as the whole revocation list, or `null` while it is not held (each id is asked for). */
  revokedIds: number | null;
}

/** Persistent state of the auth provider. */
export interface Store extends ClientStore, AuditStore {
  /** Backend name for health output: `memory`, `sqlite` or `postgres`. */
  readonly kind: string;

  /** Checks that the engine answers. @throws `StoreUnavailableError` */
  ping(): Promise<void>;
  /**
   * Reads the store's schema version in one cheap statement, which also
   * shows that the engine answers. The memory store is always current.
   * @throws `StoreUnavailableError`
   */
  schemaVersion(): Promise<SchemaState>;
  /** Connection use, for stores with a pool (PostgreSQL); absent elsewhere. */
  poolStats?(): StorePoolStats;
  /** The cache of token checks, for stores with one (PostgreSQL, `BUS_AUTH_POSTGRES_CACHE=on`); absent elsewhere. */
  cacheStats?(): StoreCacheStats;
  /** Releases connections and files. */
  close(): Promise<void>;

  /**
   * Creates the user for a normalised email, or returns the existing one.
   * Exactly one user exists per email even under concurrent calls.
   */
  registerUser(input: { userId: string; email: string; now: number }): Promise<{ user: UserRecord; created: boolean }>;
  findUserByEmail(email: string): Promise<UserRecord | null>;
  findUserById(userId: string): Promise<UserRecord | null>;
  findUserByAccountId(accountId: string): Promise<UserRecord | null>;

  /**
   * Creates the email's challenge, replacing an older one, unless the email's
   * `failureBudget` is spent (`locked`, checked first) or its last challenge
   * is younger than `resendSeconds` (`resend_too_soon`); a refusal changes
   * nothing.
   */
  createOtpChallenge(challenge: NewOtpChallenge): Promise<CreateChallengeResult>;
  /** Deletes a challenge whose code could not be delivered; a no-op when it was already replaced. */
  deleteOtpChallenge(email: string, challengeId: string): Promise<void>;
  /**
   * Checks a code hash against the email's live challenge, atomically: a
   * match consumes the challenge, marks the user verified and clears the
   * email's failures; a mismatch spends one of `maxAttempts` attempts and
   * records one failure of the email; an exhausted challenge, or an email
   * whose {@link OtpFailureBudget} is spent (`locked`), refuses even the
   * right code. Hashes are compared in constant time. Replicas share the
   * budget. A match also starts `input.session` when one is given.
   */
  attemptOtp(input: OtpAttempt): Promise<OtpAttemptResult>;
  /** Whether an email's budget of wrong guesses is spent at `now`. */
  otpLockState(input: { email: string; now: number; failureBudget: OtpFailureBudget }): Promise<OtpLockState>;

  createSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }): Promise<void>;
  findSession(sessionId: string): Promise<SessionRecord | null>;
  /** Revokes one session; revoking twice keeps the first time. */
  revokeSession(sessionId: string, now: number): Promise<void>;

  /**
   * Adds a token id to the revocation list until `expiresAt`.
   * @returns `true` when this call revoked it, `false` when it already was
   */
  revokeToken(input: { tokenId: string; expiresAt: number; now: number }): Promise<boolean>;
  isTokenRevoked(tokenId: string): Promise<boolean>;
  /**
   * Every token id on the revocation list, expired or not (a purge removes
   * the expired ones), for a replica's in-memory view of the list
   * (`read_cache.ts`).
   * @returns the ids, or `null` when there are more than `limit`
   */
  listRevokedTokenIds(limit: number): Promise<string[] | null>;

  /**
   * Approves a verified user. The first approval stores `accountId`; later
   * ones keep the stored account id, so concurrent approvals yield one id.
   * A given `scopePolicy` is set in the same step (also on a repeated
   * approval); `undefined` leaves the policy as it is.
   */
  approveUser(
    input: { email: string; accountId: string; now: number; scopePolicy?: readonly string[] | null },
  ): Promise<DecisionResult>;
  /**
   * Sets the scope policy of an account (`null`: back to the whole global
   * list). @returns the user, or `null` when no user has that account id
   */
  setScopePolicy(
    input: { accountId: string; scopes: readonly string[] | null; now: number },
  ): Promise<UserRecord | null>;
  /**
   * Rejects a user and moves `tokensNotBefore` to `now` (never backwards),
   * in one transaction. The user's sessions stay usable. Rejecting a
   * rejected user changes nothing: the first reason and instant stay.
   */
  rejectUser(input: { email: string; reason: string | null; now: number }): Promise<DecisionResult>;
  /** One page of users with a status, ordered by creation time then user id. */
  listUsers(input: { status: UserStatus | null; limit: number; after: UserCursor | null }): Promise<UserRecord[]>;

  /**
   * Counts one hit on `key` in the fixed window of `windowSeconds` that
   * contains `now`; refused (and not counted) past `limit` hits.
   */
  hitRateLimit(input: { key: string; limit: number; windowSeconds: number; now: number }): Promise<RateLimitResult>;

  /**
   * Deletes expired challenges, revocations, sessions, rate-limit windows,
   * and OTP failures older than {@link OTP_FAILURE_RETENTION_SECONDS}. A
   * store that keeps what token checks read (`cached_store.ts`) may go on
   * answering an expired session or revocation it had read: every token
   * either concerns has expired, and checks refuse an expired token first.
   */
  purgeExpired(now: number): Promise<void>;
}

/** How long OTP failures are kept: the longest window a {@link OtpFailureBudget} may use (one day). */
export const OTP_FAILURE_RETENTION_SECONDS = 86400;

/**
 * The lock state of an email from the times (ms) of its failures: locked
 * while `max` or more fall inside the window ending at `now`, until enough
 * of them have aged out. Shared by the store backends.
 *
 * @example
 * ```ts
 * lockStateOf([1000, 2000], 2000, { max: 2, windowSeconds: 10 }); // { locked: true, retryAfterSeconds: 9 }
 * ```
 */
export function lockStateOf(failureTimes: readonly number[], now: number, budget: OtpFailureBudget): OtpLockState {
  const windowStart = now - budget.windowSeconds * 1000;
  const inWindow = failureTimes.filter((time) => time > windowStart).sort((a, b) => a - b);
  if (inWindow.length < budget.max) return { locked: false };
  // The lock ends when the failure that keeps the count at `max` ages out.
  const keeping = inWindow[inWindow.length - budget.max];
  return {
    locked: true,
    retryAfterSeconds: Math.max(1, Math.ceil((keeping + budget.windowSeconds * 1000 - now) / 1000)),
  };
}
