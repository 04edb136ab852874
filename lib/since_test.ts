import assert from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { parseSince } from "./since.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

Deno.test("parseSince() reads durations back from now", () => {
  assert.equal(parseSince("24h", NOW), NOW - 86_400_000);
  assert.equal(parseSince("90m", NOW), NOW - 5_400_000);
  assert.equal(parseSince("7d", NOW), NOW - 7 * 86_400_000);
  assert.equal(parseSince("30", NOW), NOW - 30_000);
  assert.equal(parseSince("999999999d", NOW), 0, "a window reaching before 1970 starts at 1970");
});

Deno.test("parseSince() reads ISO dates and times with an offset", () => {
  assert.equal(parseSince("2026-11-24", NOW), Date.UTC(2026, 10, 24));
  assert.equal(parseSince("2026-11-24T08:00:00Z", NOW), Date.UTC(2026, 10, 24, 8));
  assert.equal(parseSince("2026-11-24T08:00Z", NOW), Date.UTC(2026, 10, 24, 8));
  assert.equal(parseSince("2026-11-24T08:00:00.25Z", NOW), Date.UTC(2026, 10, 24, 8, 0, 0, 250));
  assert.equal(parseSince("2026-11-24T10:00:00+02:00", NOW), Date.UTC(2026, 10, 24, 8));
  assert.equal(parseSince("2026-11-24T06:30:00-01:30", NOW), Date.UTC(2026, 10, 24, 8));
  assert.equal(parseSince("2024-02-29", NOW), Date.UTC(2024, 1, 29));
  assert.equal(parseSince("9999-12-31T23:59:59.999Z", NOW), Date.UTC(9999, 11, 31, 23, 59, 59, 999));
  assert.equal(parseSince("1970-01-01", NOW), 0);
});

Deno.test("parseSince() refuses what it cannot read exactly with invalid_since", () => {
  for (
    const bad of [
      "",
      "yesterday",
      "-24h",
      "0",
      "24 h",
      "2026-11-24T08:00:00",
      "2026-02-30",
      "2025-02-29",
      "2026-13-01",
      "2026-11-24T24:00:00Z",
      "2026-11-24T08:60:00Z",
      "2026-11-24T08:00:00+24:00",
      "1969-12-31",
      "+012026-01-01",
      "2026-11-24 08:00:00Z",
      "2026-11-24T08:00:00.1234Z",
      "\u0000",
    ]
  ) {
    assert.throws(
      () => parseSince(bad, NOW),
      (error) => error instanceof InvalidInputError && error.code === "invalid_since",
      JSON.stringify(bad),
    );
  }
});
