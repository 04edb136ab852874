import assert from "node:assert/strict";
import { storeConformance } from "../../tests/helpers/store_conformance.ts";
import { MemoryStore, PURGE_SLICE } from "./memory.ts";

storeConformance("memory", () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});

Deno.test("purgeExpired looks at the entries a slice at a time; what is written meanwhile and is live stays", async () => {
  const store = new MemoryStore();
  const now = Date.now();
  const expired = PURGE_SLICE * 2 + 3;
  for (let i = 0; i < expired; i++) await store.revokeToken({ tokenId: `gone-${i}`, expiresAt: now - 1, now });
  await store.createSession({ sessionId: "old", userId: "u", now, absoluteExpiresAt: now - 1 });
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  const purging = store.purgeExpired(now);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await store.revokeToken({ tokenId: "meanwhile", expiresAt: now + 60_000, now });
  await purging;
  assert.ok(timerRan, "a timer due meanwhile ran during the purge");
  assert.deepEqual(await store.listRevokedTokenIds(10), ["meanwhile"]);
  assert.equal(await store.findSession("old"), null);
});
