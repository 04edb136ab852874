import assert from "node:assert/strict";
import { bufferedJsonLineLogger, RequestLogRecord } from "./logger.ts";

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

Deno.test("a request's line is the text JSON.stringify makes of its record, for any path, method, id and number", () => {
  const cases: ConstructorParameters<typeof RequestLogRecord>[] = [
    ["trace-1", "GET", "/api/v1/auth/check", 200, 0.12, "127.0.0.1"],
    [crypto.randomUUID(), "POST", '/api/v1/auth/"odd"\\path\n\t\u0000\u001f\u007f', 401, 1.5, "::1"],
    ["id", "PROPFIND", "/schlüssel/✓/🔑/\u2028/\ud800x", 404, 0, "10.0.0.1"],
    ["id", "GET", "", 500, NaN, "unknown"],
    ["id", "GET", "/" + "x".repeat(5000), 200, Infinity, "2001:db8::1"],
    ["id", "GET", "/", 200, -0, ""],
    ["id", "GET", "/", 200, 1e21, "x"],
  ];
  for (const fields of cases) {
    const writes: string[] = [];
    const logger = bufferedJsonLineLogger((text) => writes.push(text), { now: () => NOW });
    const record = new RequestLogRecord(...fields);
    logger.log(record);
    logger.flush();
    assert.equal(writes[0], `{"time":"2026-12-02T12:00:00.123Z",${JSON.stringify(record).slice(1)}\n`, fields[2]);
  }
  const record = new RequestLogRecord("id", "GET", "/p", 200, 1.25, "::1");
  assert.deepEqual(Object.keys(record), [
    "level",
    "msg",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "client_ip",
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(record)), {
    level: "info",
    msg: "request",
    request_id: "id",
    method: "GET",
    path: "/p",
    status: 200,
    duration_ms: 1.25,
    client_ip: "::1",
  });
});
