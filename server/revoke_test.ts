import assert from "node:assert/strict";
import { AUDIENCE } from "../lib/claims.ts";
import { REVOCATION_KEEP_SECONDS } from "../lib/service/admin.ts";
import { AUTH_BASES } from "./app.ts";
import { assertError, createHarness, decodeClaims, TEST_INTERNAL_KEY } from "../tests/helpers/app_testing.ts";

const REVOKE = "/api/v1/auth/admin/tokens/revoke";

Deno.test("POST /admin/tokens/revoke ends an admin token everywhere; repeating it answers the same", async () => {
  const h = createHarness();
  const manager = await h.mintToken({ scope: "admin:manage" });
  const victim = await h.mintToken({ scope: "waitlist:read waitlist:approve admin:manage" });
  const { jti } = decodeClaims(victim);
  assert.equal((await h.call("GET", "/api/v1/auth/admin/waitlist", { token: victim })).status, 200);
  const first = await h.call("POST", REVOKE, { token: manager, body: { jti } });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.body, { jti, revoked: true });
  const again = await h.call("POST", REVOKE, { token: manager, body: { jti } });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body, first.body, "idempotent");
  assertError(await h.call("GET", "/api/v1/auth/admin/waitlist", { token: victim }), 401, "token_revoked");
  assertError(
    await h.call("POST", "/api/v1/auth/admin/approve", { token: victim, body: { email: "a@example.com" } }),
    401,
    "token_revoked",
  );
  assertError(await h.call("POST", REVOKE, { token: victim, body: { jti } }), 401, "token_revoked");
  assertError(await h.call("GET", "/api/v1/auth/check", { token: victim }), 401, "token_revoked");
  assert.equal((await h.call("GET", "/api/v1/auth/admin/waitlist", { token: manager })).status, 200);
});

Deno.test("POST /admin/tokens/revoke ends internal tokens and user tokens by jti", async () => {
  const h = createHarness();
  const manager = await h.mintToken({ scope: "admin:manage" });
  const internal = await h.call("POST", "/api/internal/auth/token", {
    headers: { "X-Bus-Internal-Key": TEST_INTERNAL_KEY },
    body: { subject: "usage-exporter", audience: AUDIENCE.internal, scope: "usage:read" },
  });
  assert.equal(internal.status, 200, internal.text);
  const service = internal.body.access_token;
  const { token: session } = await h.approvedUser("a@example.com");
  const api = (await h.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "llm:proxy" } })).body
    .access_token;
  for (const token of [service, api]) {
    assert.equal((await h.call("GET", "/api/v1/auth/check", { token })).status, 200);
    // An upper-case id is the same id.
    const jti = decodeClaims(token).jti;
    const revoked = await h.call("POST", REVOKE, { token: manager, body: { jti: jti.toUpperCase() } });
    assert.deepEqual(revoked.body, { jti, revoked: true });
    assertError(await h.call("GET", "/api/v1/auth/check", { token }), 401, "token_revoked");
    assertError(
      await h.call("GET", `/api/v1/auth/check?audience=${decodeClaims(token).aud}`, { token }),
      401,
      "token_revoked",
    );
  }
  await h.call("POST", REVOKE, { token: manager, body: { jti: decodeClaims(session).jti } });
  assertError(await h.call("GET", "/api/v1/auth/status", { token: session }), 401, "token_revoked");
});

Deno.test("POST /admin/tokens/revoke keeps the entry for 30 days and a minute, the longest a token lives", async () => {
  assert.equal(REVOCATION_KEEP_SECONDS, 30 * 86400 + 60);
  const h = createHarness();
  const manager = await h.mintToken({ scope: "admin:manage" });
  const victim = await h.mintToken({ scope: "admin:manage", ttlSeconds: 30 * 86400 });
  const { jti } = decodeClaims(victim);
  await h.call("POST", REVOKE, { token: manager, body: { jti } });
  const revokedAt = h.clock.now;
  await h.store.purgeExpired(revokedAt + 30 * 86400 * 1000);
  assert.equal(await h.store.isTokenRevoked(jti), true, "kept while the token can still be valid");
  h.clock.now = revokedAt + 30 * 86400 * 1000 - 1000;
  assertError(await h.call("GET", "/api/v1/auth/check", { token: victim }), 401, "token_revoked");
  await h.store.purgeExpired(revokedAt + REVOCATION_KEEP_SECONDS * 1000 + 1);
  assert.equal(await h.store.isTokenRevoked(jti), false, "purged once no token can be valid");
});

Deno.test("POST /admin/tokens/revoke needs admin:manage and a UUID", async (t) => {
  const h = createHarness();
  const jti = crypto.randomUUID();
  const manager = await h.mintToken({ scope: "admin:manage" });
  const cases: [string, () => Promise<string | undefined>, unknown, number, string][] = [
    ["no token", () => Promise.resolve(undefined), { jti }, 401, "missing_token"],
    [
      "waitlist scopes",
      () => h.mintToken({ scope: "waitlist:read waitlist:approve waitlist:reject" }),
      { jti },
      403,
      "insufficient_scope",
    ],
    ["a user session", async () => (await h.signIn("a@example.com")).token, { jti }, 403, "insufficient_scope"],
    [
      "an API-audience admin:manage token",
      () => h.mintToken({ aud: AUDIENCE.api }),
      { jti },
      401,
      "token_wrong_audience",
    ],
    ["no jti", () => Promise.resolve(manager), {}, 400, "invalid_request"],
    ["a numeric jti", () => Promise.resolve(manager), { jti: 7 }, 400, "invalid_request"],
    ["a jti that is no UUID", () => Promise.resolve(manager), { jti: "abc" }, 400, "invalid_jti"],
    ["a jti with a NUL", () => Promise.resolve(manager), { jti: `${jti.slice(0, 35)}\u0000` }, 400, "invalid_jti"],
    ["a jti in braces", () => Promise.resolve(manager), { jti: `{${jti}}` }, 400, "invalid_jti"],
    ["a body that is not JSON", () => Promise.resolve(manager), "{", 400, "invalid_json"],
  ];
  for (const [name, token, body, status, code] of cases) {
    await t.step(name, async () => {
      assertError(await h.call("POST", REVOKE, { token: await token(), body }), status, code);
    });
  }
  assert.equal(await h.store.isTokenRevoked(jti), false, "no refusal revoked anything");
  assert.equal((await h.call("GET", REVOKE, { token: manager })).status, 404, "POST only");
});

Deno.test("POST /admin/tokens/revoke is served under every auth base and the route prefix", async () => {
  const h = createHarness({ routePrefix: "/local-dev/v1" });
  const manager = await h.mintToken({ scope: "admin:manage" });
  for (const prefix of ["", "/local-dev/v1"]) {
    for (const base of AUTH_BASES) {
      const jti = crypto.randomUUID();
      const reply = await h.call("POST", `${prefix}${base}/admin/tokens/revoke`, { token: manager, body: { jti } });
      assert.equal(reply.status, 200, `${prefix}${base}: ${reply.text}`);
      assert.equal(await h.store.isTokenRevoked(jti), true);
    }
  }
});
