import assert from "node:assert/strict";
import { base64url } from "jose";
import { AUDIENCE, buildClaims, KNOWN_AUDIENCES, type TokenClaims } from "./claims.ts";
import { AuthenticationError } from "./errors.ts";
import { signToken, verifyToken } from "./jwt.ts";
import { TokenKeys } from "./keys/token_keys.ts";
import { VerifiedTokens } from "./verified_tokens.ts";

const SECRET = new TextEncoder().encode("unit-test-signing-key-32-bytes-long!!");
const ISSUER = "bus-api-provider-auth";
const NOW = Date.UTC(2026, 11, 2, 12);

function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return {
    ...buildClaims({
      issuer: ISSUER,
      subject: "acct",
      audience: AUDIENCE.api,
      scope: "llm:proxy",
      ttlSeconds: 60,
      now: NOW,
    }),
    ...overrides,
  };
}

/** Signs any payload with HS256 (for claims signToken never writes, such as nbf). */
async function signRaw(payload: Record<string, unknown>): Promise<string> {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(payload)}`;
  const hmac = await crypto.subtle.importKey("raw", SECRET, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** The outcome of a verification: the claims, or the error code. */
async function outcome(token: string, keys: TokenKeys, options: Parameters<typeof verifyToken>[2]): Promise<string> {
  try {
    return JSON.stringify(await verifyToken(token, keys, options));
  } catch (error) {
    if (error instanceof AuthenticationError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

Deno.test("a remembered token gets exactly the verdict a fresh verification gives, at any time and for any caller", async () => {
  const withNbf = await signRaw({ ...claims(), nbf: NOW / 1000 + 30 });
  const tokens = [
    await signToken(claims(), SECRET),
    await signToken(claims({ aud: AUDIENCE.auth, sid: crypto.randomUUID() }), SECRET),
    await signToken(claims({ iss: "another-issuer" }), SECRET),
    withNbf,
  ];
  const cases: Parameters<typeof verifyToken>[2][] = [];
  for (const offsetMs of [-120_000, -61_001, -1, 0, 29_999, 30_000, 59_999, 60_000, 61_000, 3_600_000]) {
    for (const audiences of [KNOWN_AUDIENCES, [AUDIENCE.api], [AUDIENCE.auth], [AUDIENCE.internal]]) {
      for (const issuer of [ISSUER, "another-issuer"]) cases.push({ issuer, audiences, now: NOW + offsetMs });
    }
  }
  for (const token of tokens) {
    // The warm key set verified the token once, as permissively as it can be verified.
    const warm = new TokenKeys({ hs256Secret: SECRET });
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[1])));
    await verifyToken(token, warm, { issuer: payload.iss, audiences: KNOWN_AUDIENCES, now: NOW + 45_000 });
    assert.equal(warm.verified.size, 1);
    for (const options of cases) {
      const cold = new TokenKeys({ hs256Secret: SECRET, verifiedTokens: 0 });
      const expected = await outcome(token, cold, options);
      assert.equal(await outcome(token, warm, options), expected, `${payload.aud} ${JSON.stringify(options)}`);
    }
  }
});

Deno.test("a token that fails verification is never remembered", async () => {
  const keys = new TokenKeys({ hs256Secret: SECRET });
  const good = await signToken(claims(), SECRET);
  const tampered = good.slice(0, -2) + (good.endsWith("AA") ? "BA" : "AA");
  const foreign = await signToken(claims(), new TextEncoder().encode("another-secret-of-at-least-32-bytes!!"));
  for (const token of [tampered, foreign]) {
    await assert.rejects(verifyToken(token, keys, { issuer: ISSUER, audiences: KNOWN_AUDIENCES, now: NOW }));
  }
  await assert.rejects(verifyToken(good, keys, { issuer: ISSUER, audiences: KNOWN_AUDIENCES, now: NOW + 61_000 }));
  assert.equal(keys.verified.size, 0);
});

Deno.test("VerifiedTokens keeps at most maxEntries tokens, forgets the oldest first and expired ones on lookup", () => {
  const verified = new VerifiedTokens(2);
  const options = { issuer: ISSUER, audiences: KNOWN_AUDIENCES, now: NOW };
  verified.remember("a", claims(), undefined);
  verified.remember("b", claims(), undefined);
  verified.remember("c", claims(), undefined);
  assert.equal(verified.size, 2);
  assert.equal(verified.lookup("a", options), undefined);
  assert.ok(verified.lookup("b", options));
  assert.throws(
    () => verified.lookup("c", { ...options, now: NOW + 60_000 }),
    (error) => error instanceof AuthenticationError && error.code === "token_expired",
  );
  assert.equal(verified.size, 1);
  assert.equal(verified.lookup("c", options), undefined);
  assert.throws(() => new VerifiedTokens(-1), RangeError);
  const off = new VerifiedTokens(0);
  off.remember("a", claims(), undefined);
  assert.equal(off.size, 0);
});

Deno.test("remembered claims are frozen copies: no caller can change what the next one gets", async () => {
  const keys = new TokenKeys({ hs256Secret: SECRET });
  const token = await signToken(claims(), SECRET);
  const options = { issuer: ISSUER, audiences: KNOWN_AUDIENCES, now: NOW };
  await verifyToken(token, keys, options);
  const again = await verifyToken(token, keys, options);
  assert.ok(Object.isFrozen(again));
  assert.throws(() => {
    (again as { scope: string }).scope = "admin:manage";
  }, TypeError);
  assert.equal((await verifyToken(token, keys, options)).scope, "llm:proxy");
});
