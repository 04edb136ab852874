/**
 * A map of at most a fixed number of entries, for the caches of the token
 * checks (`verified_tokens.ts`, `store/read_cache.ts`).
 *
 * When it is full, a new entry takes the place of the less recently used of
 * two entries picked at random (sampled LRU, as Redis approximates LRU).
 * Finding the least recently used entry of all would cost a walk or a list;
 * V8's `map.delete(map.keys().next().value)` walks past every entry deleted
 * since the table was last rebuilt (7.5-10 µs an insertion at 10,000
 * entries, once full). The sampling also degrades gracefully where exact
 * LRU falls off a cliff: tokens or sessions used in turn, a few more than
 * the capacity, are never found by LRU (each is dropped just before its
 * turn comes back), while here a good part of them is. Simulated hit rates
 * with a capacity of 10,000 (ninth session, `docs/BENCHMARKS.md`): 12,000
 * keys in turn 0 % with LRU, 57 % here; 12,000 keys at random 83 % both;
 * a Zipf law over 20,000 keys 68 and 66 %. The two generations used before
 * (young and old, the old dropped whole) kept only half to all of their
 * capacity: 12,000 keys at random 55 %, 8,000 keys in turn 40 %.
 *
 * @module
 */

/**
 * At most `capacity` entries; when full, a new one replaces the less
 * recently used of two others picked at random, so the entry used last is
 * never the one replaced.
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
  /** Where each key's entry is in the arrays below. */
  #slots = new Map<K, number>();
  #keys: (K | undefined)[] = [];
  #values: (V | undefined)[] = [];
  /** When each slot was last used, in uses of this map. */
  #usedAt: number[] = [];
  /** Slots emptied by `delete`, used again before the arrays grow. */
  #free: number[] = [];
  #uses = 0;
  #random: () => number;

  /**
   * @param random numbers in [0, 1) that pick the entries compared (tests pass a seeded one)
   * @throws {RangeError} unless `capacity` is a whole number >= 1
   */
  constructor(capacity: number, random: () => number = Math.random) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`BoundedMap: capacity must be a whole number >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#random = random;
  }

  /** Entries held now. */
  get size(): number {
    return this.#slots.size;
  }

  /** The value of `key`, or `undefined`; a hit marks the entry as used. */
  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.#usedAt[slot] = ++this.#uses;
    return this.#values[slot];
  }

  /** Whether `key` is held; does not mark it as used. */
  has(key: K): boolean {
    return this.#slots.has(key);
  }

  /** Sets `key`, marking it as used, and makes room when full. */
  set(key: K, value: V): void {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#free.pop() ?? (this.#keys.length < this.capacity ? this.#keys.length : this.#evict());
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
    }
    this.#values[slot] = value;
    this.#usedAt[slot] = ++this.#uses;
  }

  /** Forgets `key`. */
  delete(key: K): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#free.push(slot);
  }

  /** Forgets everything. */
  clear(): void {
    this.#slots = new Map();
    this.#keys = [];
    this.#values = [];
    this.#usedAt = [];
    this.#free = [];
  }

  /** Empties the less recently used of two different slots picked at random (every slot is taken) and returns it. */
  #evict(): number {
    const capacity = this.capacity;
    let slot = Math.floor(this.#random() * capacity);
    if (capacity > 1) {
      const other = (slot + 1 + Math.floor(this.#random() * (capacity - 1))) % capacity;
      if (this.#usedAt[other] < this.#usedAt[slot]) slot = other;
    }
    this.#slots.delete(this.#keys[slot] as K);
    return slot;
  }
}
