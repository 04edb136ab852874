import assert from "node:assert/strict";
import { parseChange } from "./postgres_changes.ts";
import { ReadCache, REVOKED_SET_SLICE } from "./read_cache.ts";

/** A cache on a clock the test moves. */
function cacheAt(start = 1000, options: { maxEntries?: number; maxRevokedIds?: number } = {}) {
  const clock = { now: start };
  const cache = new ReadCache({ ...options, now: () => clock.now });
  return { cache, clock };
}

function loader<T>(value: T) {
  const calls = { count: 0 };
  return { calls, load: () => (calls.count++, Promise.resolve(value)) };
}

Deno.test("ReadCache answers from the store and keeps nothing until it is trusted", async () => {
  const { cache } = cacheAt();
  const { calls, load } = loader(false);
  assert.equal(await cache.read("revoked", "j1", load), false);
  assert.equal(await cache.read("revoked", "j1", load), false);
  assert.equal(calls.count, 2);
  assert.deepEqual(cache.stats(), {
    hits: 0,
    misses: 0,
    bypassed: 2,
    size: 0,
    maxEntries: 10_000,
    trusted: false,
    revokedIds: null,
  });
});

Deno.test("ReadCache keeps values while the lease runs, then asks the store and drops them when renewed", async () => {
  const { cache, clock } = cacheAt();
  cache.trustUntil(2000);
  const { calls, load } = loader({ sessionId: "s1", revokedAt: null });
  await cache.read("session", "s1", load);
  const kept = await cache.read("session", "s1", load);
  assert.equal(calls.count, 1);
  assert.ok(Object.isFrozen(kept), "kept values are frozen");
  const record = { clientId: "c1", keys: [{ prefix: "bsk_a" }], scopes: ["x"] };
  await cache.read("client", "c1", () => Promise.resolve(record));
  const client = await cache.read("client", "c1", () => Promise.resolve(record));
  assert.ok(Object.isFrozen(client.keys) && Object.isFrozen(client.keys[0]) && Object.isFrozen(client.scopes));
  clock.now = 2000; // the lease lapsed: a change may have been missed
  await cache.read("session", "s1", load);
  assert.equal(calls.count, 2);
  cache.trustUntil(3000);
  assert.equal(cache.stats().size, 0, "renewing a lapsed lease drops what was kept before");
  await cache.read("session", "s1", load);
  assert.equal(calls.count, 3);
  cache.trustUntil(3500); // renewed before it lapsed: kept values stay
  await cache.read("session", "s1", load);
  assert.equal(calls.count, 3);
  cache.distrust();
  assert.deepEqual([cache.trusted, cache.stats().size], [false, 0]);
});

Deno.test("ReadCache does not keep a value read while anything was invalidated", async () => {
  const { cache } = cacheAt();
  cache.trustUntil(10_000);
  let release!: (value: boolean) => void;
  const slow = () => new Promise<boolean>((resolve) => release = resolve);
  const reading = cache.read("revoked", "j1", slow);
  cache.invalidate("revoked", "j1"); // the revocation commits while the old answer is on its way
  release(false);
  assert.equal(await reading, false);
  const { calls, load } = loader(true);
  assert.equal(await cache.read("revoked", "j1", load), true, "the stale answer was not kept");
  assert.equal(calls.count, 1);
  // An invalidation of another key also prevents keeping (one epoch for all): never stale, sometimes a miss more.
  const other = cache.read("user", "u1", slow);
  cache.invalidateUser("u2", "a2");
  release(false);
  await other;
  assert.equal(cache.stats().size, 1);
});

Deno.test("ReadCache drops a user by id and by account id, keeps at most maxEntries per kind", async () => {
  const { cache } = cacheAt(0, { maxEntries: 2 });
  cache.trustUntil(10_000);
  const user = { userId: "u1", accountId: "a1", status: "approved" };
  await cache.read("user", "u1", () => Promise.resolve(user));
  await cache.read("account", "a1", () => Promise.resolve(user));
  assert.equal(cache.stats().size, 2);
  cache.invalidateUser("u1", "a1");
  assert.equal(cache.stats().size, 0);
  for (const id of ["j1", "j2", "j3"]) await cache.read("revoked", id, () => Promise.resolve(false));
  assert.equal(cache.stats().size, 2);
  const { calls, load } = loader(false);
  await cache.read("revoked", "j1", load);
  assert.equal(calls.count, 1, "the oldest was dropped");
  await cache.read("revoked", "j3", load);
  assert.equal(calls.count, 1, "the newest was kept");
});

Deno.test("parseChange reads the triggers' payloads and refuses anything else", () => {
  assert.deepEqual(parseChange("u:11111111-1111-4111-8111-111111111111:"), {
    kind: "user",
    userId: "11111111-1111-4111-8111-111111111111",
    accountId: null,
  });
  assert.deepEqual(parseChange("u:u1:a1"), { kind: "user", userId: "u1", accountId: "a1" });
  assert.deepEqual(parseChange("s:s1"), { kind: "session", id: "s1" });
  assert.deepEqual(parseChange("j:j1"), { kind: "revoked", id: "j1" });
  assert.deepEqual(parseChange("c:c1"), { kind: "client", id: "c1" });
  assert.deepEqual(parseChange("x:bus_auth_sessions"), { kind: "all" });
  assert.deepEqual(parseChange("e:bus_auth_revoked_tokens"), { kind: "expired" });
  for (const payload of ["", "s", "s:", "s:a:b", "u:u1", "q:x", "x:a:b", "e:", "e:a:b", "j:j1:", "u:u1:a1:z"]) {
    assert.equal(parseChange(payload), null, payload);
  }
});

/** A load of the revocation list that the test answers when it wants. */
function listLoader() {
  const calls: { resolve: (ids: string[] | null) => void; reject: (error: Error) => void }[] = [];
  const load = () => new Promise<string[] | null>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, load };
}

/** Lets the cache see a load's answer. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("ReadCache answers revocations from the whole list once loaded, with what was revoked during the load", async () => {
  const { cache } = cacheAt(1000, { maxRevokedIds: 10 });
  const { calls, load } = listLoader();
  assert.equal(cache.revokedFromList("j1", load), undefined, "not trusted: ask the store");
  assert.equal(calls.length, 0, "and nothing is loaded while untrusted");
  cache.trustUntil(5000);
  assert.equal(cache.revokedFromList("j1", load), undefined, "not loaded yet");
  assert.equal(cache.revokedFromList("j1", load), undefined);
  assert.equal(calls.length, 1, "one load at a time");
  cache.noteRevoked("during");
  calls[0].resolve(["j1", "j2"]);
  await settle();
  assert.deepEqual(["j1", "j2", "during", "j3"].map((id) => cache.revokedFromList(id, load)), [
    true,
    true,
    true,
    false,
  ]);
  assert.equal(cache.stats().revokedIds, 3);
  cache.noteRevoked("j3");
  assert.equal(cache.revokedFromList("j3", load), true, "a revocation after the load is held");
  assert.equal(cache.stats().revokedIds, 4);
  assert.equal(calls.length, 1);
});

Deno.test("ReadCache drops the revocation list with everything, discards a load that raced a drop, and loads again", async () => {
  const { cache, clock } = cacheAt(1000, { maxRevokedIds: 3 });
  const { calls, load } = listLoader();
  cache.trustUntil(100_000);
  cache.revokedFromList("x", load);
  cache.clear(); // a purge while the load is in flight: its answer may miss what changed
  calls[0].resolve(["a"]);
  await settle();
  assert.equal(cache.revokedFromList("a", load), undefined, "the raced load was discarded");
  assert.equal(calls.length, 1, "a second load waits REVOKED_RELOAD_MS after the first started");
  clock.now += 1000;
  cache.revokedFromList("a", load);
  assert.equal(calls.length, 2);
  calls[1].resolve(["a"]);
  await settle();
  assert.equal(cache.revokedFromList("a", load), true);
  cache.distrust();
  assert.equal(cache.revokedFromList("a", load), undefined, "a lapse drops the list");
  cache.trustUntil(200_000);
  clock.now += 1000;
  assert.equal(cache.revokedFromList("a", load), undefined, "after a lapse the list is loaded again");
  calls[2].resolve(["a", "b", "c", "d"]);
  await settle();
  assert.equal(cache.revokedFromList("a", load), undefined, "over maxRevokedIds: ask the store for each id");
  clock.now += 2000; // over its bound: asked for again 2 s after that load started
  cache.revokedFromList("a", load);
  calls[3].reject(new Error("the database is down"));
  await settle();
  clock.now += 2000;
  cache.revokedFromList("a", load);
  calls[4].resolve(["a", "b", "c"]);
  await settle();
  assert.equal(cache.revokedFromList("c", load), true, "a failed load is tried again");
  cache.noteRevoked("d");
  assert.equal(cache.revokedFromList("c", load), undefined, "a list grown over its bound is dropped");
  assert.equal(cache.stats().revokedIds, null);
});

Deno.test("ReadCache asks for a revocation list over its bound less and less often, and says when it is over and held", async () => {
  const states: string[] = [];
  const clock = { now: 0 };
  const cache = new ReadCache({
    maxRevokedIds: 2,
    now: () => clock.now,
    onRevocationList: (state, limit) => states.push(`${state} ${limit}`),
  });
  const { calls, load } = listLoader();
  cache.trustUntil(Infinity);
  const startsAt: number[] = [];
  // Every 100 ms for 200 s, a check asks; each load answers that the list is over its bound.
  for (; clock.now <= 200_000; clock.now += 100) {
    const before = calls.length;
    assert.equal(cache.revokedFromList("j", load), undefined);
    if (calls.length > before) {
      startsAt.push(clock.now);
      calls.at(-1)!.resolve(null);
      await settle();
    }
  }
  assert.deepEqual(startsAt, [0, 2000, 6000, 14_000, 30_000, 62_000, 122_000, 182_000]);
  assert.deepEqual(states, ["over_bound 2"], "said once, not at every load");
  // A list that shrank (expired revocations purged) is held again, said once, and loads are as frequent as before.
  const next = startsAt.at(-1)! + 60_000;
  clock.now = next;
  cache.revokedFromList("j", load);
  calls.at(-1)!.resolve(["a"]);
  await settle();
  assert.equal(cache.revokedFromList("a", load), true);
  assert.deepEqual(states, ["over_bound 2", "held 2"]);
  cache.noteRevoked("b");
  cache.noteRevoked("c"); // over its bound again: dropped
  assert.equal(cache.revokedFromList("a", load), undefined);
  clock.now = next + 1000;
  cache.revokedFromList("a", load);
  assert.equal(calls.length, startsAt.length + 2, "1 s after a load that was held, the next one starts");
  calls.at(-1)!.resolve(["a", "b", "c"]);
  await settle();
  assert.deepEqual(states, ["over_bound 2", "held 2", "over_bound 2"]);
});

Deno.test("ReadCache builds a long revocation list a slice at a time and keeps what was revoked meanwhile", async () => {
  const { cache } = cacheAt(1000, { maxRevokedIds: 10_000 });
  const { calls, load } = listLoader();
  cache.trustUntil(Infinity);
  cache.revokedFromList("x", load);
  const ids = Array.from({ length: REVOKED_SET_SLICE * 2 + 1 }, (_, i) => `id-${i}`);
  calls[0].resolve(ids);
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  // The first slice is in; the rest wait for the event loop.
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(cache.revokedFromList("id-0", load), undefined, "not held before the last slice");
  cache.noteRevoked("late");
  for (let i = 0; i < 10 && cache.stats().revokedIds === null; i++) await settle();
  assert.ok(timerRan, "a timer due meanwhile ran");
  assert.equal(cache.stats().revokedIds, ids.length + 1);
  assert.deepEqual(["id-0", `id-${ids.length - 1}`, "late", "x"].map((id) => cache.revokedFromList(id, load)), [
    true,
    true,
    true,
    false,
  ]);
  assert.equal(calls.length, 1);
});

Deno.test("ReadCache keeps everything through a purge of expired rows and loads the list again, answering meanwhile", async () => {
  const { cache, clock } = cacheAt(1000, { maxRevokedIds: 3 });
  const { calls, load } = listLoader();
  cache.trustUntil(Infinity);
  await cache.read("session", "s1", () => Promise.resolve({ sessionId: "s1" }));
  cache.revokedFromList("x", load);
  calls[0].resolve(["old", "live"]);
  await settle();
  cache.noteExpiredPurged();
  assert.equal(cache.revokedFromList("old", load), true, "the held list answers while the new one loads");
  assert.equal(calls.length, 1, "a second load waits REVOKED_RELOAD_MS after the first started");
  clock.now += 1000;
  assert.equal(cache.revokedFromList("old", load), true);
  assert.equal(calls.length, 2, "then the list is loaded again");
  cache.revokedFromList("old", load);
  assert.equal(calls.length, 2, "once");
  cache.noteRevoked("during");
  calls[1].resolve(["live"]);
  await settle();
  assert.deepEqual(["old", "live", "during"].map((id) => cache.revokedFromList(id, load)), [false, true, true]);
  const { misses } = cache.stats();
  assert.deepEqual(await cache.read("session", "s1", () => assert.fail("dropped")), { sessionId: "s1" });
  assert.equal(cache.stats().misses, misses);
  clock.now += 1000;
  cache.revokedFromList("old", load);
  assert.equal(calls.length, 2, "no purge since: no load");

  // A failed reload leaves the held list answering and is tried again; a reload over the bound drops it.
  cache.noteExpiredPurged();
  cache.revokedFromList("old", load);
  calls[2].reject(new Error("the database is down"));
  await settle();
  assert.equal(cache.revokedFromList("live", load), true);
  clock.now += 1000;
  cache.revokedFromList("live", load);
  assert.equal(calls.length, 4, "tried again");
  calls[3].resolve(["a", "b", "c", "d"]);
  await settle();
  assert.equal(cache.revokedFromList("live", load), undefined, "over its bound: ask the store for each id");

  // A purge during a load has the list loaded once more after it.
  clock.now += 2000;
  cache.revokedFromList("live", load);
  cache.noteExpiredPurged();
  calls[4].resolve(["live"]);
  await settle();
  assert.equal(cache.revokedFromList("live", load), true);
  clock.now += 1000;
  cache.revokedFromList("live", load);
  assert.equal(calls.length, 6, "loaded again for the purge made during the load");
});
