import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { assertError, createHarness, decodeClaims, TEST_SIGNING_KEY } from "../tests/helpers/app_testing.ts";

Deno.test("GET /check returns the claims of session, API and internal tokens", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("a@example.com");
  const api = (await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })).body.access_token;
  const internal = await h.mintToken({ aud: "ai.hg.fi/internal", sub: "usage-exporter", scope: "usage:read" });
  for (const bearer of [token, api, internal]) {
    const reply = await h.call("GET", "/api/v1/auth/check", { token: bearer });
    assert.equal(reply.status, 200, reply.text);
    const claims = decodeClaims(bearer);
    assert.deepEqual(reply.body, {
      sub: claims.sub,
      aud: claims.aud,
      scope: claims.scope,
      iat: claims.iat,
      exp: claims.exp,
      iss: claims.iss,
      jti: claims.jti,
    });
  }
});

Deno.test("GET /check enforces an expected audience and scopes", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("a@example.com");
  const api = (await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })).body.access_token;
  assert.equal(
    (await h.call("GET", "/api/v1/auth/check?audience=ai.hg.fi/api&scope=llm:proxy", { token: api })).status,
    200,
  );
  assertError(await h.call("GET", "/api/v1/auth/check?audience=ai.hg.fi/api", { token }), 401, "token_wrong_audience");
  assertError(await h.call("GET", "/api/v1/auth/check?scope=billing:read", { token: api }), 403, "insufficient_scope");
  assertError(await h.call("GET", "/api/v1/auth/check?audience=other", { token: api }), 400, "invalid_audience");
});

Deno.test("GET /check refuses invalid, unknown-audience, expiry-less, expired and revoked tokens with 401", async () => {
  const h = createHarness();
  const { token } = await h.signIn("a@example.com");
  const now = Math.floor(h.clock.now / 1000);
  const base = { iss: h.policy.issuer, sub: "svc", scope: "", iat: now, jti: crypto.randomUUID() };
  const sign = (payload: Record<string, unknown>) =>
    new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(TEST_SIGNING_KEY);
  assertError(
    await h.call("GET", "/auth/check", { token: await sign({ ...base, aud: "ai.hg.fi/api" }) }),
    401,
    "invalid_token",
  );
  assertError(
    await h.call("GET", "/auth/check", { token: await sign({ ...base, aud: "elsewhere", exp: now + 60 }) }),
    401,
    "token_wrong_audience",
  );
  assertError(
    await h.call("GET", "/auth/check", { token: await sign({ ...base, aud: "ai.hg.fi/api", exp: now - 1 }) }),
    401,
    "token_expired",
  );
  assertError(await h.call("GET", "/auth/check", {}), 401, "missing_token");
  await h.call("POST", "/api/v1/auth/logout", { token });
  assertError(await h.call("GET", "/auth/check", { token }), 401, "token_revoked");
});

Deno.test("GET /check refuses a padded second spelling, a future iat, foreign headers and a kid on HS256 with 401 invalid_token", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("a@example.com");
  const api = (await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })).body.access_token;
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: api })).status, 200);
  assertError(await h.call("GET", "/api/v1/auth/check", { token: `${api}=` }), 401, "invalid_token");
  assertError(await h.call("GET", "/api/v1/auth/status", { token: `${token}=` }), 401, "invalid_token");
  const now = Math.floor(h.clock.now / 1000);
  assertError(
    await h.call("GET", "/api/v1/auth/check", { token: await h.mintToken({ iat: now + 61, exp: now + 600 }) }),
    401,
    "invalid_token",
  );
  assert.equal(
    (await h.call("GET", "/api/v1/auth/check", { token: await h.mintToken({ iat: now + 60, exp: now + 600 }) })).status,
    200,
    "a minute of clock skew is tolerated",
  );
  const claims = decodeClaims(await h.mintToken());
  const sign = (header: Record<string, unknown>) =>
    new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256", ...header }).sign(TEST_SIGNING_KEY);
  // An HS256 token has no kid: a kid names a key file's key, and this provider has none.
  const refused = [{}, { typ: "at+jwt" }, { typ: "JWT", jku: "https://attacker.example/keys" }, {
    typ: "JWT",
    kid: "k1",
  }];
  for (const header of refused) {
    assertError(await h.call("GET", "/api/v1/auth/check", { token: await sign(header) }), 401, "invalid_token");
  }
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: await sign({ typ: "JWT" }) })).status, 200);
});
