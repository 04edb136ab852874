/**
 * The bounded map of the token checks' caches (`lib/bounded_map.ts`) on
 * its own: hit rates over patterns of use, next to an exact LRU (a `Map`
 * kept in order of use) as the baseline measured in the same run, and the
 * time of a hit and of an insertion into a full map.
 *
 *   deno run -A bench/cache_bench.ts [--capacity 10000] [--uses 600000] [--seed 1]
 *
 * Hit rates are counted over the second half of the uses, once the map is
 * full. Patterns: keys in turn (a fleet of clients calling at a steady
 * interval), keys at random, Zipf laws (a few keys used far more than the
 * rest), and a hot set that moves.
 *
 * @module
 */

import { BoundedMap } from "../lib/bounded_map.ts";
import { Random } from "../tests/helpers/fuzz_random.ts";
import { benchArgs, wholeNumberArg } from "./_args.ts";

const values = benchArgs(
  {
    capacity: { type: "string", default: "10000" },
    uses: { type: "string", default: "600000" },
    seed: { type: "string", default: "1" },
  },
  "usage: deno run -A bench/cache_bench.ts [--capacity 10000] [--uses 600000] [--seed 1]",
);
const CAPACITY = wholeNumberArg("--capacity", values.capacity);
const USES = wholeNumberArg("--uses", values.uses);
const random = new Random(wholeNumberArg("--seed", values.seed));

/** Exact LRU: a `Map` in order of use, its first key the least recently used. */
class ExactLru {
  #map = new Map<number, true>();
  constructor(readonly capacity: number) {}
  use(key: number): boolean {
    if (this.#map.delete(key)) {
      this.#map.set(key, true);
      return true;
    }
    if (this.#map.size >= this.capacity) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, true);
    return false;
  }
}

/** A key drawn by a Zipf law over `n` keys with exponent `s`. */
function zipf(n: number, s: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
  const total = weights.reduce((a, b) => a + b);
  let sum = 0;
  const cdf = weights.map((weight) => (sum += weight / total));
  return () => {
    const r = random.next();
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cdf[middle] < r) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

const times = (factor: number) => Math.round(CAPACITY * factor);
const patterns: [string, (step: number) => number][] = [
  [`${times(0.8)} keys in turn`, (step) => step % times(0.8)],
  [`${times(1.2)} keys in turn`, (step) => step % times(1.2)],
  [`${times(2)} keys in turn`, (step) => step % times(2)],
  [`${times(1.2)} keys at random`, () => random.below(times(1.2))],
  [`Zipf, ${times(10)} keys, s 0.9`, zipf(times(10), 0.9)],
  [`Zipf, ${times(2)} keys, s 0.6`, zipf(times(2), 0.6)],
  [
    `a hot set of ${times(0.5)} that moves`,
    (step) => Math.floor(step / times(10)) * times(0.5) + random.below(times(0.5)),
  ],
];

console.log(`# bounded map of the caches: capacity ${CAPACITY}, ${USES} uses a pattern, hits of the second half`);
console.log("| uses | exact LRU (baseline) | BoundedMap |");
console.log("| --- | ---: | ---: |");
for (const [name, next] of patterns) {
  const lru = new ExactLru(CAPACITY);
  const map = new BoundedMap<number, true>(CAPACITY, () => random.next());
  let lruHits = 0;
  let mapHits = 0;
  for (let step = 0; step < USES; step++) {
    const key = next(step);
    const counted = step >= USES / 2;
    if (lru.use(key) && counted) lruHits++;
    if (map.get(key) !== undefined) {
      if (counted) mapHits++;
    } else map.set(key, true);
  }
  const rate = (hits: number) => `${(100 * hits / (USES - Math.ceil(USES / 2))).toFixed(1)} %`;
  console.log(`| ${name} | ${rate(lruHits)} | ${rate(mapHits)} |`);
}

const keys = Array.from({ length: CAPACITY * 20 }, () => crypto.randomUUID());
const full = new BoundedMap<string, number>(CAPACITY);
for (let i = 0; i < CAPACITY; i++) full.set(keys[i], i);
let started = performance.now();
let sum = 0;
for (let i = 0; i < 2_000_000; i++) sum += full.get(keys[CAPACITY - 1 - (i % 100)]) ?? 0;
const hitNs = (performance.now() - started) * 1e6 / 2_000_000;
started = performance.now();
for (let i = 0; i < 1_000_000; i++) full.set(keys[CAPACITY + (i % (keys.length - CAPACITY))], i);
const insertNs = (performance.now() - started) * 1e6 / 1_000_000;
console.log(
  `\nBoundedMap of ${CAPACITY} UUID keys: a hit ${hitNs.toFixed(1)} ns, an insertion into the full map ${
    insertNs.toFixed(1)
  } ns (${sum > 0 ? "values read" : "no value read"})`,
);
