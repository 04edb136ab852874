import assert from "node:assert/strict";
import { assertError, createHarness, decodeClaims, TEST_INTERNAL_KEY } from "../tests/helpers/app_testing.ts";

const KEY = { "X-Bus-Internal-Key": TEST_INTERNAL_KEY };

Deno.test("POST /api/internal/auth/token issues an admin token with the documented defaults", async () => {
  const h = createHarness();
  const reply = await h.call("POST", "/api/internal/auth/token", {
    headers: KEY,
    body: { subject: "admin-user", scope: "waitlist:read waitlist:approve admin:manage" },
  });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(Object.keys(reply.body).sort(), [
    "access_token",
    "audience",
    "expires_at",
    "expires_in",
    "scope",
    "subject",
    "token_type",
    "ttl_capped",
  ]);
  assert.equal(reply.body.audience, "ai.hg.fi/auth");
  assert.equal(reply.body.subject, "admin-user");
  assert.equal(reply.body.expires_in, 600);
  assert.equal(reply.body.ttl_capped, false);
  const waitlist = await h.call("GET", "/api/v1/auth/admin/waitlist", { token: reply.body.access_token });
  assert.equal(waitlist.status, 200, "the minted token works for admin calls");
  const defaults = await h.call("POST", "/internal/token", { headers: KEY, body: {} });
  assert.equal(defaults.body.subject, "auth-admin");
  assert.equal(defaults.body.scope, "");
});

Deno.test("POST /api/internal/auth/token caps the lifetime and says so", async () => {
  const h = createHarness({ policy: { internalTokenTtlSeconds: 900 } });
  const capped = await h.call("POST", "/api/internal/auth/token", {
    headers: KEY,
    body: { subject: "billing-worker", audience: "ai.hg.fi/api", scope: "billing:read", ttl_seconds: 3600 },
  });
  assert.equal(capped.body.expires_in, 900);
  assert.equal(capped.body.ttl_capped, true);
  const claims = decodeClaims(capped.body.access_token);
  assert.equal(claims.aud, "ai.hg.fi/api");
  assert.equal(claims.sub, "billing-worker");
  const short = await h.call("POST", "/api/internal/auth/token", { headers: KEY, body: { ttl_seconds: 60 } });
  assert.equal(short.body.expires_in, 60);
  assert.equal(short.body.ttl_capped, false);
});

Deno.test("POST /api/internal/auth/token refuses a missing or wrong key with 403 before reading the body", async () => {
  const h = createHarness();
  assertError(await h.call("POST", "/api/internal/auth/token", { body: {} }), 403, "internal_key_invalid");
  const wrong = { "X-Bus-Internal-Key": `${TEST_INTERNAL_KEY}x` };
  assertError(
    await h.call("POST", "/api/internal/auth/token", { headers: wrong, body: {} }),
    403,
    "internal_key_invalid",
  );
  assertError(
    await h.call("POST", "/api/internal/auth/token", { headers: wrong, body: "{" }),
    403,
    "internal_key_invalid",
  );
  const prefix = { "X-Bus-Internal-Key": TEST_INTERNAL_KEY.slice(0, 10) };
  assertError(
    await h.call("POST", "/api/internal/auth/token", { headers: prefix, body: {} }),
    403,
    "internal_key_invalid",
  );
});

Deno.test("POST /api/internal/auth/token is off (403) when no internal key is configured", async () => {
  const h = createHarness({ internalKey: null });
  assertError(
    await h.call("POST", "/api/internal/auth/token", { headers: KEY, body: {} }),
    403,
    "internal_tokens_disabled",
  );
});

Deno.test("POST /api/internal/auth/token refuses bad subjects and audiences (403) and malformed bodies (400)", async (t) => {
  const h = createHarness();
  const cases: [string, unknown, number, string][] = [
    ["subject with a space", { subject: "bad subject" }, 403, "invalid_subject"],
    ["subject too long", { subject: "a".repeat(129) }, 403, "invalid_subject"],
    ["empty subject", { subject: "" }, 403, "invalid_subject"],
    ["unknown audience", { audience: "evil.example/api" }, 403, "invalid_audience"],
    ["malformed JSON", "{", 400, "invalid_json"],
    ["subject not a string", { subject: 5 }, 400, "invalid_request"],
    ["scope with bad characters", { scope: "a;b" }, 400, "invalid_scope"],
    ["negative ttl", { ttl_seconds: -5 }, 400, "invalid_ttl"],
  ];
  for (const [name, body, status, code] of cases) {
    await t.step(name, async () => {
      assertError(await h.call("POST", "/api/internal/auth/token", { headers: KEY, body }), status, code);
    });
  }
});
