/**
 * Snapshot files for help output: `tests/snapshots/<name>.txt`. Run the
 * tests with `UPDATE_SNAPSHOTS=1` to rewrite them after an intended change.
 *
 * @module
 */

import assert from "node:assert/strict";

const DIR = new URL("../snapshots/", import.meta.url);

/** Asserts that `actual` equals the stored snapshot `name` (or rewrites it when updating). */
export async function assertSnapshot(name: string, actual: string): Promise<void> {
  const file = new URL(`${name}.txt`, DIR);
  if (Deno.env.get("UPDATE_SNAPSHOTS") === "1") {
    await Deno.writeTextFile(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(file);
  } catch {
    assert.fail(`Missing snapshot ${name}.txt: run with UPDATE_SNAPSHOTS=1 to create it`);
  }
  assert.equal(actual, expected, `Output differs from snapshot ${name}.txt`);
}
