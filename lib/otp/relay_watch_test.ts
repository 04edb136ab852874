import assert from "node:assert/strict";
import { RelayWatch } from "./relay_watch.ts";

function fakeRelay(start = 1_000_000) {
  const clock = { now: start };
  let up = true;
  let checks = 0;
  const check = async () => {
    checks++;
    await Promise.resolve();
    if (!up) throw new Error('Cannot reach the SMTP relay "smtp.example:587" within 5 s: connection refused');
  };
  return {
    clock,
    setUp: (value: boolean) => up = value,
    checks: () => checks,
    watch: (okAt: number | null = null) => new RelayWatch(check, { now: () => clock.now, okAt }),
  };
}

Deno.test("RelayWatch counts the start-up check for a minute, then checks again", async () => {
  const relay = fakeRelay();
  const watch = relay.watch(relay.clock.now);
  assert.deepEqual(await watch.status(), { ok: true, lastOkAt: relay.clock.now, reason: null });
  relay.clock.now += 59_999;
  assert.equal((await watch.status()).ok, true);
  assert.equal(relay.checks(), 0, "no check while the last connection is fresh");
  relay.clock.now += 1;
  assert.equal((await watch.status()).ok, true);
  assert.equal(relay.checks(), 1);
});

Deno.test("RelayWatch reports a relay that went away, and checks it at most once a minute", async () => {
  const relay = fakeRelay();
  const watch = relay.watch(relay.clock.now);
  relay.setUp(false);
  relay.clock.now += 60_000;
  const [first, second] = await Promise.all([watch.status(), watch.status()]);
  assert.equal(relay.checks(), 1, "concurrent probes share one check");
  assert.equal(first.ok, false);
  assert.match(first.reason ?? "", /connection refused/);
  assert.deepEqual(second, first);
  relay.setUp(true);
  relay.clock.now += 30_000;
  assert.equal((await watch.status()).ok, false, "the failed check stands until the next one");
  assert.equal(relay.checks(), 1);
  relay.clock.now += 30_000;
  assert.equal((await watch.status()).ok, true);
  assert.equal(relay.checks(), 2);
});

Deno.test("RelayWatch takes a delivery as a connection, so a busy relay is never checked", async () => {
  const relay = fakeRelay();
  const watch = relay.watch();
  watch.succeeded();
  for (let minute = 0; minute < 5; minute++) {
    relay.clock.now += 50_000;
    watch.succeeded();
    assert.equal((await watch.status()).ok, true);
  }
  assert.equal(relay.checks(), 0);
  const unknown = fakeRelay().watch();
  assert.equal((await unknown.status()).ok, true, "without a known connection the first probe checks");
});
