/**
 * The strict verification rules of this system's tokens, shared by the
 * provider (`lib/jwt.ts`) and the verifier library (`lib/verifier/`), so both
 * accept exactly the same tokens. It depends on jose and pure modules only.
 *
 * A token is accepted only in the JWS compact serialization (three unpadded,
 * canonical base64url segments), with the header `typ: "JWT"` and without
 * key-locating or critical-extension parameters, an allowed algorithm, the
 * claims `exp`, `iat`, `sub` and `jti` (a subject of
 * `[A-Za-z0-9._:@-]{1,128}`, UUIDs for `jti`, `sid` and `client_id`), an
 * `iat` at most {@link MAX_CLOCK_SKEW_SECONDS} in the future, and the
 * expected issuer and audience. Revocation is the caller's business.
 *
 * @module
 */

import { base64url, decodeProtectedHeader, errors as joseErrors, type JWTHeaderParameters, jwtVerify } from "jose";
import { isValidSubject, type TokenClaims } from "./claims.ts";
import { AuthenticationError } from "./errors.ts";
import { isCanonicalUuid } from "./uuid.ts";

/** Longest bearer token accepted, in characters; anything longer is refused unparsed. */
export const MAX_TOKEN_LENGTH = 8192;

/** How far in the future a token's `iat` may lie (clocks of two hosts disagree a little). */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/** Three base64url segments, nothing else: no padding, no whitespace. */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Header parameters that point verification elsewhere (a key or certificate
 * to fetch or trust) or demand extensions; none of this system's tokens has
 * them. `kid` stays allowed.
 */
const FOREIGN_HEADERS = ["jku", "x5u", "x5c", "jwk", "crit"] as const;

/** The key of a token: a secret, a public key, or a function choosing one from the protected header. */
export type TokenKey =
  | Uint8Array
  | CryptoKey
  | ((header: JWTHeaderParameters) => Promise<Uint8Array | CryptoKey> | Uint8Array | CryptoKey);

/** What {@link verifyStrictly} checks besides the signature. */
export interface StrictVerifyOptions {
  /** Accepted `alg` values of the header. */
  algorithms: readonly string[];
  /** Expected issuer. */
  issuer: string;
  /** Accepted audiences; the token's `aud` must be one of them. */
  audiences: readonly string[];
  /** Current time in milliseconds since the epoch. */
  now: number;
  /** Seconds a token may be past its `exp` and further ahead in `iat` than the fixed skew; 0 when omitted. */
  clockToleranceSeconds?: number;
}

/**
 * Verifies a compact JWT under the rules of this module and returns its
 * claims. A key function that throws an {@link AuthenticationError} has it
 * passed through unchanged.
 *
 * @throws {AuthenticationError} `token_expired`, `token_wrong_audience` or `invalid_token`
 * @example
 * ```ts
 * const claims = await verifyStrictly(token, secret, {
 *   algorithms: ["HS256"], issuer: "bus-api-provider-auth", audiences: ["ai.hg.fi/api"], now: Date.now(),
 * });
 * ```
 */
export async function verifyStrictly(token: string, key: TokenKey, options: StrictVerifyOptions): Promise<TokenClaims> {
  return (await verifyStrictlyWithNbf(token, key, options)).claims;
}

/**
 * {@link verifyStrictly}, also answering the token's `nbf` (checked, but not
 * one of {@link TokenClaims}), for a caller that remembers verified tokens.
 *
 * @throws {AuthenticationError} as {@link verifyStrictly}
 */
export async function verifyStrictlyWithNbf(
  token: string,
  key: TokenKey,
  options: StrictVerifyOptions,
): Promise<{ claims: TokenClaims; nbf: number | undefined }> {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT.test(token) || !token.split(".").every(isCanonicalBase64url)) {
    throw invalidToken("not a compact JWT");
  }
  checkHeader(token);
  const tolerance = options.clockToleranceSeconds ?? 0;
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [...options.algorithms],
      issuer: options.issuer,
      audience: [...options.audiences],
      currentDate: new Date(options.now),
      clockTolerance: tolerance,
      requiredClaims: ["exp", "iat", "sub", "jti"],
      typ: undefined,
    }));
  } catch (error) {
    throw mapJoseError(error);
  }
  const claims = readClaims(payload);
  if (claims.iat * 1000 > options.now + (MAX_CLOCK_SKEW_SECONDS + tolerance) * 1000) {
    throw invalidToken("it was issued in the future (check the clocks)");
  }
  return { claims, nbf: typeof payload.nbf === "number" ? payload.nbf : undefined };
}

/**
 * The `invalid_token` error with the provider's wording:
 * `The token is not valid: <why>`.
 *
 * @example
 * ```ts
 * throw invalidToken("bad signature");
 * ```
 */
export function invalidToken(why: string): AuthenticationError {
  return new AuthenticationError("invalid_token", `The token is not valid: ${why}`);
}

/** Whether decoding and encoding again gives the same text (no unused bits set, no padding). */
function isCanonicalBase64url(segment: string): boolean {
  try {
    return base64url.encode(base64url.decode(segment)) === segment;
  } catch {
    return false;
  }
}

function checkHeader(token: string): void {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalidToken("malformed header");
  }
  if (header.typ !== "JWT") throw invalidToken('the header must say typ "JWT"');
  for (const name of FOREIGN_HEADERS) {
    if (Object.hasOwn(header, name)) throw invalidToken(`the header parameter "${name}" is not accepted`);
  }
}

function readClaims(payload: Record<string, unknown>): TokenClaims {
  const { iss, sub, aud, scope, iat, exp, jti, sid, client_id: clientId } = payload;
  if (
    typeof iss !== "string" || typeof sub !== "string" || typeof aud !== "string" ||
    typeof iat !== "number" || typeof exp !== "number" || typeof jti !== "string" ||
    (scope !== undefined && typeof scope !== "string") || (sid !== undefined && typeof sid !== "string") ||
    (clientId !== undefined && typeof clientId !== "string")
  ) {
    throw invalidToken("claims have the wrong types");
  }
  // Ids as this system writes them: no store is ever asked about anything else.
  if (
    !isValidSubject(sub) || !isCanonicalUuid(jti) || (sid !== undefined && !isCanonicalUuid(sid)) ||
    (clientId !== undefined && !isCanonicalUuid(clientId))
  ) {
    throw invalidToken("claims have the wrong form");
  }
  const claims: TokenClaims = { iss, sub, aud, scope: scope ?? "", iat, exp, jti };
  if (sid !== undefined) claims.sid = sid;
  if (clientId !== undefined) claims.client_id = clientId;
  return claims;
}

function mapJoseError(error: unknown): AuthenticationError {
  if (error instanceof AuthenticationError) return error;
  if (error instanceof joseErrors.JWTExpired) {
    return new AuthenticationError("token_expired", "The token has expired: sign in again");
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "aud") {
      return new AuthenticationError("token_wrong_audience", "The token is not meant for this service: wrong audience");
    }
    if (error.claim === "exp" && error.reason === "missing") return invalidToken("it has no expiry");
    return invalidToken(`claim "${error.claim}" is ${error.reason === "missing" ? "missing" : "not accepted"}`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return invalidToken("bad signature");
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return invalidToken("algorithm not allowed");
  return invalidToken("malformed");
}
