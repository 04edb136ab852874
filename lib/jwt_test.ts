import assert from "node:assert/strict";
import { base64url, SignJWT } from "jose";
import { AUDIENCE, buildClaims } from "./claims.ts";
import { AuthenticationError, InvalidInputError } from "./errors.ts";
import { signToken, verifyToken } from "./jwt.ts";

const KEY = new TextEncoder().encode("unit-test-signing-key-32-bytes-long!!");
const NOW = Date.UTC(2026, 10, 23, 12);
const options = { issuer: "bus-api-provider-auth", audiences: [AUDIENCE.api], now: NOW };

function claims(overrides = {}) {
  return {
    ...buildClaims({
      issuer: "bus-api-provider-auth",
      subject: "acct",
      audience: AUDIENCE.api,
      scope: "llm:proxy",
      ttlSeconds: 60,
      now: NOW,
    }),
    ...overrides,
  };
}

/** Signs any header and payload with HS256, as jose would not (it refuses unknown `crit` entries). */
async function signRaw(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode(header)}.${encode(payload)}`;
  const hmac = await crypto.subtle.importKey("raw", KEY, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

function rejectsWith(code: string) {
  return (error: unknown) => error instanceof AuthenticationError && error.code === code;
}

Deno.test("buildClaims() sets iat to the current second and exp to iat + ttl, at most 30 days", () => {
  const built = buildClaims({
    issuer: "i",
    subject: "s",
    audience: AUDIENCE.auth,
    scope: "",
    ttlSeconds: 90,
    now: NOW + 999,
    sid: "x",
  });
  assert.equal(built.iat, NOW / 1000);
  assert.equal(built.exp, NOW / 1000 + 90);
  assert.equal(built.sid, "x");
  assert.match(built.jti, /^[0-9a-f-]{36}$/);
  for (const ttlSeconds of [0, 30 * 86400 + 1]) {
    assert.throws(
      () => buildClaims({ issuer: "i", subject: "s", audience: "a", scope: "", ttlSeconds, now: NOW }),
      InvalidInputError,
    );
  }
  assert.equal(
    buildClaims({ issuer: "i", subject: "s", audience: "a", scope: "", ttlSeconds: 30 * 86400, now: NOW }).exp,
    NOW / 1000 + 30 * 86400,
  );
});

Deno.test("signToken() writes the HS256 header and verifyToken() returns the same claims", async () => {
  const original = claims();
  const token = await signToken(original, KEY);
  assert.deepEqual(JSON.parse(atob(token.split(".")[0])), { alg: "HS256", typ: "JWT" });
  assert.deepEqual(await verifyToken(token, KEY, options), original);
});

Deno.test("verifyToken() refuses other keys, algorithms, audiences, issuers and expired or expiry-less tokens", async () => {
  const token = await signToken(claims(), KEY);
  await assert.rejects(
    verifyToken(token, new TextEncoder().encode("x".repeat(32)), options),
    rejectsWith("invalid_token"),
  );
  await assert.rejects(
    verifyToken(token, KEY, { ...options, audiences: [AUDIENCE.auth] }),
    rejectsWith("token_wrong_audience"),
  );
  await assert.rejects(verifyToken(token, KEY, { ...options, issuer: "other" }), rejectsWith("invalid_token"));
  await assert.rejects(verifyToken(token, KEY, { ...options, now: NOW + 60_000 }), rejectsWith("token_expired"));
  const hs384 = await new SignJWT(claims()).setProtectedHeader({ alg: "HS384", typ: "JWT" }).sign(KEY);
  await assert.rejects(verifyToken(hs384, KEY, options), rejectsWith("invalid_token"));
  const { exp: _exp, ...noExp } = claims();
  const unsignedExpiry = await new SignJWT(noExp).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(KEY);
  await assert.rejects(verifyToken(unsignedExpiry, KEY, options), rejectsWith("invalid_token"));
  const wrongType = await new SignJWT({ ...claims(), scope: 5 }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(
    KEY,
  );
  await assert.rejects(verifyToken(wrongType, KEY, options), rejectsWith("invalid_token"));
  await assert.rejects(verifyToken("a.b", KEY, options), rejectsWith("invalid_token"));
  await assert.rejects(verifyToken(`${"a".repeat(9000)}.b.c`, KEY, options), rejectsWith("invalid_token"));
});

Deno.test("verifyToken() accepts only the compact serialization: no padding, whitespace or second spelling", async () => {
  const original = claims();
  const token = await signToken(original, KEY);
  const [header, payload, signature] = token.split(".");
  // The 43rd character of an HS256 signature carries 4 bits and 2 unused ones: flipping one of those spells the same bytes.
  const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const sameBytes = signature.slice(0, -1) + last[last.indexOf(signature.at(-1)!) ^ 1];
  const spellings: [string, string][] = [
    ["one = after the signature", `${token}=`],
    ["two = after the signature", `${token}==`],
    ["= after the header", `${header}=.${payload}.${signature}`],
    ["= after the payload", `${header}.${payload}=.${signature}`],
    ["a trailing space", `${token} `],
    ["a leading space", ` ${token}`],
    ["a trailing newline", `${token}\n`],
    ["a space inside", `${header}.${payload}. ${signature}`],
    ["standard base64 characters", `${header}.${payload}.${signature.replace(/[-_]/g, (c) => c === "-" ? "+" : "/")}`],
    ["an empty signature", `${header}.${payload}.`],
    ["a fourth segment", `${token}.${signature}`],
    ["unused bits set in the signature", sameBytes],
  ];
  for (const [what, spelling] of spellings) {
    if (spelling === token) continue; // the signature has no "-" or "_" to replace
    await assert.rejects(verifyToken(spelling, KEY, options), rejectsWith("invalid_token"), what);
  }
  assert.deepEqual(await verifyToken(token, KEY, options), original);
});

Deno.test("verifyToken() refuses a token issued more than 60 s in the future", async () => {
  const now = NOW / 1000;
  const future = await signToken(claims({ iat: now + 61, exp: now + 3600 }), KEY);
  await assert.rejects(verifyToken(future, KEY, options), rejectsWith("invalid_token"));
  const skewed = await signToken(claims({ iat: now + 60, exp: now + 3600 }), KEY);
  assert.equal((await verifyToken(skewed, KEY, options)).iat, now + 60, "60 s of clock skew is tolerated");
});

Deno.test("verifyToken() requires typ JWT and refuses jku, x5u, x5c, jwk and crit headers, and a kid on HS256", async () => {
  const original = claims();
  const sign = (header: Record<string, unknown>) => signRaw({ alg: "HS256", ...header }, original);
  const refused: [string, Record<string, unknown>][] = [
    ["no typ", {}],
    ["typ jwt", { typ: "jwt" }],
    ["typ application/jwt", { typ: "application/jwt" }],
    ["typ at+jwt", { typ: "at+jwt" }],
    ["typ a number", { typ: 1 }],
    ["jku", { typ: "JWT", jku: "https://attacker.example/jwks.json" }],
    ["x5u", { typ: "JWT", x5u: "https://attacker.example/cert.pem" }],
    ["x5c", { typ: "JWT", x5c: ["MIIB"] }],
    ["jwk", { typ: "JWT", jwk: { kty: "oct", k: "AAAA" } }],
    ["crit", { typ: "JWT", crit: ["exp"], exp: 1 }],
    // HS256 tokens carry no kid; a kid names a key file's key (lib/keys/token_keys_test.ts), and no such key exists here.
    ["kid on HS256", { typ: "JWT", kid: "2026-11" }],
  ];
  for (const [what, header] of refused) {
    await assert.rejects(verifyToken(await sign(header), KEY, options), rejectsWith("invalid_token"), what);
  }
  assert.deepEqual(await verifyToken(await sign({ typ: "JWT" }), KEY, options), original);
});

Deno.test("verifyToken() refuses ids this system never writes: sub outside the subject set, jti, sid and client_id not UUIDs", async () => {
  const refused: Record<string, unknown>[] = [
    { sub: "a\u0000b" },
    { sub: "x".repeat(129) },
    { sub: "" },
    { jti: "abc" },
    { jti: `${crypto.randomUUID()}\u0000` },
    { jti: crypto.randomUUID().toUpperCase() },
    { sid: "x" },
    { sid: "\u0000" },
    { client_id: "billing-worker" },
    { client_id: 7 },
    { client_id: crypto.randomUUID().toUpperCase() },
  ];
  for (const overrides of refused) {
    const token = await signRaw({ alg: "HS256", typ: "JWT" }, claims(overrides));
    await assert.rejects(verifyToken(token, KEY, options), rejectsWith("invalid_token"), JSON.stringify(overrides));
  }
  const session = claims({ sid: crypto.randomUUID(), sub: crypto.randomUUID() });
  assert.deepEqual(await verifyToken(await signToken(session, KEY), KEY, options), session);
});

Deno.test("buildClaims() adds client_id for a client's token and verifyToken() keeps it", async () => {
  const clientId = crypto.randomUUID();
  const built = buildClaims({
    issuer: "bus-api-provider-auth",
    subject: "billing-worker",
    audience: AUDIENCE.api,
    scope: "billing:entitlement:check",
    ttlSeconds: 60,
    now: NOW,
    clientId,
  });
  assert.equal(built.client_id, clientId);
  assert.equal(claims().client_id, undefined, "no client_id unless a client is named");
  assert.deepEqual(await verifyToken(await signToken(built, KEY), KEY, options), built);
});

Deno.test("signToken() encodes claims of any size and any characters the way verifyToken() reads them back", async () => {
  for (const scope of ["", "llm:proxy", `${"s".repeat(4200)}:wide`, "ä € 𝄞"]) {
    const original = claims({ scope });
    const token = await signToken(original, KEY);
    assert.deepEqual(await verifyToken(token, KEY, options), original);
  }
});
