import assert from "node:assert/strict";
import { forEachInSlices, pause } from "./event_loop.ts";

Deno.test("pause() lets a timer that is due run before the caller goes on, and waits the time asked", async () => {
  let ran = false;
  setTimeout(() => ran = true, 0);
  await pause();
  assert.ok(ran);
  const started = performance.now();
  await pause(20);
  assert.ok(performance.now() - started >= 19, "waited about 20 ms");
});

Deno.test("forEachInSlices() visits every item in order and lets timers run between slices", async () => {
  const seen: number[] = [];
  const timerAt: number[] = [];
  const tick = () => {
    timerAt.push(seen.length);
    if (seen.length < 7) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await forEachInSlices([1, 2, 3, 4, 5, 6, 7], 3, (item) => seen.push(item));
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(timerAt.slice(0, 2), [3, 6], "a timer ran after each full slice, not inside one");
});
