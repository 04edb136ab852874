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

import { decodeProtectedHeader, errors as joseErrors, type JWTHeaderParameters, jwtVerify } from "jose";
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
  if (
    token.length > MAX_TOKEN_LENGTH || !COMPACT.test(token) ||
    !token.split(".").every((segment) => canonicalBytes(segment) !== null)
  ) {
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
  return finish(payload, options.now, tolerance);
}

/**
 * The protected header of this system's kid-less HS256 tokens as
 * `signToken()` writes it: `{"alg":"HS256","typ":"JWT"}`, base64url.
 */
export const HS256_HEADER_SEGMENT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/**
 * {@link verifyStrictlyWithNbf} for a token whose header is exactly
 * {@link HS256_HEADER_SEGMENT}, without jose and WebCrypto: `mac` gives the
 * base64url HMAC-SHA256 of a signing input under the HS256 secret, and the
 * checks, their order and their errors are those of the general path
 * (`jwt_rules_hs256_test.ts` compares the two on every rule). WebCrypto's
 * `verify` is an asynchronous call that took about a third of a `check`'s
 * CPU when the token was not remembered (`docs/BENCHMARKS.md`).
 *
 * @returns the claims and `nbf`, or `undefined` for a token with any other
 *   header, or when HS256 is not among `options.algorithms`: verify those with
 *   {@link verifyStrictlyWithNbf}
 * @throws {AuthenticationError} as {@link verifyStrictly}
 */
export function verifyHs256Strictly(
  token: string,
  mac: (input: string) => string,
  options: StrictVerifyOptions,
): { claims: TokenClaims; nbf: number | undefined } | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT.test(token)) throw invalidToken("not a compact JWT");
  const headerEnd = token.indexOf(".");
  if (
    headerEnd !== HS256_HEADER_SEGMENT.length || !token.startsWith(HS256_HEADER_SEGMENT) ||
    !options.algorithms.includes("HS256")
  ) return undefined;
  const payloadEnd = token.indexOf(".", headerEnd + 1);
  const payloadBytes = canonicalBytes(token.slice(headerEnd + 1, payloadEnd));
  const signature = token.slice(payloadEnd + 1);
  if (payloadBytes === null) throw invalidToken("not a compact JWT");
  if (!sameText(mac(token.slice(0, payloadEnd)), signature)) {
    throw invalidToken(canonicalBytes(signature) === null ? "not a compact JWT" : "bad signature");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(STRICT_UTF8.decode(payloadBytes));
  } catch {
    throw invalidToken("malformed");
  }
  if (!isPlainObject(payload)) throw invalidToken("malformed");
  const tolerance = options.clockToleranceSeconds ?? 0;
  checkClaimsAsJose(payload, options, tolerance);
  return finish(payload, options.now, tolerance);
}

/** What jose's `jwtVerify` checks of the claims with the options of {@link verifyStrictlyWithNbf}, in its order, with the errors {@link mapJoseError} makes of its own. */
function checkClaimsAsJose(payload: Record<string, unknown>, options: StrictVerifyOptions, tolerance: number): void {
  for (const claim of ["iss", "aud", "jti", "sub", "iat", "exp"]) {
    if (Object.hasOwn(payload, claim)) continue;
    if (claim === "aud") throw wrongAudience();
    throw invalidToken(claim === "exp" ? "it has no expiry" : `claim "${claim}" is missing`);
  }
  const { iss, aud, iat, nbf, exp } = payload;
  if (!([options.issuer] as unknown[]).includes(iss)) throw invalidToken('claim "iss" is not accepted');
  const audiences: readonly unknown[] = options.audiences;
  const audienceFits = typeof aud === "string"
    ? audiences.includes(aud)
    : Array.isArray(aud) && audiences.some((audience) => aud.includes(audience));
  if (!audienceFits) throw wrongAudience();
  const now = Math.floor(new Date(options.now).getTime() / 1000);
  if (typeof iat !== "number") throw invalidToken('claim "iat" is not accepted');
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now + tolerance)) {
    throw invalidToken('claim "nbf" is not accepted');
  }
  if (typeof exp !== "number") throw invalidToken('claim "exp" is not accepted');
  if (exp <= now - tolerance) throw new AuthenticationError("token_expired", "The token has expired: sign in again");
}

/** What both paths check last: the claims' types and forms and `iat`'s skew. */
function finish(
  payload: Record<string, unknown>,
  now: number,
  tolerance: number,
): { claims: TokenClaims; nbf: number | undefined } {
  const claims = readClaims(payload);
  if (claims.iat * 1000 > now + (MAX_CLOCK_SKEW_SECONDS + tolerance) * 1000) {
    throw invalidToken("it was issued in the future (check the clocks)");
  }
  return { claims, nbf: typeof payload.nbf === "number" ? payload.nbf : undefined };
}

/** The UTF-8 decoder jose reads claims with: invalid bytes are an error, a leading BOM is dropped. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The bytes of a base64url segment, or `null` when it is not the canonical
 * spelling of any (unused bits set, padding): decoding and encoding again must
 * give the same text. jose decodes and encodes with the same native calls.
 */
function canonicalBytes(segment: string): Uint8Array | null {
  try {
    const bytes = Uint8Array.fromBase64(segment, { alphabet: "base64url" });
    return bytes.toBase64({ alphabet: "base64url", omitPadding: true }) === segment ? bytes : null;
  } catch {
    return null;
  }
}

/** Whether two texts are equal, in time that depends only on their lengths (a MAC compared with a presented one). */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** jose's test of a claims set: a plain object, not an array or an instance of a class. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Object.prototype.toString.call(value) !== "[object Object]") {
    return false;
  }
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function wrongAudience(): AuthenticationError {
  return new AuthenticationError("token_wrong_audience", "The token is not meant for this service: wrong audience");
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
    if (error.claim === "aud") return wrongAudience();
    if (error.claim === "exp" && error.reason === "missing") return invalidToken("it has no expiry");
    return invalidToken(`claim "${error.claim}" is ${error.reason === "missing" ? "missing" : "not accepted"}`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return invalidToken("bad signature");
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return invalidToken("algorithm not allowed");
  return invalidToken("malformed");
}
