import assert from "node:assert/strict";
import { pause } from "./event_loop.ts";

Deno.test("pause() lets a timer that is due run before the caller goes on, and waits the time asked", async () => {
  let ran = false;
  setTimeout(() => ran = true, 0);
  await pause();
  assert.ok(ran);
  const started = performance.now();
  await pause(20);
  assert.ok(performance.now() - started >= 19, "waited about 20 ms");
});
