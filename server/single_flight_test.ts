import assert from "node:assert/strict";
import { singleFlight } from "./single_flight.ts";

Deno.test("singleFlight() shares one run among concurrent calls, and a failure with them, then runs again", async () => {
  let runs = 0;
  let outcome: () => Promise<number> = () => Promise.resolve(runs);
  const shared = singleFlight(() => (runs++, outcome()));
  assert.deepEqual(await Promise.all([shared(), shared(), shared()]), [1, 1, 1]);
  assert.equal(await shared(), 2, "a call after the answer runs again");
  outcome = () => Promise.reject(new Error("store down"));
  const failures = await Promise.allSettled([shared(), shared()]);
  assert.deepEqual(failures.map((result) => result.status), ["rejected", "rejected"]);
  assert.equal(runs, 3);
  outcome = () => Promise.resolve(42);
  assert.equal(await shared(), 42, "a failure is not kept");
});
