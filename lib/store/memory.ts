/**
 * In-process store on plain maps. Every method runs without an `await`
 * between reading and writing, so each is atomic within the process; only
 * the purge of expired entries pauses between slices, judging and deleting
 * each entry in one step. State is lost on restart: for tests and local
 * development only.
 *
 * @module
 */

import { forEachInSlices } from "../event_loop.ts";
import { secretsEqual } from "../secret.ts";
import type { AuditQuery, AuditRecord } from "./audit.ts";
import type { ClientRecord, ClientStore, CreateClientResult } from "./clients.ts";
import { MemoryAudit, type MemoryAuditOptions } from "./memory_audit.ts";
import { MemoryClients } from "./memory_clients.ts";
import { UserOrder } from "./memory_user_order.ts";
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

interface Challenge {
  challengeId: string;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  attempts: number;
  consumedAt: number | null;
}

/** Entries a purge looks at between two pauses of {@link purgeExpired}: about 1 ms of the event loop. */
export const PURGE_SLICE = 2000;

/** Deletes the entries of `map` whose value has expired, {@link PURGE_SLICE} at a time. */
function purgeMap<K, V>(map: Map<K, V>, expired: (value: V) => boolean): Promise<void> {
  return forEachInSlices(map, PURGE_SLICE, ([key, value]) => {
    if (expired(value)) map.delete(key);
  });
}

/** The memory store's schema version: it has none, so it is always current. */
const MEMORY_SCHEMA_VERSION = 0;

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** The audit trail's bound, and who hears when it is reached (`memory_audit.ts`). */
  audit?: MemoryAuditOptions;
}

/** A {@link Store} kept in process memory. */
export class MemoryStore implements Store {
  readonly kind = "memory";
  #clients = new MemoryClients();
  #audit: MemoryAudit;
  #users = new Map<string, UserRecord>();
  #userIdByEmail = new Map<string, string>();
  /** Users by account id, which approval gives once and never changes: `check` reads it on every user API token. */
  #userIdByAccountId = new Map<string, string>();
  #order = new UserOrder();
  #challenges = new Map<string, Challenge>();
  /** Times (ms) of the wrong OTP guesses of each email. */
  #otpFailures = new Map<string, number[]>();
  #sessions = new Map<string, SessionRecord>();
  #revokedTokens = new Map<string, number>();
  #rateWindows = new Map<string, { count: number; endsAt: number }>();

  constructor(options: MemoryStoreOptions = {}) {
    this.#audit = new MemoryAudit(options.audit);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  /** Always current: the memory store has no schema to fall behind. */
  schemaVersion(): Promise<SchemaState> {
    return Promise.resolve({ current: MEMORY_SCHEMA_VERSION, latest: MEMORY_SCHEMA_VERSION });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  registerUser(input: { userId: string; email: string; now: number }): Promise<{ user: UserRecord; created: boolean }> {
    const { user, created } = this.#register(input);
    return Promise.resolve({ user: { ...user }, created });
  }

  /** The user of the email, created waitlisted when it has none. The record itself: callers copy it. */
  #register(input: { userId: string; email: string; now: number }): { user: UserRecord; created: boolean } {
    const existing = this.#byEmail(input.email);
    if (existing) return { user: existing, created: false };
    const user: UserRecord = {
      userId: input.userId,
      email: input.email,
      verified: false,
      status: "waitlisted",
      accountId: null,
      rejectionReason: null,
      tokensNotBefore: null,
      scopePolicy: null,
      createdAt: input.now,
      updatedAt: input.now,
    };
    this.#users.set(user.userId, user);
    this.#userIdByEmail.set(user.email, user.userId);
    this.#order.insert(user);
    return { user, created: true };
  }

  findUserByEmail(email: string): Promise<UserRecord | null> {
    return Promise.resolve(copy(this.#byEmail(email)));
  }

  findUserById(userId: string): Promise<UserRecord | null> {
    return Promise.resolve(copy(this.#users.get(userId)));
  }

  findUserByAccountId(accountId: string): Promise<UserRecord | null> {
    return Promise.resolve(copy(this.#byAccountId(accountId)));
  }

  createOtpChallenge(challenge: NewOtpChallenge): Promise<CreateChallengeResult> {
    if (challenge.newUserId !== undefined) {
      this.#register({ userId: challenge.newUserId, email: challenge.email, now: challenge.now });
    }
    if (challenge.failureBudget !== undefined) {
      const lock = this.#lockState(challenge.email, challenge.now, challenge.failureBudget);
      if (lock.locked) {
        return Promise.resolve({ ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds });
      }
    }
    const previous = this.#challenges.get(challenge.email);
    const resendAt = previous ? previous.createdAt + challenge.resendSeconds * 1000 : 0;
    if (previous && challenge.now < resendAt) {
      return Promise.resolve({
        ok: false,
        reason: "resend_too_soon",
        retryAfterSeconds: Math.ceil((resendAt - challenge.now) / 1000),
      });
    }
    this.#challenges.set(challenge.email, {
      challengeId: challenge.challengeId,
      codeHash: challenge.codeHash,
      createdAt: challenge.now,
      expiresAt: challenge.expiresAt,
      attempts: 0,
      consumedAt: null,
    });
    return Promise.resolve({ ok: true });
  }

  deleteOtpChallenge(email: string, challengeId: string): Promise<void> {
    if (this.#challenges.get(email)?.challengeId === challengeId) this.#challenges.delete(email);
    return Promise.resolve();
  }

  attemptOtp(input: OtpAttempt): Promise<OtpAttemptResult> {
    const challenge = this.#challenges.get(input.email);
    const user = this.#byEmail(input.email);
    const lock = this.#lockState(input.email, input.now, input.failureBudget);
    if (lock.locked) return Promise.resolve({ ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds });
    if (!challenge || !user) return Promise.resolve({ ok: false, reason: "not_requested" });
    if (challenge.consumedAt !== null) return Promise.resolve({ ok: false, reason: "used" });
    if (input.now >= challenge.expiresAt) return Promise.resolve({ ok: false, reason: "expired" });
    if (challenge.attempts >= input.maxAttempts) return Promise.resolve({ ok: false, reason: "exhausted" });
    if (!secretsEqual(challenge.codeHash, input.codeHash)) {
      challenge.attempts += 1;
      const failures = [...(this.#otpFailures.get(input.email) ?? []), input.now];
      this.#otpFailures.set(input.email, failures);
      return Promise.resolve({
        ok: false,
        reason: "mismatch",
        attemptsLeft: input.maxAttempts - challenge.attempts,
        lockedNow: lockStateOf(failures, input.now, input.failureBudget).locked,
      });
    }
    challenge.consumedAt = input.now;
    this.#otpFailures.delete(input.email);
    if (!user.verified) {
      user.verified = true;
      user.updatedAt = input.now;
    }
    if (input.session !== undefined) {
      this.#startSession({ ...input.session, userId: user.userId, now: input.now });
    }
    return Promise.resolve({ ok: true, user: { ...user } });
  }

  otpLockState(input: { email: string; now: number; failureBudget: OtpFailureBudget }): Promise<OtpLockState> {
    return Promise.resolve(this.#lockState(input.email, input.now, input.failureBudget));
  }

  #lockState(email: string, now: number, budget: OtpFailureBudget): OtpLockState {
    return lockStateOf(this.#otpFailures.get(email) ?? [], now, budget);
  }

  createSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }): Promise<void> {
    this.#startSession(session);
    return Promise.resolve();
  }

  #startSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }): void {
    this.#sessions.set(session.sessionId, {
      sessionId: session.sessionId,
      userId: session.userId,
      createdAt: session.now,
      absoluteExpiresAt: session.absoluteExpiresAt,
      revokedAt: null,
    });
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    const session = this.#sessions.get(sessionId);
    return Promise.resolve(session ? { ...session } : null);
  }

  revokeSession(sessionId: string, now: number): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (session && session.revokedAt === null) session.revokedAt = now;
    return Promise.resolve();
  }

  revokeToken(input: { tokenId: string; expiresAt: number; now: number }): Promise<boolean> {
    if (this.#revokedTokens.has(input.tokenId)) return Promise.resolve(false);
    this.#revokedTokens.set(input.tokenId, input.expiresAt);
    return Promise.resolve(true);
  }

  isTokenRevoked(tokenId: string): Promise<boolean> {
    return Promise.resolve(this.#revokedTokens.has(tokenId));
  }

  listRevokedTokenIds(limit: number): Promise<string[] | null> {
    return Promise.resolve(this.#revokedTokens.size > limit ? null : [...this.#revokedTokens.keys()]);
  }

  approveUser(
    input: { email: string; accountId: string; now: number; scopePolicy?: readonly string[] | null },
  ): Promise<DecisionResult> {
    const user = this.#byEmail(input.email);
    if (!user) return Promise.resolve({ ok: false, reason: "not_found" });
    if (!user.verified) return Promise.resolve({ ok: false, reason: "not_verified" });
    const changed = user.status !== "approved";
    if (changed) {
      user.status = "approved";
      if (user.accountId === null) {
        user.accountId = input.accountId;
        this.#userIdByAccountId.set(input.accountId, user.userId);
      }
      user.updatedAt = input.now;
    }
    if (input.scopePolicy !== undefined) {
      user.scopePolicy = input.scopePolicy === null ? null : [...input.scopePolicy];
      user.updatedAt = input.now;
    }
    return Promise.resolve({ ok: true, user: copy(user)!, changed });
  }

  setScopePolicy(
    input: { accountId: string; scopes: readonly string[] | null; now: number },
  ): Promise<UserRecord | null> {
    const user = this.#byAccountId(input.accountId);
    if (user === undefined) return Promise.resolve(null);
    user.scopePolicy = input.scopes === null ? null : [...input.scopes];
    user.updatedAt = input.now;
    return Promise.resolve(copy(user));
  }

  rejectUser(input: { email: string; reason: string | null; now: number }): Promise<DecisionResult> {
    const user = this.#byEmail(input.email);
    if (!user) return Promise.resolve({ ok: false, reason: "not_found" });
    const changed = user.status !== "rejected";
    if (changed) {
      user.status = "rejected";
      user.rejectionReason = input.reason;
      user.tokensNotBefore = Math.max(user.tokensNotBefore ?? input.now, input.now);
      user.updatedAt = input.now;
    }
    return Promise.resolve({ ok: true, user: { ...user }, changed });
  }

  listUsers(input: { status: UserStatus | null; limit: number; after: UserCursor | null }): Promise<UserRecord[]> {
    return Promise.resolve(this.#order.page(input).map((user) => copy(user)!));
  }

  hitRateLimit(input: { key: string; limit: number; windowSeconds: number; now: number }): Promise<RateLimitResult> {
    const windowMs = input.windowSeconds * 1000;
    const endsAt = Math.floor(input.now / windowMs) * windowMs + windowMs;
    let window = this.#rateWindows.get(input.key);
    if (!window || window.endsAt !== endsAt) {
      window = { count: 0, endsAt };
      this.#rateWindows.set(input.key, window);
    }
    const retryAfterSeconds = Math.ceil((endsAt - input.now) / 1000);
    if (window.count >= input.limit) return Promise.resolve({ allowed: false, retryAfterSeconds });
    window.count += 1;
    return Promise.resolve({ allowed: true, retryAfterSeconds });
  }

  /**
   * Deletes what has expired, {@link PURGE_SLICE} entries looked at a time
   * with the event loop free between slices: 200,000 revocations and
   * 200,000 sessions took 185 ms at once. Each entry is judged and deleted
   * in one step, so an entry written meanwhile is kept unless it has expired.
   */
  async purgeExpired(now: number): Promise<void> {
    await purgeMap(this.#challenges, (challenge) => challenge.expiresAt <= now);
    await purgeMap(this.#revokedTokens, (expiresAt) => expiresAt <= now);
    await purgeMap(this.#rateWindows, (window) => window.endsAt <= now);
    await purgeMap(this.#sessions, (session) => session.absoluteExpiresAt <= now);
    const oldest = now - OTP_FAILURE_RETENTION_SECONDS * 1000;
    await forEachInSlices(this.#otpFailures, PURGE_SLICE, ([email, times]) => {
      const kept = times.filter((time) => time > oldest);
      if (kept.length === 0) this.#otpFailures.delete(email);
      else if (kept.length < times.length) this.#otpFailures.set(email, kept);
    });
  }

  #byEmail(email: string): UserRecord | undefined {
    const userId = this.#userIdByEmail.get(email);
    return userId === undefined ? undefined : this.#users.get(userId);
  }

  #byAccountId(accountId: string): UserRecord | undefined {
    const userId = this.#userIdByAccountId.get(accountId);
    return userId === undefined ? undefined : this.#users.get(userId);
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

function copy(user: UserRecord | undefined): UserRecord | null {
  return user ? { ...user, scopePolicy: user.scopePolicy === null ? null : [...user.scopePolicy] } : null;
}
