import assert from "node:assert/strict";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { AUDIENCE } from "../lib/claims.ts";
import { generateSigningKey } from "../lib/keys/generate.ts";
import { TokenKeys } from "../lib/keys/token_keys.ts";
import { signToken } from "../lib/jwt.ts";
import { assertError, createHarness, decodeClaims, TEST_SIGNING_KEY } from "../tests/helpers/app_testing.ts";
import { AUTH_BASES } from "./app.ts";

const PREFIX = "/local-dev/v1";
/** Every place the well-known documents are served: root and route prefix, each alone and below each auth base. */
const PLACES = ["", PREFIX].flatMap((prefix) => ["", ...AUTH_BASES].map((base) => ({ prefix, base })));

const current = generateSigningKey("EdDSA").material;
const older = generateSigningKey("ES256").material;
const retired = generateSigningKey("EdDSA").material;

function keyFileHarness(options: { acceptHs256?: boolean; publicUrl?: string } = {}) {
  const keys = new TokenKeys({
    hs256Secret: TEST_SIGNING_KEY,
    signing: current,
    verify: [{ ...older, privateJwk: null }],
    acceptHs256: options.acceptHs256,
  });
  return createHarness({ routePrefix: PREFIX, keys, publicUrl: options.publicUrl });
}

Deno.test("GET /.well-known/jwks.json of an HS256 provider is an empty key set everywhere, cacheable", async () => {
  const h = createHarness({ routePrefix: PREFIX });
  for (const { prefix, base } of PLACES) {
    const reply = await h.call("GET", `${prefix}${base}/.well-known/jwks.json`);
    assert.equal(reply.status, 200, `${prefix}${base}`);
    assert.deepEqual(reply.body, { keys: [] }, "the HS256 secret is never published");
    assert.equal(reply.headers.get("Cache-Control"), "public, max-age=300");
    assert.match(reply.headers.get("Content-Type") ?? "", /^application\/json/);
  }
  assertError(await h.call("POST", "/.well-known/jwks.json"), 404, "not_found");
});

Deno.test("GET /.well-known/jwks.json publishes the signing key and the verify list with kid, alg and use, no private part", async () => {
  const h = keyFileHarness();
  const expected = {
    keys: [
      { kty: "OKP", crv: "Ed25519", x: current.publicJwk.x, kid: current.kid, alg: "EdDSA", use: "sig" },
      { kty: "EC", crv: "P-256", x: older.publicJwk.x, y: older.publicJwk.y, kid: older.kid, alg: "ES256", use: "sig" },
    ],
  };
  for (const { prefix, base } of PLACES) {
    const reply = await h.call("GET", `${prefix}${base}/.well-known/jwks.json`);
    assert.deepEqual(reply.body, expected, `${prefix}${base}`);
    assert.ok(!reply.text.includes('"d"'));
  }
});

Deno.test("a Bus API verifies the provider's tokens with the JWKS alone; the provider refuses a retired key's token", async () => {
  const h = keyFileHarness();
  const { token } = await h.signIn("jwks@example.com");
  assert.deepEqual(decodeProtectedHeader(token), { alg: "EdDSA", typ: "JWT", kid: current.kid });
  const jwks = createLocalJWKSet((await h.call("GET", "/.well-known/jwks.json")).body);
  const { payload } = await jwtVerify(token, jwks, { issuer: h.policy.issuer, audience: AUDIENCE.auth });
  assert.equal(payload.sub, decodeClaims(token).sub);
  assert.equal((await h.call("GET", "/api/v1/auth/me", { token })).status, 200);

  const claims = decodeClaims(await h.mintToken());
  const fromOlder = await signToken(claims, new TokenKeys({ hs256Secret: null, signing: older }));
  assert.equal(
    (await h.call("GET", "/api/v1/auth/check", { token: fromOlder })).status,
    200,
    "an older key in the list",
  );
  const fromRetired = await signToken(claims, new TokenKeys({ hs256Secret: null, signing: retired }));
  assertError(await h.call("GET", "/api/v1/auth/check", { token: fromRetired }), 401, "invalid_token");
  const hs256 = await signToken(claims, TEST_SIGNING_KEY);
  assertError(await h.call("GET", "/api/v1/auth/check", { token: hs256 }), 401, "invalid_token");
  const accepting = keyFileHarness({ acceptHs256: true });
  assert.equal((await accepting.call("GET", "/api/v1/auth/check", { token: hs256 })).status, 200);
});

Deno.test("GET /.well-known/oauth-authorization-server names the issuer, JWKS, token endpoint, grant and algorithms", async () => {
  const h = keyFileHarness();
  for (const { prefix, base } of PLACES) {
    const reply = await h.call("GET", `${prefix}${base}/.well-known/oauth-authorization-server`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      issuer: "bus-api-provider-auth",
      jwks_uri: `http://localhost${prefix}${base}/.well-known/jwks.json`,
      token_endpoint: `http://localhost${prefix}/api/internal/auth/token`,
      grant_types_supported: ["client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      response_types_supported: [],
      access_token_signing_alg_values_supported: ["EdDSA", "ES256"],
    }, `${prefix}${base}`);
    assert.equal(
      reply.headers.get("Cache-Control"),
      "no-store",
      "built from the request's Host: not for shared caches",
    );
    const jwks = await h.app.request(reply.body.jwks_uri);
    assert.equal(jwks.status, 200, "the jwks_uri answers");
  }
  const hs256 = createHarness();
  const metadata = await hs256.call("GET", "/.well-known/oauth-authorization-server");
  assert.deepEqual(metadata.body.access_token_signing_alg_values_supported, ["HS256"]);
});

Deno.test("the discovery document follows the request's Host and scheme, or BUS_AUTH_PUBLIC_URL when set", async () => {
  const derived = keyFileHarness();
  const reply = await derived.app.request("https://auth.example.test:8443/.well-known/oauth-authorization-server");
  const body = await reply.json();
  assert.equal(body.token_endpoint, "https://auth.example.test:8443/api/internal/auth/token");
  const configured = keyFileHarness({ publicUrl: "https://ai.example.com/gateway" });
  for (const { prefix, base } of PLACES) {
    const fixed = await configured.call("GET", `${prefix}${base}/.well-known/oauth-authorization-server`, {
      headers: { Host: "attacker.example" },
    });
    assert.equal(fixed.body.jwks_uri, `https://ai.example.com/gateway${prefix}${base}/.well-known/jwks.json`);
    assert.equal(fixed.body.token_endpoint, `https://ai.example.com/gateway${prefix}/api/internal/auth/token`);
    assert.equal(fixed.headers.get("Cache-Control"), "public, max-age=300");
  }
});

Deno.test("every other answer stays Cache-Control: no-store", async () => {
  const h = keyFileHarness();
  assert.equal((await h.call("GET", "/healthz")).headers.get("Cache-Control"), "no-store");
  assert.equal((await h.call("GET", "/nowhere")).headers.get("Cache-Control"), "no-store");
});
