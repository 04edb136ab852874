/**
 * A {@link Store} that answers the reads of every token check (sessions,
 * revoked token ids, users by id and by account id, service clients) from a
 * {@link ReadCache} while it is trusted, and passes everything else to the
 * store it wraps. Each write made through it drops the values it changed as
 * soon as the write returns (or fails: it may have committed), so the
 * replica that revokes refuses at once; what other processes change reaches
 * the cache through {@link CachedStore.applyChange}, fed by the PostgreSQL
 * change feed, or is noticed before each read (SQLite's data version). A
 * purge of expired rows drops nothing, only has the revocation list loaded
 * again (`read_cache.ts`); any other deletion drops everything.
 *
 * @module
 */

import type { AuditQuery, AuditRecord } from "./audit.ts";
import type { ClientRecord, ClientStore, CreateClientResult } from "./clients.ts";
import type { CachedKind, ReadCache } from "./read_cache.ts";
import type {
  CreateChallengeResult,
  DecisionResult,
  NewOtpChallenge,
  OtpAttempt,
  OtpAttemptResult,
  OtpFailureBudget,
  OtpLockState,
  RateLimitResult,
  SchemaState,
  SessionRecord,
  Store,
  StoreCacheStats,
  StorePoolStats,
  UserCursor,
  UserRecord,
  UserStatus,
} from "./store.ts";

/** A change another process made, as the change feed names it. */
export type StateChange =
  | { kind: "user"; userId: string; accountId: string | null }
  | { kind: "session" | "revoked" | "client"; id: string }
  /** Rows were deleted that had not all expired, or a table truncated: anything may be gone. */
  | { kind: "all" }
  /** Expired rows were deleted (a purge): nothing a check can still accept is gone. */
  | { kind: "expired" };

/** Hooks of {@link CachedStore}. */
export interface CachedStoreOptions {
  /** Runs when the store closes, before the wrapped store does (the change feed's close). */
  beforeClose?: () => Promise<void>;
  /** Runs before each cached read, synchronously (SQLite: drop everything when another process wrote). */
  beforeRead?: () => void;
}

/**
 * The wrapper. `close()` stops trusting the cache, runs `beforeClose`
 * (the change feed's close) and closes the wrapped store.
 */
export class CachedStore implements Store {
  readonly kind: string;
  readonly cache: ReadCache;
  #inner: Store;
  #beforeClose: () => Promise<void>;
  #beforeRead: () => void;

  constructor(inner: Store, cache: ReadCache, options: CachedStoreOptions = {}) {
    this.#inner = inner;
    this.cache = cache;
    this.kind = inner.kind;
    this.#beforeClose = options.beforeClose ?? (() => Promise.resolve());
    this.#beforeRead = options.beforeRead ?? (() => {});
  }

  /** Drops what another process changed. */
  applyChange(change: StateChange): void {
    if (change.kind === "all") this.cache.clear();
    else if (change.kind === "expired") this.cache.noteExpiredPurged();
    else if (change.kind === "user") this.cache.invalidateUser(change.userId, change.accountId);
    else this.cache.invalidate(change.kind, change.id);
    if (change.kind === "revoked") this.cache.noteRevoked(change.id);
  }

  // The reads of every token check.
  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.#read("session", sessionId, () => this.#inner.findSession(sessionId));
  }
  isTokenRevoked(tokenId: string): Promise<boolean> {
    try {
      this.#beforeRead();
    } catch (error) {
      return Promise.reject(error);
    }
    const listed = this.cache.revokedFromList(tokenId, () => this.#inner.listRevokedTokenIds(this.cache.maxRevokedIds));
    if (listed !== undefined) return Promise.resolve(listed);
    return this.cache.read("revoked", tokenId, () => this.#inner.isTokenRevoked(tokenId));
  }
  listRevokedTokenIds(limit: number): Promise<string[] | null> {
    return this.#inner.listRevokedTokenIds(limit);
  }
  findUserById(userId: string): Promise<UserRecord | null> {
    return this.#read("user", userId, () => this.#inner.findUserById(userId));
  }
  findUserByAccountId(accountId: string): Promise<UserRecord | null> {
    return this.#read("account", accountId, () => this.#inner.findUserByAccountId(accountId));
  }
  findClientById(clientId: string): Promise<ClientRecord | null> {
    return this.#read("client", clientId, () => this.#inner.findClientById(clientId));
  }

  // Writes that change what the cache keeps.
  async registerUser(input: { userId: string; email: string; now: number }) {
    try {
      return await this.#inner.registerUser(input);
    } finally {
      this.cache.invalidateUser(input.userId, null);
    }
  }
  async attemptOtp(input: OtpAttempt): Promise<OtpAttemptResult> {
    try {
      return await this.#userWrite(this.#inner.attemptOtp(input));
    } finally {
      if (input.session !== undefined) this.cache.invalidate("session", input.session.sessionId);
    }
  }
  async approveUser(
    input: { email: string; accountId: string; now: number; scopePolicy?: readonly string[] | null },
  ): Promise<DecisionResult> {
    return await this.#userWrite(this.#inner.approveUser(input));
  }
  async rejectUser(input: { email: string; reason: string | null; now: number }): Promise<DecisionResult> {
    return await this.#userWrite(this.#inner.rejectUser(input));
  }
  async setScopePolicy(
    input: { accountId: string; scopes: readonly string[] | null; now: number },
  ): Promise<UserRecord | null> {
    try {
      const user = await this.#inner.setScopePolicy(input);
      if (user !== null) this.cache.invalidateUser(user.userId, user.accountId);
      return user;
    } finally {
      this.cache.invalidate("account", input.accountId);
    }
  }
  createSession(session: { sessionId: string; userId: string; now: number; absoluteExpiresAt: number }) {
    return this.#write("session", session.sessionId, this.#inner.createSession(session));
  }
  revokeSession(sessionId: string, now: number): Promise<void> {
    return this.#write("session", sessionId, this.#inner.revokeSession(sessionId, now));
  }
  async revokeToken(input: { tokenId: string; expiresAt: number; now: number }): Promise<boolean> {
    try {
      return await this.#write("revoked", input.tokenId, this.#inner.revokeToken(input));
    } finally {
      this.cache.noteRevoked(input.tokenId);
    }
  }
  async createClient(input: Parameters<ClientStore["createClient"]>[0]): Promise<CreateClientResult> {
    return await this.#write("client", input.clientId, this.#inner.createClient(input));
  }
  rotateClientKey(input: Parameters<ClientStore["rotateClientKey"]>[0]): Promise<ClientRecord | null> {
    return this.#write("client", input.clientId, this.#inner.rotateClientKey(input));
  }
  revokeClient(input: { clientId: string; now: number }): Promise<ClientRecord | null> {
    return this.#write("client", input.clientId, this.#inner.revokeClient(input));
  }
  touchClient(input: { clientId: string; now: number }): Promise<void> {
    return this.#write("client", input.clientId, this.#inner.touchClient(input));
  }
  async purgeExpired(now: number): Promise<void> {
    try {
      await this.#inner.purgeExpired(now);
    } finally {
      this.cache.noteExpiredPurged();
    }
  }

  // Everything else passes through.
  ping(): Promise<void> {
    return this.#inner.ping();
  }
  schemaVersion(): Promise<SchemaState> {
    return this.#inner.schemaVersion();
  }
  cacheStats(): StoreCacheStats {
    return this.cache.stats();
  }
  get poolStats(): (() => StorePoolStats) | undefined {
    const inner = this.#inner;
    return inner.poolStats === undefined ? undefined : () => inner.poolStats!();
  }
  async close(): Promise<void> {
    this.cache.distrust();
    await this.#beforeClose();
    await this.#inner.close();
  }
  findUserByEmail(email: string): Promise<UserRecord | null> {
    return this.#inner.findUserByEmail(email);
  }
  async createOtpChallenge(challenge: NewOtpChallenge): Promise<CreateChallengeResult> {
    try {
      return await this.#inner.createOtpChallenge(challenge);
    } finally {
      if (challenge.newUserId !== undefined) this.cache.invalidateUser(challenge.newUserId, null);
    }
  }
  deleteOtpChallenge(email: string, challengeId: string): Promise<void> {
    return this.#inner.deleteOtpChallenge(email, challengeId);
  }
  otpLockState(input: { email: string; now: number; failureBudget: OtpFailureBudget }): Promise<OtpLockState> {
    return this.#inner.otpLockState(input);
  }
  listUsers(input: { status: UserStatus | null; limit: number; after: UserCursor | null }): Promise<UserRecord[]> {
    return this.#inner.listUsers(input);
  }
  hitRateLimit(input: { key: string; limit: number; windowSeconds: number; now: number }): Promise<RateLimitResult> {
    return this.#inner.hitRateLimit(input);
  }
  findClientByName(name: string): Promise<ClientRecord | null> {
    return this.#inner.findClientByName(name);
  }
  listClients(): Promise<ClientRecord[]> {
    return this.#inner.listClients();
  }
  appendAudit(record: AuditRecord): Promise<void> {
    return this.#inner.appendAudit(record);
  }
  listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#inner.listAudit(query);
  }
  pruneAudit(before: number): Promise<number> {
    return this.#inner.pruneAudit(before);
  }

  #read<T>(kind: CachedKind, key: string, load: () => Promise<T>): Promise<T> {
    try {
      this.#beforeRead();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.cache.read(kind, key, load);
  }

  /** Runs a write and then drops the value it changed, whether it succeeded or not. */
  async #write<T>(kind: Exclude<CachedKind, "user" | "account">, id: string, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.cache.invalidate(kind, id);
    }
  }

  /**
   * Runs a write that answers the user it changed, and drops that user. A
   * failed write names no user: then every user is dropped.
   */
  async #userWrite<T extends { ok: boolean; user?: UserRecord }>(write: Promise<T>): Promise<T> {
    let result: T | undefined;
    try {
      result = await write;
      return result;
    } finally {
      // A failed write may have changed one user, unknown which: every value is dropped, cheaply read again.
      if (result === undefined) this.cache.clear();
      else if (result.ok && result.user !== undefined) {
        this.cache.invalidateUser(result.user.userId, result.user.accountId);
      }
    }
  }
}
