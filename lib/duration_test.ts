import assert from "node:assert/strict";
import { parseDuration } from "./duration.ts";
import { InvalidInputError } from "./errors.ts";

Deno.test("parseDuration() reads 90s, 10m, 1h, 2d and bare seconds", () => {
  assert.equal(parseDuration("90s"), 90);
  assert.equal(parseDuration("10m"), 600);
  assert.equal(parseDuration("1h"), 3600);
  assert.equal(parseDuration("2d"), 172800);
  assert.equal(parseDuration("45"), 45);
});

Deno.test("parseDuration() refuses zero, negatives, units it does not know and junk", () => {
  for (const bad of ["0", "0s", "-5s", "1w", "1.5h", "h", "", "10 m"]) {
    assert.throws(
      () => parseDuration(bad),
      (e) => e instanceof InvalidInputError && e.code === "invalid_duration",
      bad,
    );
  }
});
