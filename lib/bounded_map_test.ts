import assert from "node:assert/strict";
import { Random } from "../tests/helpers/fuzz_random.ts";
import { BoundedMap } from "./bounded_map.ts";

Deno.test("BoundedMap keeps at most its capacity and forgets the least recently used generation", () => {
  const map = new BoundedMap<string, number>(4);
  for (const [key, value] of [["a", 1], ["b", 2], ["c", 3], ["d", 4]] as const) map.set(key, value);
  assert.equal(map.size, 4);
  // Generations of 2: {a, b} is old, {c, d} young. A hit in the old one moves the entry to a young one,
  // which makes room by dropping the old generation: b, used least recently, goes.
  assert.equal(map.get("a"), 1);
  assert.equal(map.size, 3);
  map.set("e", 5);
  assert.deepEqual(["a", "b", "c", "d", "e"].map((key) => map.has(key)), [true, false, true, true, true]);
  map.set("f", 6);
  assert.deepEqual(["a", "c", "d", "e", "f"].map((key) => map.has(key)), [true, false, false, true, true]);
  map.set("d", 40);
  assert.equal(map.get("d"), 40);
  map.delete("a");
  assert.equal(map.get("a"), undefined);
  map.clear();
  assert.equal(map.size, 0);
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
    const map = new BoundedMap<number, number>(capacity);
    const truth = new Map<number, number>();
    for (let step = 0; step < 5000; step++) {
      const key = random.below(3 * capacity + 2);
      const action = random.below(10);
      if (action < 5) {
        map.set(key, step);
        truth.set(key, step);
        assert.equal(map.get(key), step, "a value just set is held");
      } else if (action < 9) {
        const value = map.get(key);
        if (value !== undefined) {
          assert.equal(value, truth.get(key), "the latest value of the key");
          assert.equal(map.get(key), value, "a value just used is still held");
        }
      } else {
        map.delete(key);
        truth.delete(key);
        assert.equal(map.has(key), false);
      }
      assert.ok(map.size <= capacity, `size ${map.size} over capacity ${capacity}`);
    }
  }
});
