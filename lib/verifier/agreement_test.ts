/**
 * The verifier and the provider's own `verifyToken` share the rules of
 * `lib/jwt_rules.ts`, but each chooses keys its own way (the JWKS against
 * `TokenKeys`). Here both judge one table of crafted tokens, with HS256
 * still accepted and without it, and must agree on every one: the same
 * claims, or the same code.
 */

import assert from "node:assert/strict";
import { base64url, importJWK, type JWTHeaderParameters, SignJWT } from "jose";
import { AUDIENCE, buildClaims, type TokenClaims } from "../claims.ts";
import { AuthenticationError } from "../errors.ts";
import { verifyToken } from "../jwt.ts";
import { generateSigningKey } from "../keys/generate.ts";
import type { KeyMaterial } from "../keys/key_material.ts";
import { TokenKeys } from "../keys/token_keys.ts";
import { createVerifier, TokenError } from "./mod.ts";

const SECRET = new TextEncoder().encode("agreement-test-hs256-secret-32-bytes!!");
const NOW = Date.now();
const S = Math.floor(NOW / 1000);

const ed = generateSigningKey("EdDSA").material;
const ec = generateSigningKey("ES256").material;
const stranger = generateSigningKey("EdDSA").material;

function claims(overrides: Record<string, unknown> = {}): TokenClaims & Record<string, unknown> {
  const built = buildClaims({
    issuer: "bus-api-provider-auth",
    subject: "llm-gateway",
    audience: AUDIENCE.api,
    scope: "llm:proxy",
    ttlSeconds: 600,
    now: NOW,
  });
  return { ...built, ...overrides };
}

/** Signs with a key file's private key; `header` adds to or (with `undefined`) removes from `{alg, typ, kid}`. */
async function sign(key: KeyMaterial, payload: object, header: Record<string, unknown> = {}): Promise<string> {
  const merged = Object.fromEntries(
    Object.entries({ alg: key.alg, typ: "JWT", kid: key.kid, ...header }).filter(([, value]) => value !== undefined),
  );
  const privateKey = await importJWK({ ...key.privateJwk! }, key.alg);
  return await new SignJWT({ ...payload }).setProtectedHeader(merged as JWTHeaderParameters).sign(privateKey);
}

async function hs256(payload: object, header: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode({ alg: "HS256", typ: "JWT", ...header })}.${encode(payload)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

const TOKENS: [string, () => Promise<string>][] = [
  ["EdDSA with its kid", () => sign(ed, claims())],
  ["ES256 with its kid (a verify key)", () => sign(ec, claims())],
  ["HS256 without kid", () => hs256(claims())],
  ["HS256 with the kid of the EdDSA key", () => hs256(claims(), { kid: ed.kid })],
  ["HS256 with an unknown kid", () => hs256(claims(), { kid: "unknown" })],
  ["HS256 of another secret", () => hs256(claims(), {}, new Uint8Array(32))],
  ["EdDSA under the kid of the ES256 key", () => sign(ed, claims(), { kid: ec.kid })],
  ["ES256 under the kid of the EdDSA key", () => sign(ec, claims(), { kid: ed.kid })],
  ["EdDSA without kid", () => sign(ed, claims(), { kid: undefined })],
  ["EdDSA with a numeric kid", () => sign(ed, claims(), { kid: 5 })],
  ["EdDSA as Ed25519", () => sign(ed, claims(), { alg: "Ed25519" })],
  ["an unknown key with its own kid", () => sign(stranger, claims())],
  ["an unknown key under a known kid", () => sign(stranger, claims(), { kid: ed.kid })],
  [
    "alg none",
    () =>
      Promise.resolve(
        `${base64url.encode('{"alg":"none","typ":"JWT"}')}.${base64url.encode(JSON.stringify(claims()))}.`,
      ),
  ],
  ["a jku header", () => sign(ed, claims(), { jku: "https://attacker.example/jwks.json" })],
  ["an x5u header", () => sign(ed, claims(), { x5u: "https://attacker.example/cert.pem" })],
  ["no typ", () => sign(ed, claims(), { typ: undefined })],
  ["typ at+jwt", () => sign(ed, claims(), { typ: "at+jwt" })],
  ["expired", () => sign(ed, claims({ iat: S - 700, exp: S - 100 }))],
  ["no exp", () => sign(ed, claims({ exp: undefined }))],
  ["for ai.hg.fi/auth", () => sign(ed, claims({ aud: AUDIENCE.auth }))],
  ["an audience list", () => sign(ed, claims({ aud: [AUDIENCE.api] }))],
  ["another issuer", () => sign(ed, claims({ iss: "someone-else" }))],
  ["issued 61 s ahead", () => sign(ed, claims({ iat: S + 61, exp: S + 661 }))],
  ["issued 60 s ahead", () => sign(ed, claims({ iat: S + 60, exp: S + 660 }))],
  ["an uppercase jti", () => sign(ed, claims({ jti: crypto.randomUUID().toUpperCase() }))],
  ["a sid that is no UUID", () => sign(ed, claims({ sid: "x" }))],
  ["a client_id that is no UUID", () => sign(ed, claims({ client_id: "billing-worker" }))],
  ["a client_id", () => sign(ed, claims({ client_id: crypto.randomUUID() }))],
  ["a subject with a space", () => sign(ed, claims({ sub: "a b" }))],
  ["a numeric scope", () => sign(ed, claims({ scope: 5 }))],
  ["a padded signature", async () => `${await sign(ed, claims())}=`],
  ["a trailing space", async () => `${await sign(ed, claims())} `],
];

for (const acceptHs256 of [true, false]) {
  Deno.test(`the verifier and the provider's verifyToken agree on crafted tokens (HS256 ${acceptHs256 ? "accepted" : "retired"})`, async (t) => {
    const keys = new TokenKeys({ hs256Secret: SECRET, signing: ed, verify: [ec], acceptHs256 });
    await keys.ready();
    const verifier = createVerifier({
      issuer: "bus-api-provider-auth",
      audience: AUDIENCE.api,
      jwksUrl: "https://auth.example/.well-known/jwks.json",
      hs256Secret: acceptHs256 ? SECRET : undefined,
      fetch: () => Promise.resolve(Response.json(keys.jwks)),
      now: () => NOW,
    });
    const accepted: string[] = [];
    for (const [what, make] of TOKENS) {
      await t.step(what, async () => {
        const token = await make();
        const provider = await verifyToken(token, keys, {
          issuer: "bus-api-provider-auth",
          audiences: [AUDIENCE.api],
          now: NOW,
        })
          .then((claims) => ({ ...claims }), (error) => {
            if (!(error instanceof AuthenticationError)) throw error;
            return { refused: error.code };
          });
        const local = await verifier.verify(token).then(({ scopes: _scopes, ...claims }) => claims, (error) => {
          if (!(error instanceof TokenError)) throw error;
          return { refused: error.code };
        });
        assert.deepEqual(local, provider);
        if (!("refused" in local)) accepted.push(what);
      });
    }
    assert.deepEqual(accepted, [
      "EdDSA with its kid",
      "ES256 with its kid (a verify key)",
      ...acceptHs256 ? ["HS256 without kid"] : [],
      "issued 60 s ahead",
      "a client_id",
    ]);
  });
}
