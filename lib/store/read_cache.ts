/**
 * The in-process view of the state that every token check reads: sessions,
 * revoked token ids, users by id and by account id, and service clients. It
 * is only ever used while it is known to be current, and it is bounded.
 *
 * - **Trust is a lease.** Entries are read and kept only while the cache is
 *   trusted: until an instant that whoever keeps it current (the PostgreSQL
 *   change feed, `postgres_changes.ts`) moves forward each time it proves
 *   that no change can have been missed. While the lease has lapsed every
 *   read goes to the store and nothing is kept; when it is renewed after a
 *   lapse, everything kept before is dropped, since changes made in between
 *   are unknown.
 * - **No stale entry is kept.** A value read from the store is kept only if
 *   no invalidation at all happened while it was being read (a global epoch
 *   counts them): a change that raced the read either lands before the
 *   value is kept (and it is not kept) or removes it afterwards.
 * - **Bounded.** Each kind keeps at most `maxEntries` values; when full, a
 *   new one replaces the less recently used of two picked at random
 *   (`../bounded_map.ts`).
 * - **The revocation list in full.** A token check asks whether its token id
 *   is revoked: with a value kept per id, a platform with more live tokens
 *   than `maxEntries` asked the database on nearly every check. So, while
 *   trusted, the cache also loads the whole list of revoked ids (at most
 *   `maxRevokedIds`; revocations are few next to tokens) and answers every
 *   id from it, revoked or not. A revocation made or announced while the
 *   load is in flight is added to its answer; one made after is added to the
 *   list; anything that drops everything (a lapse, another process's write
 *   to SQLite, rows deleted that were not expired) drops the list too, and
 *   it is loaded again.
 *   Reading 100,000 ids took the provider 70-130 ms of its event loop
 *   (PostgreSQL and SQLite) and building their set 36-64 ms more, so a list
 *   is loaded in slices with the event loop free between them (SQLite
 *   reads pages; the set is built {@link REVOKED_SET_SLICE} ids at a time),
 *   and a list found over its bound is counted by the store, not read, and
 *   asked for again 2 s later, then 4, 8, … at most
 *   {@link REVOKED_RELOAD_MAX_MS} apart.
 * - **A purge of expired rows drops nothing.** It deletes revocations and
 *   sessions only once every token they concern has expired, and an
 *   expired token is refused before either is looked at, so everything kept
 *   stays true for every token a check can still accept. The list is
 *   loaded again in the background, to shed the expired ids, and answers
 *   meanwhile as it is ({@link ReadCache.noteExpiredPurged}). Before, every
 *   purge, every five minutes on each replica, emptied every replica's
 *   cache.
 *
 * @module
 */

import { BoundedMap } from "../bounded_map.ts";
import type { StoreCacheStats } from "./store.ts";
import { forEachInSlices } from "../event_loop.ts";

/** The kinds of state kept. */
export type CachedKind = "session" | "revoked" | "user" | "account" | "client";

const KINDS: readonly CachedKind[] = ["session", "revoked", "user", "account", "client"];

/** Options of {@link ReadCache}. */
export interface ReadCacheOptions {
  /** Most values kept per kind (default 10,000; at least 1). */
  maxEntries?: number;
  /** A monotonic clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Most revoked token ids held as the whole list (default 100,000, about 8 MB); beyond, each id is asked for. */
  maxRevokedIds?: number;
  /**
   * The revocation list went over `maxRevokedIds` (`"over_bound"`: token
   * checks ask the store for each id), or is held again after that
   * (`"held"`). Called on each change between the two, not on every load.
   */
  onRevocationList?: (state: "over_bound" | "held", maxRevokedIds: number) => void;
}

/**
 * Ids put into the revocation list's set at a time, the event loop free
 * between slices: building a set of 90,000 ids at once took 36-64 ms here.
 */
export const REVOKED_SET_SLICE = 2000;

/** Shortest time (ms) between two starts of a load of the revocation list. */
export const REVOKED_RELOAD_MS = 1000;
/** Longest time (ms) between two loads of a revocation list that was over its bound; the wait doubles up to it. */
export const REVOKED_RELOAD_MAX_MS = 60_000;

/**
 * The cache. Keys are ids; values are whatever the store answered,
 * `null` and `false` included, frozen.
 *
 * @example
 * ```ts
 * const cache = new ReadCache();
 * cache.trustUntil(performance.now() + 1000);
 * const session = await cache.read("session", sid, () => store.findSession(sid));
 * cache.invalidate("session", sid); // after a change of that session
 * ```
 */
export class ReadCache {
  readonly maxEntries: number;
  readonly maxRevokedIds: number;
  #now: () => number;
  #maps: Map<CachedKind, BoundedMap<string, unknown>>;
  #epoch = 0;
  #trustedUntil = -Infinity;
  #hits = 0;
  #misses = 0;
  #bypassed = 0;
  /** The whole revocation list, while it is known; `null` when not loaded, dropped, or over its bound. */
  #revokedIds: Set<string> | null = null;
  /** Expired ids were purged since the held list's load started: it is loaded again, answering meanwhile. */
  #revokedStale = false;
  /** Ids revoked while a load of the list is in flight, added to its answer; `null` when none is. */
  #revokedPending: Set<string> | null = null;
  /** When (same clock) the next load of the list may start. */
  #revokedLoadAfter = -Infinity;
  /**
   * The wait between loads: {@link REVOKED_RELOAD_MS}, doubled after each
   * load that found the list over its bound; longer than that exactly while
   * the latest load found it so.
   */
  #revokedReloadMs = REVOKED_RELOAD_MS;
  #onRevocationList: ReadCacheOptions["onRevocationList"];
  /** Calls of {@link clear} so far: a load started before the latest one is discarded. */
  #clears = 0;

  constructor(options: ReadCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxRevokedIds = options.maxRevokedIds ?? 100_000;
    this.#maps = new Map(KINDS.map((kind) => [kind, new BoundedMap(this.maxEntries)]));
    this.#now = options.now ?? (() => performance.now());
    this.#onRevocationList = options.onRevocationList;
  }

  /** Whether reads may be answered from, and kept in, the cache now. */
  get trusted(): boolean {
    return this.#now() < this.#trustedUntil;
  }

  /**
   * Answers a read from the cache, or through `load` (keeping the value
   * when the cache is trusted and nothing was invalidated meanwhile).
   */
  async read<T>(kind: CachedKind, key: string, load: () => Promise<T>): Promise<T> {
    if (!this.trusted) {
      this.#bypassed++;
      return await load();
    }
    const map = this.#maps.get(kind)!;
    const kept = map.get(key);
    if (kept !== undefined || map.has(key)) {
      this.#hits++;
      return kept as T;
    }
    this.#misses++;
    const epoch = this.#epoch;
    const value = await load();
    if (epoch === this.#epoch && this.trusted) {
      map.set(key, freeze(value));
    }
    return value;
  }

  /**
   * Whether a token id is revoked, from the whole revocation list held in
   * memory; `undefined` when it is not held (not trusted, not loaded yet, or
   * over its bound): then ask the store. When the cache is trusted and the
   * list is not held, starts loading it through `load` (one load at a time,
   * at most one start every {@link REVOKED_RELOAD_MS}, or longer while the
   * list is over its bound). `load` answers `null` when the list is longer
   * than {@link maxRevokedIds}.
   */
  revokedFromList(tokenId: string, load: () => Promise<string[] | null>): boolean | undefined {
    if (!this.trusted) return undefined;
    if (this.#revokedIds !== null) {
      this.#hits++;
      if (this.#revokedStale) this.#loadRevoked(load);
      return this.#revokedIds.has(tokenId);
    }
    this.#loadRevoked(load);
    return undefined;
  }

  /**
   * A token id was revoked, by this process or by another as the change feed
   * says: the list holds it from now on, and a load in flight adds it. A
   * write that failed may still have committed, so its id is noted too: the
   * worst case refuses a token whose revocation was asked for.
   */
  noteRevoked(tokenId: string): void {
    this.#revokedPending?.add(tokenId);
    if (this.#revokedIds === null) return;
    this.#revokedIds.add(tokenId);
    if (this.#revokedIds.size > this.maxRevokedIds) this.#revokedIds = null;
  }

  /**
   * Expired rows were purged, by this process or another (the change feed
   * says so). Nothing kept is dropped: a purge deletes a revocation or a
   * session only once every token it concerns has expired, and checks
   * refuse an expired token before they look at either. The revocation
   * list, if held, is loaded again on the next check, in the background,
   * and answers as it is until the new one is built.
   */
  noteExpiredPurged(): void {
    if (this.#revokedIds !== null || this.#revokedPending !== null) this.#revokedStale = true;
  }

  #loadRevoked(load: () => Promise<string[] | null>): void {
    const now = this.#now();
    if (this.#revokedPending !== null || now < this.#revokedLoadAfter) return;
    this.#revokedLoadAfter = now + this.#revokedReloadMs;
    this.#revokedStale = false; // This load sees every purge committed so far.
    const clears = this.#clears;
    const pending = new Set<string>();
    this.#revokedPending = pending;
    const finish = () => {
      if (this.#revokedPending === pending) this.#revokedPending = null;
    };
    const done = async (ids: string[] | null | undefined) => {
      if (ids === undefined) {
        // The load failed: tried again after the usual wait (a held list goes on answering).
        finish();
        if (clears === this.#clears && this.#revokedIds !== null) this.#revokedStale = true;
        return;
      }
      if (ids === null || ids.length > this.maxRevokedIds) {
        finish();
        return this.#revokedListOverBound(now, clears);
      }
      // Revocations noted while the set is built still go to `pending`, added below.
      const list = new Set<string>();
      await forEachInSlices(ids, REVOKED_SET_SLICE, (id) => list.add(id));
      finish();
      for (const id of pending) list.add(id);
      if (list.size > this.maxRevokedIds) return this.#revokedListOverBound(now, clears);
      this.#revokedListHeld(now);
      // Dropped meanwhile (a lapse, a deletion): changes between the load and now may be unknown.
      if (clears === this.#clears && this.trusted) this.#revokedIds = list;
    };
    load().then(done, () => done(undefined));
  }

  /**
   * A load started at `startedAt` (after `clears` clears) found the list
   * over its bound: a list still held is dropped, and the next load waits
   * twice as long, up to the most.
   */
  #revokedListOverBound(startedAt: number, clears: number): void {
    if (clears === this.#clears) this.#revokedIds = null;
    const wasOverBound = this.#revokedReloadMs > REVOKED_RELOAD_MS;
    this.#revokedReloadMs = Math.min(this.#revokedReloadMs * 2, REVOKED_RELOAD_MAX_MS);
    this.#revokedLoadAfter = startedAt + this.#revokedReloadMs;
    if (!wasOverBound) this.#onRevocationList?.("over_bound", this.maxRevokedIds);
  }

  /** A load started at `startedAt` found the list within its bound: loads are as frequent as before. */
  #revokedListHeld(startedAt: number): void {
    const wasOverBound = this.#revokedReloadMs > REVOKED_RELOAD_MS;
    this.#revokedReloadMs = REVOKED_RELOAD_MS;
    this.#revokedLoadAfter = Math.min(this.#revokedLoadAfter, startedAt + REVOKED_RELOAD_MS);
    if (wasOverBound) this.#onRevocationList?.("held", this.maxRevokedIds);
  }

  /** Drops one value: its state changed. */
  invalidate(kind: CachedKind, key: string): void {
    this.#maps.get(kind)!.delete(key);
    this.#epoch++;
  }

  /** Drops a user, by user id and by account id. */
  invalidateUser(userId: string, accountId: string | null): void {
    this.invalidate("user", userId);
    if (accountId !== null && accountId !== "") this.invalidate("account", accountId);
  }

  /** Drops everything, the revocation list too. */
  clear(): void {
    for (const map of this.#maps.values()) map.clear();
    this.#epoch++;
    this.#clears++;
    this.#revokedIds = null;
    this.#revokedPending = null;
    this.#revokedStale = false;
  }

  /**
   * Trusts the cache until `until` (same clock). When the lease had lapsed,
   * or was never granted, everything kept is dropped first.
   */
  trustUntil(until: number): void {
    if (!this.trusted) this.clear();
    this.#trustedUntil = Math.max(this.#trustedUntil, until);
  }

  /** Stops trusting the cache at once and drops everything (the change feed broke). */
  distrust(): void {
    this.#trustedUntil = -Infinity;
    this.clear();
  }

  /** Counters, for metrics and tests. */
  stats(): StoreCacheStats {
    let size = 0;
    for (const map of this.#maps.values()) size += map.size;
    const trusted = this.trusted;
    const revokedIds = trusted ? this.#revokedIds?.size ?? null : null;
    const { maxEntries } = this;
    return { hits: this.#hits, misses: this.#misses, bypassed: this.#bypassed, size, maxEntries, trusted, revokedIds };
  }
}

/** Records are frozen, with their arrays and the objects in them, so no caller can change what the next one reads. */
function freeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const field of Object.values(value)) {
      if (!Array.isArray(field)) continue;
      for (const item of field) if (typeof item === "object" && item !== null) Object.freeze(item);
      Object.freeze(field);
    }
    Object.freeze(value);
  }
  return value;
}
