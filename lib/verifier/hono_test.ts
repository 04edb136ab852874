import assert from "node:assert/strict";
import { Hono } from "hono";
import { apiClaims, makeKey, serveJwks, signWith } from "../../tests/helpers/jwks_server.ts";
import { busAuth, type BusAuthEnv } from "./hono.ts";
import { createVerifier, type Verifier } from "./mod.ts";

const key = await makeKey("EdDSA");

async function withApp(fn: (app: Hono) => Promise<void>): Promise<void> {
  const jwks = serveJwks([key.publicJwk]);
  try {
    const verifier = createVerifier({ issuer: "bus-api-provider-auth", audience: "ai.hg.fi/api", jwksUrl: jwks.url });
    const app = new Hono();
    app.post("/v1/chat/completions", busAuth(verifier, { scope: "llm:proxy" }), (c) => {
      const claims = c.get("busClaims");
      return c.json({ account: claims.sub, scopes: claims.scopes });
    });
    app.get("/v1/usage", busAuth(verifier, { scope: ["usage:read", "billing:read"], realm: "bus-usage" }), (c) => {
      return c.json({ account: c.get("busClaims").sub });
    });
    await fn(app);
  } finally {
    await jwks.close();
  }
}

async function refusal(response: Response) {
  return {
    status: response.status,
    body: await response.json(),
    challenge: response.headers.get("WWW-Authenticate"),
    cacheControl: response.headers.get("Cache-Control"),
  };
}

Deno.test("busAuth() puts the verified claims on the context as busClaims", async () => {
  await withApp(async (app) => {
    const claims = apiClaims({ scope: "llm:proxy usage:read" });
    const response = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: `Bearer ${await signWith(key, claims)}` },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { account: claims.sub, scopes: ["llm:proxy", "usage:read"] });
    const lowercase = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: `bearer  ${await signWith(key, claims)}` },
    });
    assert.equal(lowercase.status, 200, "the scheme is case-insensitive, as at the provider");
  });
});

Deno.test("busAuth() answers 401 with the provider's error JSON and an RFC 6750 challenge", async () => {
  await withApp(async (app) => {
    const post = (headers: Record<string, string>) => app.request("/v1/chat/completions", { method: "POST", headers });
    assert.deepEqual(await refusal(await post({})), {
      status: 401,
      body: { error: "missing_token", message: "This call needs an Authorization: Bearer <token> header" },
      challenge: 'Bearer realm="bus"',
      cacheControl: "no-store",
    });
    assert.deepEqual(await refusal(await post({ Authorization: "Basic dXNlcjpwYXNz" })), {
      status: 401,
      body: { error: "invalid_token", message: "The Authorization header must be Bearer <token>" },
      challenge:
        `Bearer realm="bus", error="invalid_token", error_description="The Authorization header must be Bearer <token>"`,
      cacheControl: "no-store",
    });
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWith(key, apiClaims({ iat: now - 7200, exp: now - 3600 }));
    assert.deepEqual(await refusal(await post({ Authorization: `Bearer ${expired}` })), {
      status: 401,
      body: { error: "token_expired", message: "The token has expired: sign in again" },
      challenge: `Bearer realm="bus", error="invalid_token", error_description="The token has expired: sign in again"`,
      cacheControl: "no-store",
    });
    const session = await signWith(key, apiClaims({ aud: "ai.hg.fi/auth" }));
    const wrong = await refusal(await post({ Authorization: `Bearer ${session}` }));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, "token_wrong_audience");
    const unknown = await refusal(
      await post({ Authorization: `Bearer ${await signWith(key, apiClaims(), { kid: "k" })}` }),
    );
    assert.equal(unknown.body.message, `The token is not valid: its key "k" is not in the key set`);
    assert.equal(
      unknown.challenge,
      `Bearer realm="bus", error="invalid_token", error_description="The token is not valid: its key 'k' is not in the key set"`,
      "quotes in the description become apostrophes",
    );
  });
});

Deno.test("busAuth() answers 403 insufficient_scope naming the route's scopes", async () => {
  await withApp(async (app) => {
    const token = await signWith(key, apiClaims({ scope: "usage:read" }));
    assert.deepEqual(await refusal(await app.request("/v1/usage", { headers: { Authorization: `Bearer ${token}` } })), {
      status: 403,
      body: { error: "insufficient_scope", message: 'The token lacks the scope "billing:read"' },
      challenge: `Bearer realm="bus-usage", error="insufficient_scope", scope="usage:read billing:read", ` +
        `error_description="The token lacks the scope 'billing:read'"`,
      cacheControl: "no-store",
    });
  });
});

Deno.test("busAuth() refuses a bad scope when it is made and leaves other errors to the app", async () => {
  const verifier: Verifier = { verify: () => Promise.reject(new Error("boom")) };
  assert.throws(() => busAuth(verifier, { scope: 'llm:proxy "' }), TypeError);
  const app = new Hono<BusAuthEnv>();
  app.use("/v1/*", busAuth(verifier));
  app.get("/v1/me", (c) => c.json({ account: c.get("busClaims").sub }));
  app.onError((error, c) => c.json({ error: "internal_error", message: error.message }, 500));
  const response = await app.request("/v1/me", { headers: { Authorization: "Bearer a.b.c" } });
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: "internal_error", message: "boom" });
});
