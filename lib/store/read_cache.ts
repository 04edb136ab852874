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
 * - **Bounded.** Each kind keeps at most `maxEntries` values, the least
 *   recently used dropped first (`../bounded_map.ts`).
 *
 * @module
 */

import { BoundedMap } from "../bounded_map.ts";
import type { StoreCacheStats } from "./store.ts";

/** The kinds of state kept. */
export type CachedKind = "session" | "revoked" | "user" | "account" | "client";

const KINDS: readonly CachedKind[] = ["session", "revoked", "user", "account", "client"];

/** Options of {@link ReadCache}. */
export interface ReadCacheOptions {
  /** Most values kept per kind (default 10,000; at least 1). */
  maxEntries?: number;
  /** A monotonic clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

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
  #now: () => number;
  #maps: Map<CachedKind, BoundedMap<string, unknown>>;
  #epoch = 0;
  #trustedUntil = -Infinity;
  #hits = 0;
  #misses = 0;
  #bypassed = 0;

  constructor(options: ReadCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.#maps = new Map(KINDS.map((kind) => [kind, new BoundedMap(this.maxEntries)]));
    this.#now = options.now ?? (() => performance.now());
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

  /** Drops everything. */
  clear(): void {
    for (const map of this.#maps.values()) map.clear();
    this.#epoch++;
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
    return { hits: this.#hits, misses: this.#misses, bypassed: this.#bypassed, size, trusted: this.trusted };
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
