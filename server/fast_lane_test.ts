import { Hono } from "hono";
import assert from "node:assert/strict";
import { StoreUnavailableError } from "../lib/errors.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { createHarness, TEST_CLIENT_IP, TEST_INTERNAL_KEY } from "../tests/helpers/app_testing.ts";
import { createApp } from "./app.ts";
import type { AppEnv, LogRecord } from "./env.ts";
import { type LaneAnswer, withFastLane } from "./fast_lane.ts";
import { ProviderMetrics } from "./metrics.ts";

/** A memory store whose revocation list can be made to fail, as a store outage or a bug would. */
class FailingStore extends MemoryStore {
  failure: Error | null = null;
  override isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.failure === null ? super.isTokenRevoked(tokenId) : Promise.reject(this.failure);
  }
}

/** One app with the lane, one without, on the same context; each with its own log and metrics. */
async function twoApps() {
  const store = new FailingStore();
  const h = createHarness({ store, routePrefix: "/local-dev/v1" });
  const session = await h.approvedUser("lane@example.com");
  const issued = await h.call("POST", "/api/v1/auth/token", { token: session.token, body: { scope: "llm:proxy" } });
  assert.equal(issued.status, 200, issued.text);
  const sides = [true, false].map((fastLane) => {
    const logs: LogRecord[] = [];
    const metrics = new ProviderMetrics({ routePrefix: "/local-dev/v1", store });
    const app = createApp({
      ctx: h.ctx,
      metrics,
      routePrefix: "/local-dev/v1",
      log: (record) => logs.push(record),
      fastLane,
    });
    return { app, logs, metrics };
  });
  return { h, store, session: session.token, api: issued.body.access_token as string, lane: sides[0], hono: sides[1] };
}

async function answer(
  app: ReturnType<typeof createApp>,
  path: string,
  headers: Record<string, string>,
  body?: string,
) {
  // A client's Content-Length, which a Request made here lacks.
  const length = { "Content-Length": String(new TextEncoder().encode(body).length) };
  const init = body === undefined ? { headers } : { method: "POST", headers: { ...headers, ...length }, body };
  const response = await app.request(path, init, { remoteAddr: { hostname: TEST_CLIENT_IP } });
  // A new request id (the caller's was malformed) differs by nature: only its form is compared.
  const sent = [...response.headers].filter(([name]) => name !== "transfer-encoding")
    .map(([name, value]) => [name, value.replace(UUID, "<new id>")]);
  // Each issued token is new (its id): only its place in the answer is compared.
  const text = (await response.text()).replace(/"access_token":"[^"]+"/, `"access_token":"<token>"`);
  const chunked = response.headers.get("transfer-encoding") === "chunked";
  return { status: response.status, headers: sent.sort(), body: text, chunked };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The records of one request with the one field that differs by nature (its duration) left out. */
function withoutDurations(records: LogRecord[]): LogRecord[] {
  return records.map(({ duration_ms: _duration, request_id: id, ...rest }) => ({
    request_id: String(id).replace(UUID, "<new id>"),
    ...rest,
  }));
}

Deno.test("the fast lane answers check and status exactly as Hono's routes do: status, headers, body and log lines", async () => {
  const { h, store, session, api, lane, hono } = await twoApps();
  const expired = await h.mintToken({ exp: Math.floor(h.clock.now / 1000) - 60 });
  const cases: Array<[string, Record<string, string>]> = [
    ["/api/v1/auth/check", { Authorization: `Bearer ${api}` }],
    ["/modules/auth/check", { Authorization: `Bearer ${api}` }],
    ["/local-dev/v1/auth/check", { Authorization: `bearer  ${api} ` }],
    ["/api/v1/auth/check?audience=ai.hg.fi/api&scope=llm:proxy", { Authorization: `Bearer ${api}` }],
    ["/api/v1/auth/check?scope=waitlist:approve", { Authorization: `Bearer ${api}` }],
    ["/api/v1/auth/check?audience=elsewhere", { Authorization: `Bearer ${api}` }],
    ["/api/v1/auth/check?audience=ai.hg.fi/auth", { Authorization: `Bearer ${api}` }],
    ["/api/v1/auth/check", {}],
    ["/api/v1/auth/check", { Authorization: "Basic dXNlcjpwYXNz" }],
    ["/api/v1/auth/check", { Authorization: `Bearer ${expired}` }],
    ["/api/v1/auth/check", { Authorization: `Bearer ${api.slice(0, -2)}xx` }],
    ["/api/v1/auth/status", { Authorization: `Bearer ${session}` }],
    ["/auth/status", { Authorization: `Bearer ${session}`, "X-Request-Id": "bad id with spaces" }],
    ["/api/v1/auth/status", { Authorization: `Bearer ${api}` }],
    ["/api/v1/auth/status", {}],
  ];
  for (const [index, [path, headers]] of cases.entries()) {
    const traced = { "X-Request-Id": `trace-${index}`, ...headers };
    const fromLane = await answer(lane.app, path, traced);
    const fromHono = await answer(hono.app, path, traced);
    assert.deepEqual(fromLane, fromHono, path);
  }
  // Revoked (a logged-out session), and a store that fails: a 503 and a 500, each logged as Hono logs it.
  assert.equal((await h.call("POST", "/api/v1/auth/logout", { token: session })).status, 204);
  const afterLogout = { "X-Request-Id": "trace-logout", Authorization: `Bearer ${session}` };
  assert.deepEqual(
    await answer(lane.app, "/api/v1/auth/status", afterLogout),
    await answer(hono.app, "/api/v1/auth/status", afterLogout),
  );
  for (const failure of [new StoreUnavailableError(undefined, { cause: new Error("ECONNRESET") }), new Error("boom")]) {
    store.failure = failure;
    const traced = { "X-Request-Id": "trace-failure", Authorization: `Bearer ${api}` };
    const fromLane = await answer(lane.app, "/api/v1/auth/check", traced);
    assert.deepEqual(fromLane, await answer(hono.app, "/api/v1/auth/check", traced));
    assert.equal(fromLane.status, failure instanceof StoreUnavailableError ? 503 : 500);
    assert.ok(!fromLane.body.includes("boom") && !fromLane.body.includes("ECONNRESET"), fromLane.body);
  }
  store.failure = null;
  assert.deepEqual(withoutDurations(lane.logs), withoutDurations(hono.logs));
  assert.equal(lane.logs.filter((record) => record.msg === "request failed").length, 2);
  const counts = (text: string) =>
    text.split("\n").filter((line) => /^bus_auth_(http_requests|store_errors)_total/.test(line));
  assert.deepEqual(counts(lane.metrics.render()), counts(hono.metrics.render()));
});

Deno.test("the fast lane's requests are counted under their route, with Hono's requests of the same route", async () => {
  const { lane, api } = await twoApps();
  const auth = { Authorization: `Bearer ${api}` };
  assert.equal((await answer(lane.app, "/api/v1/auth/check", auth)).status, 200);
  assert.equal((await answer(lane.app, "/local-dev/v1/modules/auth/check", auth)).status, 200);
  assert.equal((await answer(lane.app, "/api/v1/auth/check", {})).status, 401);
  // HEAD is Hono's: the same series.
  const head = await lane.app.request("/api/v1/auth/check", { method: "HEAD", headers: auth });
  assert.equal(head.status, 200);
  const text = lane.metrics.render();
  assert.match(text, /bus_auth_http_requests_total\{method="GET",route="\/api\/v1\/auth\/check",status="200"\} 3\n/);
  assert.match(text, /bus_auth_http_requests_total\{method="GET",route="\/api\/v1\/auth\/check",status="401"\} 1\n/);
  assert.match(text, /bus_auth_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/auth\/check"\} 4\n/);
  assert.equal(lane.logs.filter((record) => record.msg === "request").length, 4);
});

Deno.test("paths and methods outside the lane reach Hono: a trailing slash is not the route, POST is not GET", async () => {
  const { lane, api } = await twoApps();
  const auth = { Authorization: `Bearer ${api}` };
  const slash = await answer(lane.app, "/api/v1/auth/check/", auth);
  assert.equal(slash.status, 404);
  assert.match(slash.body, /"error":"not_found"/);
  const post = await lane.app.request("/api/v1/auth/check", { method: "POST", headers: auth });
  assert.equal(post.status, 404);
  assert.equal(post.headers.get("X-Content-Type-Options"), "nosniff");
});

Deno.test("withFastLane answers its own paths for GET and hands everything else to the app", async () => {
  const h = createHarness();
  const app = new Hono<AppEnv>();
  app.all("*", (c) => c.text("hono"));
  const logs: LogRecord[] = [];
  const answer: LaneAnswer = (ctx) => Promise.resolve({ lane: true, request_id: ctx.origin?.requestId });
  withFastLane(app, {
    routes: new Map([["GET /lane", { answer }]]),
    ctx: h.ctx,
    log: (record) => logs.push(record),
    metrics: null,
    trustedProxies: [],
    maxBodyBytes: 1024,
    bodyTimeoutSeconds: 1,
  });
  const inLane = await app.request("/lane", { headers: { "X-Request-Id": "r-1" } });
  assert.deepEqual(await inLane.json(), { lane: true, request_id: "r-1" });
  assert.equal(inLane.headers.get("X-Request-Id"), "r-1");
  assert.deepEqual(logs.map((record) => [record.method, record.path, record.status]), [["GET", "/lane", 200]]);
  for (const [method, path] of [["HEAD", "/lane"], ["POST", "/lane"], ["GET", "/lane/"], ["GET", "/other"]]) {
    const response = await app.request(path, { method });
    assert.equal(method === "HEAD" ? "hono" : await response.text(), "hono", `${method} ${path}`);
  }
  assert.equal(logs.length, 1);
});

Deno.test("the fast lane issues tokens exactly as Hono's routes do: POST {A}/token and the internal endpoint", async () => {
  const { h, session, lane, hono } = await twoApps();
  const json = { "Content-Type": "application/json" };
  const user = { ...json, Authorization: `Bearer ${session}` };
  const key = { ...json, "X-Bus-Internal-Key": TEST_INTERNAL_KEY };
  const cases: Array<[string, Record<string, string>, string]> = [
    ["/api/v1/auth/token", user, '{"scope":"llm:proxy","ttl_seconds":600}'],
    ["/local-dev/v1/auth/token", user, '{"scope":"llm:proxy"}'],
    ["/api/v1/auth/token", user, '{"scope":"waitlist:approve"}'],
    ["/api/v1/auth/token", user, '{"scope":"llm:proxy","ttl_seconds":-1}'],
    ["/api/v1/auth/token", user, '{"ttl_seconds":60}'],
    ["/api/v1/auth/token", user, "[1,2]"],
    ["/api/v1/auth/token", user, "{not json"],
    ["/api/v1/auth/token", user, ""],
    ["/api/v1/auth/token", json, '{"scope":"llm:proxy"}'],
    ["/api/internal/auth/token", key, '{"subject":"svc","audience":"ai.hg.fi/api","scope":"llm:proxy"}'],
    ["/internal/token", key, '{"scope":"waitlist:read","ttl_seconds":99999999}'],
    ["/local-dev/v1/api/internal/auth/token", key, "{}"],
    ["/api/internal/auth/token", key, '{"audience":"elsewhere"}'],
    ["/api/internal/auth/token", key, '{"subject":"bad subject"}'],
    ["/api/internal/auth/token", { ...json, "X-Bus-Internal-Key": "guess-guess-guess" }, "{}"],
    ["/api/internal/auth/token", { ...json, "X-Bus-Internal-Key": "" }, "{}"],
    ["/api/internal/auth/token", json, "{}"],
  ];
  for (const [index, [path, headers, body]] of cases.entries()) {
    const traced = { "X-Request-Id": `trace-${index}`, ...headers };
    const fromLane = await answer(lane.app, path, traced, body);
    const fromHono = await answer(hono.app, path, traced, body);
    // An issued token's long answer is chunked on either path, to leave in one write (jsonAnswer() of envelope.ts).
    assert.equal(fromLane.chunked, fromLane.status === 200, path + body);
    assert.deepEqual(fromLane, fromHono, path + body);
  }
  assert.deepEqual(withoutDurations(lane.logs), withoutDurations(hono.logs));
  const counts = (text: string) =>
    text.split("\n").filter((line) => /^bus_auth_(http_requests|tokens_issued)_total/.test(line));
  assert.deepEqual(counts(lane.metrics.render()), counts(hono.metrics.render()));
  assert.match(lane.metrics.render(), /bus_auth_tokens_issued_total\{audience="ai.hg.fi\/api"\} 3\n/);
  // The audit trail has one mint per internal token of either side, as Hono's route records it.
  const query = { since: null, actor: null, target: null, action: "token.mint", after: null, limit: 100 };
  const mints = await h.store.listAudit(query);
  assert.equal(mints.length, 6);
});
