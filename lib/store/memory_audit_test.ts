import assert from "node:assert/strict";
import type { AuditQuery, AuditRecord } from "./audit.ts";
import { openStore } from "./factory.ts";
import { MEMORY_AUDIT_LIMIT, MemoryAudit } from "./memory_audit.ts";

const ALL: AuditQuery = { since: null, actor: null, target: null, action: null, after: null, limit: 1_000_000 };

function record(n: number): AuditRecord {
  return {
    auditId: `id-${String(n).padStart(6, "0")}`,
    at: 1_000 + n,
    actor: n % 2 === 0 ? "bootstrap-key" : "admin:ops",
    action: "token.mint",
    target: `worker-${n}`,
    detail: null,
    requestId: null,
    sourceIp: null,
    outcome: "ok",
  };
}

Deno.test("the memory trail keeps its newest records, oldest first, and says once that it dropped one", async () => {
  const drops: number[] = [];
  const audit = new MemoryAudit({ limit: 5, onFirstDrop: (limit) => drops.push(limit) });
  for (let n = 1; n <= 5; n++) await audit.appendAudit(record(n));
  assert.deepEqual(drops, []);
  for (let n = 6; n <= 13; n++) await audit.appendAudit(record(n));
  assert.deepEqual(drops, [5]);
  const kept = await audit.listAudit(ALL);
  assert.deepEqual(kept.map((r) => r.target), ["worker-9", "worker-10", "worker-11", "worker-12", "worker-13"]);
  // Filters and pages read the kept records only.
  const page = await audit.listAudit({ ...ALL, actor: "admin:ops", limit: 1 });
  assert.deepEqual(page.map((r) => r.target), ["worker-9"]);
  const next = await audit.listAudit({
    ...ALL,
    actor: "admin:ops",
    after: { at: page[0].at, auditId: page[0].auditId },
  });
  assert.deepEqual(next.map((r) => r.target), ["worker-11", "worker-13"]);
});

Deno.test("pruning a memory trail that has wrapped keeps the newer records, and appends go on after them", async () => {
  const audit = new MemoryAudit({ limit: 4 });
  for (let n = 1; n <= 7; n++) await audit.appendAudit(record(n));
  assert.equal(await audit.pruneAudit(1_000 + 6), 2);
  await audit.appendAudit(record(8));
  assert.deepEqual((await audit.listAudit(ALL)).map((r) => r.target), ["worker-6", "worker-7", "worker-8"]);
  for (let n = 9; n <= 10; n++) await audit.appendAudit(record(n));
  assert.deepEqual((await audit.listAudit(ALL)).map((r) => r.target), [
    "worker-7",
    "worker-8",
    "worker-9",
    "worker-10",
  ]);
});

Deno.test("a memory trail keeps copies: changing an appended or listed record changes nothing kept", async () => {
  const audit = new MemoryAudit({ limit: 2 });
  const appended = record(1);
  await audit.appendAudit(appended);
  appended.outcome = "changed";
  const [listed] = await audit.listAudit(ALL);
  listed.actor = "changed";
  assert.deepEqual(await audit.listAudit(ALL), [record(1)]);
});

Deno.test("a memory trail's limit is a positive integer", () => {
  for (const limit of [0, -1, 1.5, Number.NaN]) assert.throws(() => new MemoryAudit({ limit }), RangeError);
});

Deno.test("the memory store opened as the provider opens it bounds its trail and reports the first drop", async () => {
  const full: number[] = [];
  const store = await openStore({ kind: "memory" }, { onMemoryAuditFull: (limit) => full.push(limit) });
  for (let n = 1; n <= MEMORY_AUDIT_LIMIT; n++) await store.appendAudit(record(n));
  assert.deepEqual(full, []);
  await store.appendAudit(record(MEMORY_AUDIT_LIMIT + 1));
  assert.deepEqual(full, [MEMORY_AUDIT_LIMIT]);
  const kept = await store.listAudit(ALL);
  assert.equal(kept.length, MEMORY_AUDIT_LIMIT);
  assert.equal(kept[0].target, "worker-2");
  assert.equal(kept.at(-1)!.target, `worker-${MEMORY_AUDIT_LIMIT + 1}`);
  await store.close();
});
