import assert from "node:assert/strict";
import { bufferedJsonLineLogger } from "./logger.ts";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0, 123);

Deno.test("bufferedJsonLineLogger() writes one JSON line per record, the time first, in one write per batch", async () => {
  const writes: string[] = [];
  const logger = bufferedJsonLineLogger((text) => writes.push(text), { flushMs: 20, now: () => NOW });
  logger.log({ level: "info", msg: "request", status: 200 });
  logger.log({ level: "info", msg: "request", path: 'a"b\n' });
  logger.log({});
  assert.equal(writes.length, 0, "nothing is written before the interval");
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(writes.length, 1);
  const lines = writes[0].split("\n");
  assert.equal(lines.pop(), "", "every line ends with a line break");
  assert.deepEqual(lines.map((line) => JSON.parse(line)), [
    { time: "2026-12-02T12:00:00.123Z", level: "info", msg: "request", status: 200 },
    { time: "2026-12-02T12:00:00.123Z", level: "info", msg: "request", path: 'a"b\n' },
    { time: "2026-12-02T12:00:00.123Z" },
  ]);
  assert.ok(lines[0].startsWith('{"time":'));
});

Deno.test("bufferedJsonLineLogger() writes at once on an error record and when the buffer is full", () => {
  const writes: string[] = [];
  const logger = bufferedJsonLineLogger((text) => writes.push(text), { flushMs: 60_000, flushBytes: 300 });
  logger.log({ level: "info", msg: "first" });
  logger.log({ level: "error", msg: "cannot open the store" });
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0].trim().split("\n").map((line) => JSON.parse(line).msg), [
    "first",
    "cannot open the store",
  ]);
  for (let i = 0; i < 3; i++) logger.log({ level: "info", msg: "x".repeat(80) });
  assert.equal(writes.length, 2, "the third line fills the buffer past 300 characters");
  logger.log({ level: "info", msg: "last" });
  logger.flush();
  assert.equal(writes.length, 3);
  assert.equal(JSON.parse(writes[2]).msg, "last");
  logger.flush();
  assert.equal(writes.length, 3, "an empty buffer writes nothing");
});
