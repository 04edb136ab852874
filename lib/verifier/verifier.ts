/**
 * {@link createVerifier}: local verification of Bus tokens in a Bus API, by
 * the same rules as the auth provider (`lib/jwt_rules.ts`), against the
 * provider's published keys (JWKS) or its HS256 secret.
 *
 * @module
 */

import type { JWTHeaderParameters } from "jose";
import { AuthenticationError, quotable } from "../errors.ts";
import { verifyHs256Strictly, verifyStrictly } from "../jwt_rules.ts";
import { HmacSha256 } from "../keys/hmac_sha256.ts";
import { JWKS_ALGORITHMS, JwksCache } from "./_jwks.ts";
import { TokenError, type TokenErrorCode } from "./token_error.ts";

/** Most clock tolerance a verifier takes, in seconds. */
const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/** Fewest bytes of an HS256 secret, as the provider requires (RFC 7518 §3.2). */
const MIN_HS256_SECRET_BYTES = 32;
const SCOPE = /^[A-Za-z0-9._:*-]{1,128}$/;

/**
 * How a verifier finds keys and what it expects of every token.
 *
 * @example
 * ```ts
 * const options: VerifierOptions = {
 *   issuer: "bus-api-provider-auth",
 *   audience: "ai.hg.fi/api",
 *   jwksUrl: "https://auth.example/.well-known/jwks.json",
 * };
 * ```
 */
export interface VerifierOptions {
  /** The provider's issuer (`BUS_AUTH_ISSUER`, by default `bus-api-provider-auth`). */
  issuer: string;
  /** The audience the tokens must have, or several accepted ones: `ai.hg.fi/api` for Bus APIs. */
  audience: string | readonly string[];
  /**
   * The provider's key set, such as `https://auth.example/.well-known/jwks.json`: EdDSA and ES256 tokens are
   * verified with the key their `kid` names, and only with that key's own `alg`.
   */
  jwksUrl?: string | URL;
  /**
   * The provider's HS256 secret (`BUS_AUTH_HS256_SECRET`; a `base64:` prefix means base64, as there), at least
   * 32 bytes. HS256 tokens are accepted only when it is given. Whoever holds it can mint tokens: prefer `jwksUrl`.
   */
  hs256Secret?: string | Uint8Array;
  /** Seconds a token may be past its `exp` (and further ahead in `iat` than the provider's 60 s); 0 to 300, default 0. */
  clockToleranceSeconds?: number;
  /** The `fetch` the key set is fetched with; `globalThis.fetch` by default. */
  fetch?: typeof globalThis.fetch;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/**
 * What one call of {@link Verifier.verify} requires besides a valid token.
 *
 * @example
 * ```ts
 * await verifier.verify(token, { scope: "llm:proxy" });
 * await verifier.verify(token, { scope: ["billing:read", "usage:read"] }); // both
 * ```
 */
export interface VerifyOptions {
  /** Scopes the token must all hold: a space-separated string or a list. */
  scope?: string | readonly string[];
}

/**
 * The claims of a verified token. `sub` is the account UUID for user API
 * tokens (never an email) and the service name for internal tokens.
 *
 * @example
 * ```ts
 * const claims: VerifiedClaims = await verifier.verify(token);
 * if (claims.scopes.includes("llm:proxy")) console.log(`account ${claims.sub}`);
 * ```
 */
export interface VerifiedClaims {
  /** Issuer. */
  readonly iss: string;
  /** Subject: an account UUID, a user UUID (session tokens) or a service name. */
  readonly sub: string;
  /** Audience, one of the accepted ones. */
  readonly aud: string;
  /** Scopes as the token carries them: space-separated, possibly empty. */
  readonly scope: string;
  /** The same scopes as a list. */
  readonly scopes: readonly string[];
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  /** Token id (a UUID): what an operator revokes. */
  readonly jti: string;
  /** Session id; only in the auth service's own session tokens. */
  readonly sid?: string;
  /** The service client that obtained the token (client-credentials grant), a UUID. */
  readonly client_id?: string;
}

/**
 * Verifies tokens; made by {@link createVerifier}.
 *
 * @example
 * ```ts
 * const claims = await verifier.verify(token, { scope: "llm:proxy" });
 * ```
 */
export interface Verifier {
  /**
   * Verifies a token (without the `Bearer ` prefix) and returns its claims.
   *
   * @throws {TokenError} `invalid_token`, `token_expired`, `token_wrong_audience` (401) or
   *   `insufficient_scope` (403)
   * @throws {TypeError} when a required scope is not a scope
   */
  verify(token: string, options?: VerifyOptions): Promise<VerifiedClaims>;
}

/**
 * Makes a verifier of the auth provider's tokens for a Bus API. It checks
 * what the provider checks, by the same code: the one compact spelling,
 * `typ: "JWT"`, no `jku`/`x5u`/`x5c`/`jwk`/`crit` header, the algorithm
 * pinned per key (a token with a `kid` only with the JWKS key it names and
 * that key's `alg`, EdDSA or ES256; a kid-less one only as HS256 and only
 * with `hs256Secret`), the signature, `exp` (required), `iat` at most
 * 60 s ahead, the issuer, the audience, the claims' types and forms, and the
 * scopes asked for.
 *
 * It does not know about revocation: a token revoked at the provider (logout,
 * a rejected account, a revoked service client, a narrowed scope policy)
 * passes until it expires. A Bus API that must honour revocations at once
 * asks the provider's `GET {A}/check` instead.
 *
 * The key set is fetched when first needed and kept for its
 * `Cache-Control: max-age` (60 s to a day; 5 minutes without one). A token
 * naming an unknown `kid` makes it fetch again, at most once a minute; a
 * failed fetch keeps the last good set, and the error of a token whose key
 * is missing says why.
 *
 * @throws {TypeError} when neither `jwksUrl` nor `hs256Secret` is given, or an option is invalid
 * @example
 * ```ts
 * import { createVerifier, TokenError } from "@busdk/bus-auth/verifier";
 *
 * const verifier = createVerifier({
 *   issuer: "bus-api-provider-auth",
 *   audience: "ai.hg.fi/api",
 *   jwksUrl: "http://127.0.0.1:8080/.well-known/jwks.json",
 * });
 * try {
 *   const claims = await verifier.verify(token, { scope: "llm:proxy" });
 *   console.log(claims.sub, claims.scopes);
 * } catch (error) {
 *   if (error instanceof TokenError) console.log(error.status, error.code, error.message);
 * }
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = requireText(options.issuer, "issuer");
  const audiences = typeof options.audience === "string" ? [options.audience] : [...options.audience ?? []];
  if (audiences.length === 0) throw new TypeError("createVerifier(): audience must name at least one audience");
  audiences.forEach((audience) => requireText(audience, "audience"));
  const tolerance = options.clockToleranceSeconds ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_SECONDS) {
    throw new TypeError(`createVerifier(): clockToleranceSeconds must be 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  const now = options.now ?? Date.now;
  const secret = options.hs256Secret === undefined ? null : hs256Key(options.hs256Secret);
  const jwks = options.jwksUrl === undefined
    ? null
    : new JwksCache(jwksUrl(options.jwksUrl), { fetch: options.fetch ?? globalThis.fetch.bind(globalThis), now });
  if (secret === null && jwks === null) {
    throw new TypeError("createVerifier() needs jwksUrl, hs256Secret or both");
  }
  const algorithms = [...secret === null ? [] : ["HS256"], ...jwks === null ? [] : JWKS_ALGORITHMS];
  // Imported once, not per token (jose would import raw bytes on every call).
  let hmacKey: Promise<CryptoKey> | null = null;
  // The provider's own HS256 tokens are verified with this rather than with jose and WebCrypto (`verifyHs256Strictly`).
  const hmac = secret === null ? null : new HmacSha256(secret);
  const mac = hmac === null ? null : (input: string) => hmac.signBase64url(input);

  /** As the provider chooses: by `kid` when the token has one, pinned to that key's `alg`; else the HS256 secret. */
  async function keyOf(header: JWTHeaderParameters): Promise<CryptoKey> {
    if (header.kid !== undefined) {
      if (typeof header.kid !== "string" || jwks === null) {
        throw invalid("its key id (kid) names no key of this provider");
      }
      const found = await jwks.lookup(header.kid);
      if (found.key === undefined) throw invalid(found.why, found.cause);
      if (found.key.alg !== header.alg) {
        throw invalid(`its algorithm is not the one of its key "${quotable(header.kid)}" (${found.key.alg})`);
      }
      return found.key.key;
    }
    if (header.alg !== "HS256") throw invalid("it names no key (kid)");
    // verifyStrictly allows HS256 only when a secret was given.
    hmacKey ??= crypto.subtle.importKey("raw", new Uint8Array(secret!), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    return await hmacKey;
  }

  return {
    async verify(token: string, verifyOptions: VerifyOptions = {}): Promise<VerifiedClaims> {
      const required = requiredScopes(verifyOptions.scope);
      if (typeof token !== "string") throw new TokenError("invalid_token", "The token is not valid: not a compact JWT");
      let claims;
      try {
        const strict = { algorithms, issuer, audiences, now: now(), clockToleranceSeconds: tolerance };
        claims = (mac === null ? undefined : verifyHs256Strictly(token, mac, strict)?.claims) ??
          await verifyStrictly(token, keyOf, strict);
      } catch (error) {
        if (error instanceof AuthenticationError) {
          throw new TokenError(error.code as TokenErrorCode, error.message, { cause: error.cause });
        }
        throw error;
      }
      const scopes = claims.scope.split(" ").filter((scope) => scope !== "");
      const missing = required.filter((scope) => !scopes.includes(scope));
      if (missing.length > 0) {
        throw new TokenError("insufficient_scope", `The token lacks the scope "${missing.join(" ")}"`);
      }
      return Object.freeze({ ...claims, scopes: Object.freeze(scopes) });
    },
  };
}

/**
 * The scopes of a `scope` option, each checked.
 *
 * @throws {TypeError} for anything that is not a scope
 */
export function requiredScopes(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  const list = typeof scope === "string" ? scope.split(/[ \t]+/).filter((item) => item !== "") : [...scope];
  for (const item of list) {
    if (typeof item !== "string" || !SCOPE.test(item)) {
      throw new TypeError(`Cannot require scope "${quotable(String(item))}": use letters, digits and . _ : * -`);
    }
  }
  return list;
}

/**
 * The bytes of an HS256 secret as the provider reads `BUS_AUTH_HS256_SECRET`:
 * a `base64:` prefix means base64 (standard or URL-safe), anything else is
 * UTF-8 text.
 *
 * @throws {TypeError} for bad base64 or fewer than 32 bytes
 */
export function hs256Key(secret: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (typeof secret !== "string") {
    bytes = new Uint8Array(secret);
  } else if (!secret.startsWith("base64:")) {
    bytes = new TextEncoder().encode(secret);
  } else {
    const payload = secret.slice("base64:".length).trim().replace(/-/g, "+").replace(/_/g, "/");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.replace(/=+$/, "").length % 4 === 1) {
      throw new TypeError("createVerifier(): hs256Secret has a base64: prefix but is not base64");
    }
    const unpadded = payload.replace(/=+$/, "");
    bytes = Uint8Array.from(atob(unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
  }
  if (bytes.length < MIN_HS256_SECRET_BYTES) {
    throw new TypeError(`createVerifier(): hs256Secret must be at least ${MIN_HS256_SECRET_BYTES} bytes`);
  }
  return bytes;
}

function jwksUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("createVerifier(): jwksUrl is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError("createVerifier(): jwksUrl must be an http: or https: URL");
  }
  return url;
}

function requireText(value: unknown, name: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`createVerifier(): ${name} must be a non-empty string`);
  }
  return value;
}

function invalid(why: string, cause?: Error): AuthenticationError {
  return new AuthenticationError("invalid_token", `The token is not valid: ${why}`, { cause });
}
