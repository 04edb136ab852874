import assert from "node:assert/strict";
import { base64url, decodeProtectedHeader, importJWK, SignJWT } from "jose";
import { AUDIENCE, buildClaims } from "../claims.ts";
import { AuthenticationError } from "../errors.ts";
import { signToken, verifyToken } from "../jwt.ts";
import { generateSigningKey } from "./generate.ts";
import type { KeyMaterial } from "./key_material.ts";
import { TokenKeys } from "./token_keys.ts";

const SECRET = new TextEncoder().encode("unit-test-signing-key-32-bytes-long!!");
const NOW = Date.UTC(2026, 10, 23, 12);
const options = { issuer: "bus-api-provider-auth", audiences: [AUDIENCE.api], now: NOW };
const claims = () =>
  buildClaims({
    issuer: options.issuer,
    subject: "acct",
    audience: AUDIENCE.api,
    scope: "llm:proxy",
    ttlSeconds: 60,
    now: NOW,
  });

const ed1 = generateSigningKey("EdDSA").material;
const ed2 = generateSigningKey("EdDSA").material;
const es1 = generateSigningKey("ES256").material;

/** The public half only, as a VERIFY list may hold it. */
const publicOnly = (key: KeyMaterial): KeyMaterial => ({ ...key, privateJwk: null });

function refused(why: RegExp) {
  return (error: unknown) =>
    error instanceof AuthenticationError && error.code === "invalid_token" && why.test(error.message);
}

/** Signs any header with a key's private part (jose's SignJWT refuses some headers, such as crit). */
async function signRaw(header: Record<string, unknown>, key: KeyMaterial): Promise<string> {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode(header)}.${encode(claims())}`;
  const privateKey = await importJWK(key.privateJwk!, key.alg) as CryptoKey;
  const algorithm = key.alg === "EdDSA" ? "Ed25519" : { name: "ECDSA", hash: "SHA-256" };
  const signature = await crypto.subtle.sign(algorithm, privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

Deno.test("TokenKeys signs HS256 without kid, EdDSA and ES256 with the key's kid, and verifies its own tokens", async () => {
  const cases: [string, TokenKeys, Record<string, unknown>][] = [
    ["HS256", TokenKeys.hs256(SECRET), { alg: "HS256", typ: "JWT" }],
    ["EdDSA", new TokenKeys({ hs256Secret: SECRET, signing: ed1 }), { alg: "EdDSA", typ: "JWT", kid: ed1.kid }],
    ["ES256", new TokenKeys({ hs256Secret: null, signing: es1 }), { alg: "ES256", typ: "JWT", kid: es1.kid }],
  ];
  for (const [what, keys, header] of cases) {
    await keys.ready();
    const original = claims();
    const token = await signToken(original, keys);
    assert.deepEqual(decodeProtectedHeader(token), header, what);
    assert.deepEqual(await verifyToken(token, keys, options), original, what);
  }
});

Deno.test("TokenKeys publishes the public keys (signing key first, no duplicates) and never a secret", () => {
  const keys = new TokenKeys({ hs256Secret: SECRET, signing: ed2, verify: [ed1, publicOnly(es1), ed2, ed1] });
  assert.deepEqual(keys.jwks, {
    keys: [
      { ...ed2.publicJwk, kid: ed2.kid, alg: "EdDSA", use: "sig" },
      { ...ed1.publicJwk, kid: ed1.kid, alg: "EdDSA", use: "sig" },
      { ...es1.publicJwk, kid: es1.kid, alg: "ES256", use: "sig" },
    ],
  });
  assert.ok(!JSON.stringify(keys.jwks).includes('"d"'), "no private part");
  assert.deepEqual(keys.algorithms, ["EdDSA", "ES256"]);
  assert.deepEqual(TokenKeys.hs256(SECRET).jwks, { keys: [] }, "the HS256 secret is never published");
  assert.deepEqual(TokenKeys.hs256(SECRET).algorithms, ["HS256"]);
  assert.deepEqual(new TokenKeys({ hs256Secret: SECRET, signing: es1, acceptHs256: true }).algorithms, [
    "ES256",
    "HS256",
  ]);
});

Deno.test("verifyToken() accepts an older key of the verify list, public or private, and refuses a retired one", async () => {
  const old = await signToken(claims(), new TokenKeys({ hs256Secret: null, signing: ed1 }));
  const oldEs = await signToken(claims(), new TokenKeys({ hs256Secret: null, signing: es1 }));
  const rotated = new TokenKeys({ hs256Secret: null, signing: ed2, verify: [publicOnly(ed1), es1] });
  assert.equal((await verifyToken(old, rotated, options)).sub, "acct");
  assert.equal((await verifyToken(oldEs, rotated, options)).sub, "acct", "another algorithm in the same list");
  const retired = new TokenKeys({ hs256Secret: null, signing: ed2 });
  await assert.rejects(verifyToken(old, retired, options), refused(/kid\) names no key of this provider/));
});

Deno.test("verifyToken() refuses an unknown kid, an alg that is not its key's, a kid on HS256 and a kid-less EdDSA token", async () => {
  const keys = new TokenKeys({ hs256Secret: SECRET, signing: ed1, verify: [es1], acceptHs256: true });
  const hmac = (header: Record<string, unknown>, secret: Uint8Array = SECRET) =>
    new SignJWT({ ...claims() }).setProtectedHeader({ alg: "HS256", typ: "JWT", ...header }).sign(secret);
  const cases: [string, Promise<string>, RegExp][] = [
    ["unknown kid", signRaw({ alg: "EdDSA", typ: "JWT", kid: "no-such-key" }, ed1), /names no key/],
    ["kid of another key", signRaw({ alg: "EdDSA", typ: "JWT", kid: ed2.kid }, ed2), /names no key/],
    ["a kid that is not a string", signRaw({ alg: "EdDSA", typ: "JWT", kid: 7 }, ed1), /names no key/],
    ["ES256 under an EdDSA kid", signRaw({ alg: "ES256", typ: "JWT", kid: ed1.kid }, es1), /not the one of its key/],
    ["EdDSA under an ES256 kid", signRaw({ alg: "EdDSA", typ: "JWT", kid: es1.kid }, ed1), /not the one of its key/],
    ["HS256 under an EdDSA kid", hmac({ kid: ed1.kid }), /not the one of its key/],
    // The classic confusion: HMAC keyed with the published public key.
    ["HS256 keyed with the public key", hmac({ kid: ed1.kid }, base64url.decode(ed1.publicJwk.x)), /not the one/],
    ["kid on HS256", hmac({ kid: "hs256" }), /names no key/],
    ["EdDSA without kid", signRaw({ alg: "EdDSA", typ: "JWT" }, ed1), /names no key \(kid\)/],
    [
      "alg none",
      Promise.resolve(`${base64url.encode('{"alg":"none","typ":"JWT"}')}.${base64url.encode("{}")}.AA`),
      /./,
    ],
  ];
  for (const [what, token, why] of cases) {
    await assert.rejects(verifyToken(await token, keys, options), refused(why), what);
  }
  assert.equal((await verifyToken(await hmac({}), keys, options)).sub, "acct", "HS256 without kid, accepted here");
});

Deno.test("verifyToken() accepts kid-less HS256 tokens besides a key file only when HS256 is accepted", async () => {
  const hs256 = await signToken(claims(), SECRET);
  const accepting = new TokenKeys({ hs256Secret: SECRET, signing: ed1, acceptHs256: true });
  assert.equal((await verifyToken(hs256, accepting, options)).sub, "acct");
  for (
    const keys of [
      new TokenKeys({ hs256Secret: SECRET, signing: ed1 }),
      new TokenKeys({ hs256Secret: null, signing: ed1 }),
    ]
  ) {
    await assert.rejects(verifyToken(hs256, keys, options), refused(/algorithm not allowed/));
  }
  const other = new TokenKeys({
    hs256Secret: new TextEncoder().encode("another-secret-of-32-bytes-or-more!!"),
    signing: ed1,
    acceptHs256: true,
  });
  await assert.rejects(verifyToken(hs256, other, options), refused(/bad signature/));
});

Deno.test("verifyToken() keeps every header rule for key-file tokens: typ JWT, no jku, x5u, x5c, jwk or crit", async () => {
  const keys = new TokenKeys({ hs256Secret: null, signing: ed1 });
  const base = { alg: "EdDSA", kid: ed1.kid };
  const headers: Record<string, unknown>[] = [
    base,
    { ...base, typ: "at+jwt" },
    { ...base, typ: "JWT", jku: "https://attacker.example/jwks.json" },
    { ...base, typ: "JWT", x5u: "https://attacker.example/cert.pem" },
    { ...base, typ: "JWT", x5c: ["MIIB"] },
    { ...base, typ: "JWT", jwk: ed1.publicJwk },
    { ...base, typ: "JWT", crit: ["exp"], exp: 1 },
  ];
  for (const header of headers) {
    await assert.rejects(verifyToken(await signRaw(header, ed1), keys, options), refused(/./), JSON.stringify(header));
  }
  assert.equal((await verifyToken(await signRaw({ ...base, typ: "JWT" }, ed1), keys, options)).sub, "acct");
});

Deno.test("TokenKeys refuses a public signing key and a missing HS256 secret where HS256 is needed", () => {
  assert.throws(() => new TokenKeys({ hs256Secret: SECRET, signing: publicOnly(ed1) }), /is a public key/);
  assert.throws(() => new TokenKeys({ hs256Secret: null }), /no HS256 secret/);
  assert.throws(() => new TokenKeys({ hs256Secret: null, signing: ed1, acceptHs256: true }), /no HS256 secret/);
});
