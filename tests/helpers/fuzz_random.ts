/**
 * A small seeded pseudo-random generator for the fuzz tests (mulberry32):
 * the same seed gives the same sequence of requests, so a failure can be
 * replayed with `BUS_AUTH_FUZZ_SEED`.
 *
 * @module
 */

/** Printable ASCII, the characters a header value may always carry. */
export const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");

/** Deterministic randomness from a 32-bit seed. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** An integer in [0, n): an index into `n` things. */
  below(n: number): number {
    return this.int(0, n - 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string = PRINTABLE): string {
    let text = "";
    for (let i = 0; i < length; i++) text += alphabet[this.below(alphabet.length)];
    return text;
  }

  /** A version-4 UUID in lowercase canonical form. */
  uuid(): string {
    const hex = this.string(32, "0123456789abcdef").split("");
    hex[12] = "4";
    hex[16] = "89ab"[this.int(0, 3)];
    const text = hex.join("");
    return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.int(0, 255));
  }
}

/** The seed of a run: `BUS_AUTH_FUZZ_SEED` when set, else `fallback`. */
export function fuzzSeed(fallback: number): number {
  const text = Deno.env.get("BUS_AUTH_FUZZ_SEED");
  if (text === undefined || text === "") return fallback;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`BUS_AUTH_FUZZ_SEED must be a whole number, not "${text}"`);
  }
  return seed >>> 0;
}
