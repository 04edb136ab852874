import assert from "node:assert/strict";
import { Hono } from "hono";
import { assertError, createHarness, TEST_CLIENT_IP } from "../tests/helpers/app_testing.ts";
import { bodyGuard } from "./body_guard.ts";
import type { AppEnv } from "./env.ts";
import { errorResponse } from "./error_response.ts";

const encoder = new TextEncoder();

/** A tiny app: the guard, one route echoing what it received, the error mapping. */
function echoApp(options: { maxBytes: number; timeoutSeconds: number }) {
  const app = new Hono<AppEnv>();
  app.use(bodyGuard(options));
  app.post("/", async (c) =>
    c.json({
      text: await c.req.text(),
      length: c.req.header("content-length") ?? null,
      chunked: c.req.header("transfer-encoding") ?? null,
    }));
  app.onError(errorResponse);
  return app;
}

function streamOf(parts: string[], end: "close" | "error" | "stall"): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      if (end === "close") controller.close();
      if (end === "error") controller.error(new Deno.errors.BadResource("Cannot read request body"));
    },
  });
}

Deno.test("a body whose bytes cannot be read is 400 invalid_body, not 500", async () => {
  const h = createHarness();
  const response = await h.app.request("/api/v1/auth/register", {
    method: "POST",
    body: streamOf(['{"email":'], "error"),
  }, { remoteAddr: { hostname: TEST_CLIENT_IP } });
  assert.equal(response.status, 400);
  assert.equal((await response.json()).error, "invalid_body");
  assert.equal(response.headers.get("connection"), "close");
  assert.ok(!h.logs.some((line) => line.level === "error"));
});

Deno.test("a body over the limit is read to its end, answered 413 and its connection closed gracefully", async () => {
  const app = echoApp({ maxBytes: 1024, timeoutSeconds: 5 });
  const closes: { bodyLeft: boolean }[] = [];
  const response = await app.request("/", {
    method: "POST",
    body: streamOf(Array.from({ length: 10 }, () => "x".repeat(1000)), "close"),
  }, { closeConnection: (options: { bodyLeft: boolean }) => closes.push(options) });
  assertError(
    { status: response.status, headers: response.headers, body: await response.json(), text: "" },
    413,
    "body_too_large",
  );
  assert.equal(response.headers.get("connection"), "close");
  assert.deepEqual(closes, [{ bodyLeft: false }]);
});

Deno.test("a body that stops arriving is 408 body_timeout once the timeout passes, with the rest left unread", async () => {
  const app = echoApp({ maxBytes: 1024, timeoutSeconds: 0.2 });
  const closes: { bodyLeft: boolean }[] = [];
  const started = Date.now();
  const response = await app.request("/", { method: "POST", body: streamOf(['{"a":'], "stall") }, {
    closeConnection: (options: { bodyLeft: boolean }) => closes.push(options),
  });
  assert.equal(response.status, 408);
  assert.equal((await response.json()).error, "body_timeout");
  assert.ok(Date.now() - started >= 190);
  assert.deepEqual(closes, [{ bodyLeft: true }]);
});

Deno.test("a body within the limit reaches the route whole, with its length and without chunked framing", async () => {
  const app = echoApp({ maxBytes: 1024, timeoutSeconds: 5 });
  const response = await app.request("/", {
    method: "POST",
    headers: { "Transfer-Encoding": "chunked" },
    body: streamOf(['{"a":', '"b"}'], "close"),
  });
  assert.deepEqual(await response.json(), { text: '{"a":"b"}', length: "9", chunked: null });
});

/**
 * Runs `code` (a module importing the body guard as `GUARD`) in a process of its own, killed after 20 s: its
 * output, and how long it ran.
 */
async function runAlone(code: string): Promise<{ stdout: string; ms: number }> {
  const guard = new URL("./body_guard.ts", import.meta.url).href;
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../deno.json", import.meta.url).pathname, code.replaceAll("GUARD", guard)],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const ms = performance.now() - started;
  assert.equal(output.code, 0, `exit ${output.code} after ${ms} ms: ${new TextDecoder().decode(output.stderr)}`);
  return { stdout: new TextDecoder().decode(output.stdout).trim(), ms };
}

Deno.test("a body being read keeps the process alive until its deadline; the guard's clock alone keeps nothing alive", async () => {
  // A body that never arrives holds no timer of its own: only the guard's clock can keep the process running.
  // (Not awaited at the top level: a pending top-level await keeps `deno eval` waiting by itself.)
  const waited = await runAlone(`import { readDeclared } from "GUARD";
    readDeclared(new Promise(() => {}), 1).then((read) => console.log(typeof read === "string" ? read : read.error.code));`);
  assert.equal(waited.stdout, "body_timeout", "the process lived until the deadline and answered it");
  // A body read in time: the clock lets the process go once no body is being read.
  const read = await runAlone(`import { readDeclared } from "GUARD";
    readDeclared(Promise.resolve("{}"), 30).then(console.log);`);
  assert.equal(read.stdout, "{}");
  assert.ok(read.ms < 10_000, `the process exited without waiting for the 30 s deadline (${read.ms} ms)`);
});
