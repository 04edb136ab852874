import assert from "node:assert/strict";
import { SignJWT } from "jose";
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

function rejectsWith(code: string) {
  return (error: unknown) => error instanceof AuthenticationError && error.code === code;
}

Deno.test("buildClaims() sets iat to the current second and exp to iat + ttl", () => {
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
  assert.throws(
    () => buildClaims({ issuer: "i", subject: "s", audience: "a", scope: "", ttlSeconds: 0, now: NOW }),
    InvalidInputError,
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
  const hs384 = await new SignJWT(claims()).setProtectedHeader({ alg: "HS384" }).sign(KEY);
  await assert.rejects(verifyToken(hs384, KEY, options), rejectsWith("invalid_token"));
  const { exp: _exp, ...noExp } = claims();
  const unsignedExpiry = await new SignJWT(noExp).setProtectedHeader({ alg: "HS256" }).sign(KEY);
  await assert.rejects(verifyToken(unsignedExpiry, KEY, options), rejectsWith("invalid_token"));
  const wrongType = await new SignJWT({ ...claims(), scope: 5 }).setProtectedHeader({ alg: "HS256" }).sign(KEY);
  await assert.rejects(verifyToken(wrongType, KEY, options), rejectsWith("invalid_token"));
  await assert.rejects(verifyToken("a.b", KEY, options), rejectsWith("invalid_token"));
  await assert.rejects(verifyToken(`${"a".repeat(9000)}.b.c`, KEY, options), rejectsWith("invalid_token"));
});
