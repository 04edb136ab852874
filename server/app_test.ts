import assert from "node:assert/strict";
import { StoreUnavailableError } from "../lib/errors.ts";
import { parseCidr } from "../lib/ip.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import {
  assertError,
  createHarness,
  TEST_CLIENT_IP,
  TEST_INTERNAL_KEY,
  TEST_SIGNING_KEY,
} from "../tests/helpers/app_testing.ts";

/** A memory store whose engine can be switched off, as a database going away. */
class FlakyStore extends MemoryStore {
  down = false;
  override ping() {
    return this.down ? Promise.reject(new StoreUnavailableError("connection refused")) : super.ping();
  }
  override findUserByEmail(email: string) {
    return this.down ? Promise.reject(new StoreUnavailableError("connection refused")) : super.findUserByEmail(email);
  }
  override registerUser(input: { userId: string; email: string; now: number }) {
    return this.down ? Promise.reject(new StoreUnavailableError("connection refused")) : super.registerUser(input);
  }
  override hitRateLimit(input: { key: string; limit: number; windowSeconds: number; now: number }) {
    return this.down ? Promise.reject(new StoreUnavailableError("connection refused")) : super.hitRateLimit(input);
  }
}

Deno.test("GET /healthz answers ok at the root and under the prefix, and 503 when the store is down", async () => {
  const store = new FlakyStore();
  const h = createHarness({ store, routePrefix: "/local-dev/v1" });
  for (const path of ["/healthz", "/local-dev/v1/healthz"]) {
    const reply = await h.call("GET", path);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.ok, true);
    assert.equal(reply.body.store, "memory");
  }
  store.down = true;
  const down = await h.call("GET", "/healthz");
  assert.equal(down.status, 503);
  assert.equal(down.body.ok, false);
  assert.equal(down.body.error, "store_unavailable");
});

Deno.test("endpoints answer 503 store_unavailable, without engine detail, while the store is down", async () => {
  const store = new FlakyStore();
  const h = createHarness({ store });
  store.down = true;
  const reply = await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } });
  assertError(reply, 503, "store_unavailable");
  assert.ok(!reply.text.includes("connection refused"));
  assert.ok(h.logs.some((line) => line.code === "store_unavailable" && line.detail === "connection refused"));
  store.down = false;
  assert.equal((await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } })).status, 200);
});

Deno.test("an unexpected failure is a 500 without detail, and is logged", async () => {
  const store = new MemoryStore();
  store.createOtpChallenge = () => Promise.reject(new TypeError("secret internal detail"));
  const h = createHarness({ store });
  await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } });
  const reply = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } });
  assertError(reply, 500, "internal_error");
  assert.ok(!reply.text.includes("secret internal detail"));
  assert.ok(h.logs.some((line) => line.level === "error" && line.error === "TypeError"));
});

Deno.test("request bodies over the limit get 413, with or without Content-Length, and change nothing", async () => {
  const h = createHarness({ maxBodyBytes: 1024 });
  const big = JSON.stringify({ email: "a@example.com", pad: "x".repeat(2000) });
  assertError(await h.call("POST", "/api/v1/auth/register", { body: big }), 413, "body_too_large");
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(big));
      controller.close();
    },
  });
  const response = await h.app.request("/api/v1/auth/register", { method: "POST", body: stream }, {
    remoteAddr: { hostname: TEST_CLIENT_IP },
  });
  assert.equal(response.status, 413);
  assert.equal((await response.json()).error, "body_too_large");
  assert.equal(await h.store.findUserByEmail("a@example.com"), null);
});

Deno.test("unknown routes and methods get a JSON 404", async () => {
  const h = createHarness();
  assertError(await h.call("GET", "/api/v1/auth/nothing"), 404, "not_found");
  assertError(await h.call("GET", "/api/v1/auth/register"), 404, "not_found");
  assertError(await h.call("GET", "/local-dev/v1/healthz"), 404, "not_found");
});

Deno.test("register and OTP calls are limited per client IP with 429 and Retry-After", async () => {
  const h = createHarness({ policy: { rateLimitPerIp: 3, rateLimitWindowSeconds: 300 } });
  h.clock.now = Math.floor(h.clock.now / 300_000) * 300_000 + 100_000;
  for (let i = 0; i < 3; i++) {
    assert.equal((await h.call("POST", "/api/v1/auth/register", { body: { email: `u${i}@example.com` } })).status, 200);
  }
  const limited = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "u0@example.com" } });
  assertError(limited, 429, "rate_limited");
  assert.equal(limited.headers.get("Retry-After"), "200");
  assert.equal(h.sender.messages.length, 0);
  assert.equal(
    (await h.call("POST", "/api/v1/auth/register", { body: { email: "b@example.com" }, ip: "192.0.2.99" })).status,
    200,
  );
  // An untrusted client cannot escape the limit by inventing X-Forwarded-For.
  const spoofed = await h.call("POST", "/api/v1/auth/register", {
    body: { email: "c@example.com" },
    headers: { "X-Forwarded-For": "198.51.100.7" },
  });
  assertError(spoofed, 429, "rate_limited");
  h.clock.now += 200_000;
  assert.equal((await h.call("POST", "/api/v1/auth/register", { body: { email: "d@example.com" } })).status, 200);
});

Deno.test("behind a trusted proxy the limit counts the X-Forwarded-For client", async () => {
  const h = createHarness({
    policy: { rateLimitPerIp: 1 },
    trustedProxies: [parseCidr("10.0.0.0/8")!],
  });
  const viaProxy = (client: string) =>
    h.call("POST", "/api/v1/auth/register", {
      body: { email: `${client.replace(/\./g, "-")}@example.com` },
      ip: "10.1.2.3",
      headers: { "X-Forwarded-For": `203.0.113.1, ${client}` },
    });
  assert.equal((await viaProxy("198.51.100.1")).status, 200);
  assert.equal((await viaProxy("198.51.100.2")).status, 200);
  assertError(await viaProxy("198.51.100.1"), 429, "rate_limited");
});

Deno.test("a limit of 0 turns the per-IP limit off", async () => {
  const h = createHarness({ policy: { rateLimitPerIp: 0 } });
  for (let i = 0; i < 50; i++) {
    assert.equal((await h.call("POST", "/api/v1/auth/register", { body: { email: `u${i}@example.com` } })).status, 200);
  }
});

Deno.test("every request is logged once as method, path, status, duration and request id", async () => {
  const h = createHarness();
  const reply = await h.call("POST", "/api/v1/auth/register?x=1", {
    body: { email: "a@example.com" },
    headers: { "X-Request-Id": "trace-123" },
  });
  assert.equal(reply.headers.get("X-Request-Id"), "trace-123");
  const lines = h.logs.filter((line) => line.msg === "request");
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line.method, "POST");
  assert.equal(line.path, "/api/v1/auth/register");
  assert.equal(line.status, 200);
  assert.equal(line.request_id, "trace-123");
  assert.equal(typeof line.duration_ms, "number");
  const odd = await h.call("GET", "/healthz", { headers: { "X-Request-Id": "bad id with spaces and {json}" } });
  assert.match(odd.headers.get("X-Request-Id")!, /^[0-9a-f-]{36}$/);
});

Deno.test("every answer carries its request id, nosniff and no-store: success, empty, errors, not found, refused bodies", async () => {
  const h = createHarness({ maxBodyBytes: 64 });
  const { token } = await h.approvedUser("a@example.com");
  const answers: [string, Promise<{ status: number; headers: Headers }>][] = [
    ["200 JSON", h.call("GET", "/api/v1/auth/status", { token })],
    ["200 token", h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })],
    ["204 logout", h.call("POST", "/api/v1/auth/logout", { token: (await h.signIn("b@example.com")).token })],
    ["400 bad JSON", h.call("POST", "/api/v1/auth/register", { body: "{" })],
    ["401 no token", h.call("GET", "/api/v1/auth/status")],
    ["403 wrong key", h.call("POST", "/api/internal/auth/token", { headers: { "X-Bus-Internal-Key": "wrong" } })],
    ["404 no route", h.call("GET", "/nowhere")],
    ["413 large body", h.call("POST", "/api/v1/auth/register", { body: { email: "x".repeat(100) } })],
  ];
  for (const [name, pending] of answers) {
    const reply = await pending;
    assert.match(reply.headers.get("X-Request-Id") ?? "", /^[0-9a-f-]{36}$/, name);
    assert.equal(reply.headers.get("X-Content-Type-Options"), "nosniff", name);
    assert.equal(reply.headers.get("Cache-Control"), "no-store", name);
  }
  const statuses = await Promise.all(answers.map(async ([, pending]) => (await pending).status));
  assert.deepEqual(statuses, [200, 200, 204, 400, 401, 403, 404, 413]);
  const unauthenticated = await answers[4][1];
  assert.match(unauthenticated.headers.get("WWW-Authenticate") ?? "", /^Bearer /, "a route's own headers stay");
  const refused = await answers[7][1];
  assert.equal(refused.headers.get("Connection"), "close", "the body guard's header stays");
  const echoed = await h.call("POST", "/api/v1/auth/logout", { headers: { "X-Request-Id": "trace-9" } });
  assert.equal(echoed.headers.get("X-Request-Id"), "trace-9", "on an error answer too");
});

Deno.test("no token, OTP or secret ever reaches a log line or an error body", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("a@example.com");
  const otp = h.sender.latestCode("a@example.com")!;
  const api = (await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })).body.access_token;
  const internal = await h.call("POST", "/api/internal/auth/token", {
    headers: { "X-Bus-Internal-Key": TEST_INTERNAL_KEY },
    body: { scope: "waitlist:read" },
  });
  const wrong = await h.call("POST", "/api/internal/auth/token", {
    headers: { "X-Bus-Internal-Key": "guess-guess-guess" },
    body: {},
  });
  const badOtp = await h.call("POST", "/api/v1/auth/otp/verify", { body: { email: "a@example.com", otp } });
  const everything = JSON.stringify(h.logs) + wrong.text + badOtp.text;
  for (
    const secret of [
      token,
      api,
      internal.body.access_token,
      otp,
      TEST_INTERNAL_KEY,
      "guess-guess-guess",
      new TextDecoder().decode(TEST_SIGNING_KEY),
    ]
  ) {
    assert.ok(!everything.includes(secret), `leaked ${secret.slice(0, 12)}…`);
  }
});
