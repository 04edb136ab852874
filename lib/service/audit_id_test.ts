import assert from "node:assert/strict";
import { isCanonicalUuid } from "../uuid.ts";
import { auditRecordId } from "./audit_id.ts";

Deno.test("auditRecordId() makes version-7 UUIDs carrying the time, increasing within one millisecond", () => {
  const at = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
  const ids = Array.from({ length: 300 }, () => auditRecordId(at));
  for (const id of ids) {
    assert.ok(isCanonicalUuid(id), id);
    assert.equal(id[14], "7");
    assert.match(id[19], /[89ab]/);
    assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
  }
  assert.deepEqual([...ids].sort(), ids, "in the order they were made");
  assert.equal(new Set(ids).size, ids.length);
  const later = auditRecordId(at + 1);
  assert.ok(later > ids[ids.length - 1]);
  assert.equal(auditRecordId(0).slice(0, 13), "00000000-0000");
  assert.equal(auditRecordId(2 ** 48 - 1).slice(0, 13), "ffffffff-ffff");
});
