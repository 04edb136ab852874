/**
 * A map of at most a fixed number of entries, for the caches of the token
 * checks (`verified_tokens.ts`, `store/read_cache.ts`). They used to drop
 * their oldest entry with `map.delete(map.keys().next().value)`, which in
 * V8 walks past every entry deleted since the table was last rebuilt: at
 * 10,000 entries about 7.5-10 µs an insertion once full, against 0.08 µs
 * here. Here entries live in two generations: new ones go into the young
 * generation; when it is full it becomes the old one and the previous old
 * one is dropped whole. An entry found in the old generation moves back
 * into the young one, so what is in use stays (the least recently used
 * generation is what goes).
 *
 * @module
 */

/**
 * At most `capacity` entries; the least recently used go first, a
 * generation (half the capacity) at a time.
 *
 * @example
 * ```ts
 * const recent = new BoundedMap<string, number>(10_000);
 * recent.set("a", 1);
 * recent.get("a"); // 1
 * ```
 */
export class BoundedMap<K, V> {
  readonly capacity: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  /** Entries of a generation. */
  #generation: number;
  /** Whether the young generation, once full, is kept as the old one (not with a capacity of 1). */
  #keepsOld: boolean;

  /** @throws {RangeError} unless `capacity` is a whole number >= 1 */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`BoundedMap: capacity must be a whole number >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#generation = Math.max(1, Math.floor(capacity / 2));
    this.#keepsOld = 2 * this.#generation <= capacity;
  }

  /** Entries held now. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The value of `key`, or `undefined`; a hit marks the entry as used. */
  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined || this.#young.has(key)) return young;
    if (!this.#old.has(key)) return undefined;
    const value = this.#old.get(key) as V;
    this.#old.delete(key);
    this.#put(key, value);
    return value;
  }

  /** Whether `key` is held; does not mark it as used. */
  has(key: K): boolean {
    return this.#young.has(key) || this.#old.has(key);
  }

  /** Sets `key`, making room when full. */
  set(key: K, value: V): void {
    this.#old.delete(key);
    this.#put(key, value);
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
  }

  #put(key: K, value: V): void {
    if (this.#young.size >= this.#generation && !this.#young.has(key)) {
      this.#old = this.#keepsOld ? this.#young : new Map();
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
