import assert from "node:assert/strict";
import { pause } from "../lib/event_loop.ts";
import { PURGE_GRACE_MS, schedulePurge } from "./purge_schedule.ts";

/** A purge that runs until released. */
function heldPurge() {
  let calls = 0;
  let release = () => {};
  const purge = () => {
    calls++;
    return new Promise<void>((resolve) => release = resolve);
  };
  return { purge, calls: () => calls, release: () => release() };
}

/** Waits until `ready()` holds, for at most 2 s. */
async function until(ready: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!ready()) {
    assert.ok(Date.now() < deadline, "timed out");
    await pause(2);
  }
}

Deno.test("schedulePurge runs one sweep at a time: ticks during a sweep are skipped", async () => {
  const held = heldPurge();
  const sweeps = schedulePurge(held.purge, { intervalMs: 5, onError: () => assert.fail("no error expected") });
  try {
    await until(() => held.calls() === 1);
    await pause(40); // about 8 ticks while the sweep runs
    assert.equal(held.calls(), 1);
    held.release();
    await until(() => held.calls() === 2);
  } finally {
    held.release();
    await sweeps.stop();
  }
});

Deno.test("schedulePurge.stop() waits for the sweep in flight and ends the ticks", async () => {
  const held = heldPurge();
  const sweeps = schedulePurge(held.purge, { intervalMs: 5, onError: () => assert.fail("no error expected") });
  await until(() => held.calls() === 1);
  let stopped = false;
  const stopping = sweeps.stop().then(() => stopped = true);
  await pause(30);
  assert.equal(stopped, false, "stop() resolved while the sweep was still running");
  held.release();
  await stopping;
  await pause(30);
  assert.equal(held.calls(), 1, "a tick came after stop()");
});

Deno.test("schedulePurge reports a failed sweep and tries again on the next tick", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const sweeps = schedulePurge(
    () => {
      calls++;
      return Promise.reject(new Error(`sweep ${calls} failed`));
    },
    { intervalMs: 5, onError: (error) => errors.push(error) },
  );
  try {
    await until(() => errors.length >= 2);
    assert.match(String(errors[0]), /sweep 1 failed/);
    assert.match(String(errors[1]), /sweep 2 failed/);
  } finally {
    await sweeps.stop();
  }
});

Deno.test("schedulePurge sweeps what expired a minute before now, the clock skew allowed between replicas", async () => {
  assert.equal(PURGE_GRACE_MS, 60_000);
  const cutoffs: number[] = [];
  const sweeps = schedulePurge((before) => (cutoffs.push(before), Promise.resolve()), {
    intervalMs: 5,
    onError: () => assert.fail("no error expected"),
    now: () => 1_800_000_000_000,
  });
  try {
    await until(() => cutoffs.length > 0);
    assert.equal(cutoffs[0], 1_800_000_000_000 - 60_000);
  } finally {
    await sweeps.stop();
  }
});
