import assert from "node:assert/strict";
import { AUDIENCE } from "../lib/claims.ts";
import { DeliveryError, StoreUnavailableError } from "../lib/errors.ts";
import { MemoryOtpSender } from "../lib/otp/memory.ts";
import type { OtpSender } from "../lib/otp/sender.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { createHarness, TEST_INTERNAL_KEY } from "../tests/helpers/app_testing.ts";
import { LATENCY_BUCKETS, ProviderMetrics } from "./metrics.ts";
import { METRICS_CONTENT_TYPE, metricsResponse } from "./metrics_server.ts";
import { observedSender } from "./observed_sender.ts";

const PREFIX = "/local-dev/v1";

/** The value of one sample line, or `undefined` when the output has no such line. */
function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Checks the exposition format: every sample belongs to a family announced
 * by HELP and TYPE before it, label values are quoted, values are numbers,
 * and each histogram's buckets grow up to `+Inf`, which equals its count.
 */
function assertExposition(text: string): void {
  assert.ok(text.endsWith("\n"));
  const types = new Map<string, string>();
  const buckets = new Map<string, number[]>();
  for (const line of text.trimEnd().split("\n")) {
    const comment = /^# (HELP|TYPE) ([a-z_]+) (.+)$/.exec(line);
    if (comment) {
      if (comment[1] === "TYPE") types.set(comment[2], comment[3]);
      continue;
    }
    const sample = /^([a-z_]+)(?:\{((?:[a-z_]+="(?:[^"\\\n]|\\.)*",?)*)\})? (-?[0-9.e+]+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    const name = sample[1];
    const family = [...types.keys()].find((known) =>
      name === known || (types.get(known) === "histogram" && /^(.+)_(bucket|sum|count)$/.exec(name)?.[1] === known)
    );
    assert.ok(family, `${name} has no TYPE before it`);
    if (name.endsWith("_bucket")) {
      const key = (sample[2] ?? "").replace(/,?le="[^"]*"/, "");
      buckets.set(key, [...buckets.get(key) ?? [], Number(sample[3])]);
    }
    if (name.endsWith("_count") && types.get(family) === "histogram") {
      const counts = buckets.get(sample[2] ?? "") ?? [];
      assert.equal(counts.length, LATENCY_BUCKETS.length + 1, line);
      assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `buckets grow: ${line}`);
      assert.equal(counts.at(-1), Number(sample[3]), `+Inf equals the count: ${line}`);
    }
  }
}

Deno.test("metrics count requests by route pattern and status: aliases and the prefix share one series", async () => {
  const h = createHarness({ metrics: true, routePrefix: PREFIX });
  const { token } = await h.signIn("alice@example.com");
  for (const path of ["/api/v1/auth/status", "/modules/auth/status", `${PREFIX}/auth/status`]) {
    assert.equal((await h.call("GET", path, { token })).status, 200);
  }
  assert.equal((await h.call("GET", "/me", { token })).status, 200);
  assert.equal((await h.call("GET", "/api/v1/auth/status")).status, 401);
  const text = h.metrics!.render();
  assertExposition(text);
  const status = 'method="GET",route="/api/v1/auth/status"';
  assert.equal(sampleValue(text, `bus_auth_http_requests_total{${status},status="200"}`), 3);
  assert.equal(sampleValue(text, `bus_auth_http_requests_total{${status},status="401"}`), 1);
  assert.equal(sampleValue(text, `bus_auth_http_request_duration_seconds_count{${status}}`), 4);
  assert.equal(sampleValue(text, `bus_auth_http_request_duration_seconds_bucket{${status},le="+Inf"}`), 4);
  assert.equal(
    sampleValue(text, 'bus_auth_http_requests_total{method="GET",route="/api/v1/auth/me",status="200"}'),
    1,
    "/me is the alias of {A}/me",
  );
});

Deno.test("metrics never carry an email, a token, an account or client id, or a raw path", async () => {
  const h = createHarness({ metrics: true, routePrefix: PREFIX });
  const email = "carol.secret@example.com";
  const { token, accountId, userId } = await h.approvedUser(email);
  const api = await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } });
  const admin = await h.mintToken({ scope: "admin:manage" });
  const unknownClient = crypto.randomUUID();
  assert.equal(
    (await h.call("POST", `/modules/auth/admin/clients/${unknownClient}/rotate`, { token: admin })).status,
    404,
  );
  assert.equal((await h.call("GET", `/api/v1/auth/admin/accounts/${accountId}/policy`, { token: admin })).status, 200);
  assert.equal((await h.call("GET", `/no/such/${email}/path`)).status, 404);
  assert.equal((await h.call("M-SEARCH", `/api/v1/auth/${token}`)).status, 404);
  const text = h.metrics!.render();
  assertExposition(text);
  for (const secret of [email, token, api.body.access_token, accountId, userId, unknownClient, admin]) {
    assert.ok(!text.includes(secret), `the metrics show ${secret.slice(0, 12)}…`);
  }
  for (const raw of ["/modules/auth", PREFIX, "/no/such", "carol"]) assert.ok(!text.includes(raw), raw);
  assert.match(text, /route="\/api\/v1\/auth\/admin\/clients\/\{client_id\}\/rotate",status="404"\} 1$/m);
  assert.match(text, /route="\/api\/v1\/auth\/admin\/accounts\/\{account_id\}\/policy",status="200"\} 1$/m);
  assert.equal(sampleValue(text, 'bus_auth_http_requests_total{method="GET",route="unmatched",status="404"}'), 1);
  assert.equal(sampleValue(text, 'bus_auth_http_requests_total{method="OTHER",route="unmatched",status="404"}'), 1);
  const labelValues = [...text.matchAll(/[a-z_]+="([^"]*)"/g)].map((match) => match[1]);
  for (const value of labelValues) {
    assert.match(
      value,
      /^(\/[a-z0-9/{}_.-]*|unmatched|GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|OTHER|[0-9.]+|\+Inf|[a-z_]+|ai\.hg\.fi\/[a-z]+|memory)$/,
    );
  }
});

Deno.test("metrics count logins, tokens by audience, rate-limit refusals and OTP deliveries", async () => {
  const h = createHarness({ metrics: true });
  const { token } = await h.approvedUser("dave@example.com");
  assert.equal((await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })).status, 200);
  assert.equal((await h.call("POST", "/api/v1/auth/token/refresh", { token })).status, 200);
  const internal = await h.call("POST", "/internal/token", {
    headers: { "X-Bus-Internal-Key": TEST_INTERNAL_KEY },
    body: { subject: "usage-exporter", audience: AUDIENCE.internal, scope: "usage:read" },
  });
  assert.equal(internal.status, 200, internal.text);
  const admin = await h.mintToken({ scope: "admin:manage" });
  const created = await h.call("POST", "/api/v1/auth/admin/clients", {
    token: admin,
    body: { name: "billing-worker", audience: AUDIENCE.api, scopes: "usage:read" },
  });
  const grant = await h.call("POST", "/api/internal/auth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: created.body.client_id,
      client_secret: created.body.key,
    }).toString(),
  });
  assert.equal(grant.status, 200, grant.text);
  assert.equal((await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "dave@example.com" } })).status, 429);
  const text = h.metrics!.render();
  assertExposition(text);
  assert.equal(sampleValue(text, "bus_auth_logins_total"), 1);
  assert.equal(sampleValue(text, "bus_auth_otp_sent_total"), 1);
  assert.equal(sampleValue(text, "bus_auth_otp_send_failures_total"), 0);
  assert.equal(sampleValue(text, `bus_auth_tokens_issued_total{audience="${AUDIENCE.auth}"}`), 2, "verify, refresh");
  assert.equal(sampleValue(text, `bus_auth_tokens_issued_total{audience="${AUDIENCE.api}"}`), 2, "token, grant");
  assert.equal(sampleValue(text, `bus_auth_tokens_issued_total{audience="${AUDIENCE.internal}"}`), 1);
  assert.equal(sampleValue(text, 'bus_auth_rate_limited_total{code="otp_resend_too_soon"}'), 1);
  assert.equal(sampleValue(text, 'bus_auth_rate_limited_total{code="rate_limited"}'), 0);
  assert.equal(sampleValue(text, 'bus_auth_rate_limited_total{code="otp_locked"}'), 0);
  assert.equal(sampleValue(text, "bus_auth_store_errors_total"), 0);
  assert.equal(sampleValue(text, "bus_auth_store_pool_open_connections"), undefined, "memory has no pool");
});

Deno.test("metrics count requests answered 503 because the store did not answer", async () => {
  const store = new MemoryStore();
  const down = new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (name === "registerUser") return () => Promise.reject(new StoreUnavailableError("connection refused"));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const h = createHarness({ metrics: true, store: down });
  assert.equal((await h.call("POST", "/api/v1/auth/register", { body: { email: "e@example.com" } })).status, 503);
  const text = h.metrics!.render();
  assert.equal(sampleValue(text, "bus_auth_store_errors_total"), 1);
  assert.equal(
    sampleValue(text, 'bus_auth_http_requests_total{method="POST",route="/api/v1/auth/register",status="503"}'),
    1,
  );
});

Deno.test("observedSender counts codes sent and codes that failed", async () => {
  const metrics = new ProviderMetrics();
  let fail = false;
  const memory = new MemoryOtpSender();
  const flaky: OtpSender = {
    kind: "smtp",
    send: (message) =>
      fail ? Promise.reject(new DeliveryError("otp_delivery_failed", "refused")) : memory.send(message),
    close: () => Promise.resolve(),
  };
  const sender = observedSender(flaky, { metrics });
  await sender.send({ email: "f@example.com", code: "123456", expiresInSeconds: 600 });
  fail = true;
  await assert.rejects(sender.send({ email: "f@example.com", code: "654321", expiresInSeconds: 600 }), DeliveryError);
  assert.equal(metrics.otpSent, 1);
  assert.equal(metrics.otpFailed, 1);
  assert.equal(observedSender(flaky, {}), flaky, "nothing to observe: the sender itself");
});

Deno.test("the metrics listener answers GET /metrics only; the public app has no /metrics", async () => {
  const metrics = new ProviderMetrics();
  const scrape = metricsResponse(new Request("http://127.0.0.1:9464/metrics"), metrics);
  assert.equal(scrape.status, 200);
  assert.equal(scrape.headers.get("Content-Type"), METRICS_CONTENT_TYPE);
  assertExposition(await scrape.text());
  assert.equal(metricsResponse(new Request("http://127.0.0.1:9464/healthz"), metrics).status, 404);
  assert.equal(metricsResponse(new Request("http://127.0.0.1:9464/metrics", { method: "POST" }), metrics).status, 405);
  const h = createHarness({ metrics: true, routePrefix: PREFIX });
  for (const path of ["/metrics", `${PREFIX}/metrics`]) assert.equal((await h.call("GET", path)).status, 404, path);
});

Deno.test("metrics show the cache of token checks and whether it holds the whole revocation list", () => {
  const stats = {
    hits: 7,
    misses: 2,
    bypassed: 1,
    size: 5,
    maxEntries: 250,
    trusted: true,
    revokedIds: 42 as number | null,
  };
  const store = Object.assign(new MemoryStore(), { cacheStats: () => ({ ...stats }) });
  const metrics = new ProviderMetrics({ store });
  let text = metrics.render();
  assertExposition(text);
  assert.equal(sampleValue(text, 'bus_auth_cache_reads_total{result="hit"}'), 7);
  assert.equal(sampleValue(text, "bus_auth_cache_trusted"), 1);
  assert.equal(sampleValue(text, "bus_auth_cache_entries_per_kind_limit"), 250);
  assert.equal(sampleValue(text, "bus_auth_cache_revocation_list_held"), 1);
  assert.equal(sampleValue(text, "bus_auth_cache_revoked_ids"), 42);
  stats.revokedIds = null;
  text = metrics.render();
  assert.equal(sampleValue(text, "bus_auth_cache_revocation_list_held"), 0);
  assert.equal(sampleValue(text, "bus_auth_cache_revoked_ids"), 0);
  assert.equal(
    sampleValue(new ProviderMetrics({ store: new MemoryStore() }).render(), "bus_auth_cache_trusted"),
    undefined,
  );
});
