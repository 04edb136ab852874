import assert from "node:assert/strict";
import { Random } from "../tests/helpers/fuzz_random.ts";
import { BoundedMap } from "./bounded_map.ts";

Deno.test("BoundedMap replaces the less recently used of two entries picked at random when full", () => {
  // The picks are the test's: slot 0 ("a") and, of the three others, the one at 2/3 ("d", slot 3).
  const picks = [0, 0.7];
  const map = new BoundedMap<string, number>(4, () => picks.shift()!);
  for (const [key, value] of [["a", 1], ["b", 2], ["c", 3], ["d", 4]] as const) map.set(key, value);
  assert.equal(map.size, 4);
  assert.equal(map.get("a"), 1); // "a" is now the entry used last: "d" is the less recently used of the two
  map.set("e", 5);
  assert.deepEqual(["a", "b", "c", "d", "e"].map((key) => map.has(key)), [true, true, true, false, true]);
  assert.equal(map.size, 4);
  // Again slot 0 ("a", set before "e") against slot 1 ("b"): "b" is older.
  picks.push(0, 0);
  map.set("f", 6);
  assert.deepEqual(["a", "b", "c", "e", "f"].map((key) => map.has(key)), [true, false, true, true, true]);
  map.set("e", 50);
  assert.equal(map.get("e"), 50);
  map.delete("a");
  assert.equal(map.get("a"), undefined);
  assert.equal(map.size, 3);
  map.set("g", 7); // into the slot "a" left: nothing replaced, no pick
  assert.deepEqual([map.size, picks.length], [4, 0]);
  map.clear();
  assert.equal(map.size, 0);
  map.set("h", 8);
  assert.deepEqual([map.get("h"), map.size], [8, 1]);
});

Deno.test("BoundedMap finds a good part of keys used in turn a few more than its capacity (LRU finds none)", () => {
  const random = new Random(3);
  const map = new BoundedMap<number, number>(1000, () => random.next());
  let hits = 0;
  for (let step = 0; step < 24_000; step++) {
    const key = step % 1200;
    if (map.get(key) !== undefined) {
      if (step >= 12_000) hits++;
    } else map.set(key, step);
  }
  assert.ok(hits > 12_000 * 0.4, `${hits} hits of 12,000`);
});

Deno.test("BoundedMap holds undefined values and a capacity of 1", () => {
  const map = new BoundedMap<string, number | undefined>(1);
  map.set("a", undefined);
  assert.equal(map.has("a"), true);
  map.set("b", 2);
  assert.deepEqual([map.has("a"), map.get("b"), map.size], [false, 2, 1]);
  assert.throws(() => new BoundedMap(0), RangeError);
  assert.throws(() => new BoundedMap(1.5), RangeError);
});

Deno.test("BoundedMap never exceeds its capacity, never answers a stale value, and keeps what was just used", () => {
  const random = new Random(7);
  for (const capacity of [1, 2, 3, 4, 5, 8, 33]) {
    const map = new BoundedMap<number, number>(capacity, () => random.next());
    const truth = new Map<number, number>();
    let last: number | null = null;
    for (let step = 0; step < 5000; step++) {
      const key = random.below(3 * capacity + 2);
      const action = random.below(10);
      if (action < 5) {
        map.set(key, step);
        truth.set(key, step);
        assert.equal(map.get(key), step, "a value just set is held");
        if (capacity > 1 && last !== null && last !== key) assert.ok(map.has(last), "the entry used last stays");
        last = key;
      } else if (action < 9) {
        const value = map.get(key);
        if (value !== undefined) {
          assert.equal(value, truth.get(key), "the latest value of the key");
          assert.equal(map.get(key), value, "a value just used is still held");
          last = key;
        }
      } else {
        map.delete(key);
        truth.delete(key);
        assert.equal(map.has(key), false);
        if (last === key) last = null;
      }
      assert.ok(map.size <= capacity, `size ${map.size} over capacity ${capacity}`);
    }
  }
});
