/**
 * Keys made with jose and a JWK set served over HTTP from the test, counting
 * the requests, for the verifier tests: what a provider signing with EdDSA
 * or ES256 publishes, without the provider.
 *
 * @module
 */

import { base64url, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { buildClaims, type TokenClaims } from "../../lib/claims.ts";

/** A key pair with its `kid` and its public JWK as a JWKS lists it. */
export interface TestKey {
  kid: string;
  alg: "EdDSA" | "ES256";
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Makes a key pair of `alg` with jose. */
export async function makeKey(alg: "EdDSA" | "ES256", kid: string = crypto.randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...await exportJWK(publicKey), kid, alg, use: "sig" } };
}

/** The claims of a user API token for `llm:proxy`, as the provider builds them, with overrides. */
export function apiClaims(overrides: Partial<TokenClaims> = {}, now: number = Date.now()): TokenClaims {
  return {
    ...buildClaims({
      issuer: "bus-api-provider-auth",
      subject: crypto.randomUUID(),
      audience: "ai.hg.fi/api",
      scope: "llm:proxy",
      ttlSeconds: 3600,
      now,
    }),
    ...overrides,
  };
}

/** Signs claims with a test key, header `{alg, typ: "JWT", kid}` plus `header` (where `undefined` drops a field). */
export async function signWith(
  key: TestKey,
  claims: object,
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader = Object.fromEntries(
    Object.entries({ alg: key.alg, typ: "JWT", kid: key.kid, ...header }).filter(([, value]) => value !== undefined),
  );
  return await new SignJWT({ ...claims }).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
}

/** Signs any header and payload with HS256 by hand, as jose would not (it refuses `crit`, for one). */
export async function signHs256Raw(
  secret: Uint8Array,
  header: Record<string, unknown>,
  payload: object,
): Promise<string> {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const input = `${encode(header)}.${encode(payload)}`;
  const hmac = await crypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** A JWK set served on a loopback port. */
export interface JwksServer {
  /** URL of the set. */
  url: string;
  /** Requests answered so far. */
  readonly requests: number;
  /** What the next requests get: a key set (served 200 with `cacheControl`) or a status to fail with. */
  serve(answer: { keys: JWK[]; cacheControl?: string } | { status: number } | { body: string }): void;
  close(): Promise<void>;
}

/** Serves `keys` at `http://127.0.0.1:<port>/.well-known/jwks.json`, counting requests. */
export function serveJwks(keys: JWK[], cacheControl?: string): JwksServer {
  let answer: { keys: JWK[]; cacheControl?: string } | { status: number } | { body: string } = { keys, cacheControl };
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests++;
    if ("status" in answer) return new Response("down", { status: answer.status });
    if ("body" in answer) return new Response(answer.body, { headers: { "content-type": "application/json" } });
    const headers = new Headers({ "content-type": "application/jwk-set+json" });
    if (answer.cacheControl !== undefined) headers.set("cache-control", answer.cacheControl);
    return new Response(JSON.stringify({ keys: answer.keys }), { headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    serve(next) {
      answer = next;
    },
    close: () => server.shutdown(),
  };
}

/** A clock for tests: `now()` in milliseconds, moved by hand. */
export function testClock(start: number = Date.now()): { now: () => number; advance(seconds: number): void } {
  let current = start;
  return {
    now: () => current,
    advance(seconds) {
      current += seconds * 1000;
    },
  };
}
