import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { decodeSecret } from "../secret.ts";
import { apiClaims, makeKey, serveJwks, signHs256Raw, signWith, testClock } from "../../tests/helpers/jwks_server.ts";
import { createVerifier, TokenError, type TokenErrorCode, type VerifierOptions } from "./mod.ts";

const SECRET = "verifier-unit-test-secret-of-32-bytes!";
const SECRET_BYTES = new TextEncoder().encode(SECRET);
const BASE: VerifierOptions = { issuer: "bus-api-provider-auth", audience: "ai.hg.fi/api" };

function refusedWith(code: TokenErrorCode, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof TokenError, `a TokenError, not ${error}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, code === "insufficient_scope" ? 403 : 401);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

Deno.test("createVerifier() needs jwksUrl or hs256Secret and refuses bad options with a TypeError", () => {
  const bad: [string, VerifierOptions][] = [
    ["no key source", BASE],
    ["an empty issuer", { ...BASE, issuer: "", hs256Secret: SECRET }],
    ["no audience", { ...BASE, audience: [], hs256Secret: SECRET }],
    ["an empty audience", { ...BASE, audience: [""], hs256Secret: SECRET }],
    ["a short secret", { ...BASE, hs256Secret: "x".repeat(31) }],
    ["a short byte secret", { ...BASE, hs256Secret: new Uint8Array(31) }],
    ["a base64: secret that is not base64", { ...BASE, hs256Secret: "base64:@@@@" }],
    ["a file: JWKS URL", { ...BASE, jwksUrl: "file:///etc/jwks.json" }],
    ["a JWKS URL that is no URL", { ...BASE, jwksUrl: "jwks.json" }],
    ["a negative tolerance", { ...BASE, hs256Secret: SECRET, clockToleranceSeconds: -1 }],
    ["a tolerance over 300 s", { ...BASE, hs256Secret: SECRET, clockToleranceSeconds: 301 }],
  ];
  for (const [what, options] of bad) assert.throws(() => createVerifier(options), TypeError, what);
  assert.ok(createVerifier({ ...BASE, jwksUrl: "https://auth.example/.well-known/jwks.json" }));
  assert.ok(createVerifier({ ...BASE, hs256Secret: SECRET_BYTES, audience: ["ai.hg.fi/api", "ai.hg.fi/internal"] }));
});

Deno.test("hs256Secret reads a base64: value as the provider reads BUS_AUTH_HS256_SECRET", async () => {
  const raw = crypto.getRandomValues(new Uint8Array(48));
  const standard = btoa(String.fromCharCode(...raw));
  const urlSafe = standard.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  for (const value of [`base64:${standard}`, `base64:${urlSafe}`, `base64: ${standard} `, SECRET]) {
    const provider = decodeSecret(value)!;
    const token = await signHs256Raw(provider, { alg: "HS256", typ: "JWT" }, { ...apiClaims() });
    const claims = await createVerifier({ ...BASE, hs256Secret: value }).verify(token);
    assert.equal(claims.aud, "ai.hg.fi/api", value);
  }
});

Deno.test("verify() returns the typed claims of an HS256 token, scope as a string and as a list", async () => {
  const verifier = createVerifier({ ...BASE, hs256Secret: SECRET });
  const original = apiClaims({ scope: "llm:proxy usage:read", client_id: crypto.randomUUID() });
  const token = await signHs256Raw(SECRET_BYTES, { alg: "HS256", typ: "JWT" }, { ...original });
  const claims = await verifier.verify(token, { scope: "usage:read llm:proxy" });
  assert.deepEqual(claims, { ...original, scopes: ["llm:proxy", "usage:read"] });
  assert.ok(Object.isFrozen(claims) && Object.isFrozen(claims.scopes));
  assert.deepEqual((await verifier.verify(token, { scope: ["llm:proxy"] })).scopes, ["llm:proxy", "usage:read"]);
  const empty = await signHs256Raw(SECRET_BYTES, { alg: "HS256", typ: "JWT" }, { ...apiClaims({ scope: "" }) });
  assert.deepEqual((await verifier.verify(empty)).scopes, []);
});

Deno.test("verify() takes EdDSA and ES256 tokens with the JWKS key their kid names", async () => {
  const [ed, ec] = await Promise.all([makeKey("EdDSA"), makeKey("ES256")]);
  const jwks = serveJwks([ed.publicJwk, ec.publicJwk]);
  try {
    const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url });
    for (const key of [ed, ec]) {
      const claims = apiClaims();
      assert.deepEqual(await verifier.verify(await signWith(key, claims)), { ...claims, scopes: ["llm:proxy"] });
    }
    assert.equal(jwks.requests, 1);
  } finally {
    await jwks.close();
  }
});

Deno.test("verify() refuses with the provider's codes: 401 for bad, expired or misaddressed tokens, 403 for scope", async (t) => {
  const clock = testClock();
  const [ed, ec, stranger] = await Promise.all([makeKey("EdDSA"), makeKey("ES256"), makeKey("EdDSA")]);
  const jwks = serveJwks([ed.publicJwk, ec.publicJwk]);
  const both = createVerifier({ ...BASE, jwksUrl: jwks.url, hs256Secret: SECRET, now: clock.now });
  const jwksOnly = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
  const hs256Only = createVerifier({ ...BASE, hs256Secret: SECRET, now: clock.now });
  const now = clock.now();
  const s = now / 1000;
  const hs = (claims: object, header: Record<string, unknown> = {}) =>
    signHs256Raw(SECRET_BYTES, { alg: "HS256", typ: "JWT", ...header }, claims);
  const cases: [string, Promise<string> | string, TokenErrorCode, RegExp?, typeof both?][] = [
    ["expired", signWith(ed, apiClaims({ iat: s - 7200, exp: s - 1 }, now)), "token_expired"],
    ["meant for ai.hg.fi/auth", signWith(ed, apiClaims({ aud: "ai.hg.fi/auth" }, now)), "token_wrong_audience"],
    ["from another issuer", signWith(ec, apiClaims({ iss: "someone-else" }, now)), "invalid_token", /"iss"/],
    ["signed by a key the set does not hold", signWith(stranger, apiClaims({}, now)), "invalid_token", /not in the/],
    [
      "signed by another key under a listed kid",
      signWith(stranger, apiClaims({}, now), { kid: ed.kid }),
      "invalid_token",
      /bad signature/,
    ],
    [
      "ES256 under the kid of the EdDSA key",
      signWith(ec, apiClaims({}, now), { kid: ed.kid }),
      "invalid_token",
      /not the one of its key/,
    ],
    ["EdDSA without a kid", signWith(ed, apiClaims({}, now), { kid: undefined }), "invalid_token", /names no key/],
    ["HS256 with a kid", hs(apiClaims({}, now), { kid: ed.kid }), "invalid_token", /not the one of its key/],
    [
      "HS256 with a wrong secret",
      signHs256Raw(new Uint8Array(32), { alg: "HS256", typ: "JWT" }, apiClaims()),
      "invalid_token",
    ],
    ["HS256 to a JWKS-only verifier", hs(apiClaims({}, now)), "invalid_token", /algorithm not allowed/, jwksOnly],
    ["EdDSA to an HS256-only verifier", signWith(ed, apiClaims({}, now)), "invalid_token", /algorithm/, hs256Only],
    [
      "HS384",
      new SignJWT({ ...apiClaims({}, now) }).setProtectedHeader({ alg: "HS384", typ: "JWT" }).sign(SECRET_BYTES),
      "invalid_token",
    ],
    ["alg none", `${btoa('{"alg":"none","typ":"JWT"}')}.${btoa(JSON.stringify(apiClaims({}, now)))}.`, "invalid_token"],
    ["a jku header", signWith(ed, apiClaims({}, now), { jku: jwks.url }), "invalid_token", /"jku"/],
    ["a jwk header", signWith(ed, apiClaims({}, now), { jwk: ed.publicJwk }), "invalid_token", /"jwk"/],
    ["no typ", signWith(ed, apiClaims({}, now), { typ: undefined }), "invalid_token", /typ/],
    ["issued 61 s ahead", signWith(ed, apiClaims({ iat: s + 61 }, now)), "invalid_token", /future/],
    ["no expiry", signWith(ed, { ...apiClaims({}, now), exp: undefined }), "invalid_token", /expiry/],
    ["a jti that is no UUID", signWith(ed, apiClaims({ jti: "1" }, now)), "invalid_token", /wrong form/],
    ["an email for a subject", signWith(ed, apiClaims({ sub: "a b@example.com" }, now)), "invalid_token"],
    ["a list audience", signWith(ed, { ...apiClaims({}, now), aud: ["ai.hg.fi/api"] }), "invalid_token"],
    ["padding", signWith(ed, apiClaims({}, now)).then((token) => `${token}=`), "invalid_token", /compact/],
    ["an empty string", "", "invalid_token"],
  ];
  try {
    for (const [what, token, code, pattern, verifier] of cases) {
      await t.step(what, async () => {
        await assert.rejects((verifier ?? both).verify(await token), refusedWith(code, pattern));
      });
    }
    await t.step("a scope the token lacks is 403 insufficient_scope naming it", async () => {
      const token = await signWith(ed, apiClaims({ scope: "llm:proxy" }, now));
      await assert.rejects(
        both.verify(token, { scope: "llm:proxy usage:read" }),
        refusedWith("insufficient_scope", /^The token lacks the scope "usage:read"$/),
      );
      assert.ok(await both.verify(token, { scope: "llm:proxy" }));
    });
    await t.step("a required scope that is no scope is a TypeError", async () => {
      const token = await signWith(ed, apiClaims({}, now));
      await assert.rejects(both.verify(token, { scope: 'x" y' }), TypeError);
    });
    await t.step("clockToleranceSeconds lets a token just past its exp through, and no further", async () => {
      const late = await signWith(ed, apiClaims({ iat: s - 100, exp: s - 30 }, now));
      const tolerant = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now, clockToleranceSeconds: 60 });
      assert.ok(await tolerant.verify(late));
      await assert.rejects(both.verify(late), refusedWith("token_expired"));
      const older = await signWith(ed, apiClaims({ iat: s - 100, exp: s - 61 }, now));
      await assert.rejects(tolerant.verify(older), refusedWith("token_expired"));
    });
  } finally {
    await jwks.close();
  }
});
