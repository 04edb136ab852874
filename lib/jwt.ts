/**
 * HS256 signing and verification. Verification pins the algorithm, requires
 * `exp`, `iat`, `sub` and `jti`, and checks the issuer and audience; the
 * revocation store is consulted by the callers that own it.
 *
 * @module
 */

import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { TokenClaims } from "./claims.ts";
import { AuthenticationError } from "./errors.ts";

/** Longest bearer token accepted, in characters; anything longer is refused unparsed. */
export const MAX_TOKEN_LENGTH = 8192;

/** Signs claims as a compact HS256 JWT with header `{"alg":"HS256","typ":"JWT"}`. */
export async function signToken(claims: TokenClaims, key: Uint8Array): Promise<string> {
  return await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(key);
}

/** What {@link verifyToken} checks besides the signature. */
export interface VerifyOptions {
  /** Expected issuer. */
  issuer: string;
  /** Accepted audiences; the token's `aud` must be one of them. */
  audiences: readonly string[];
  /** Current time in milliseconds since the epoch. */
  now: number;
}

/**
 * Verifies a compact JWT and returns its claims.
 *
 * @throws {AuthenticationError} `token_expired`, `token_wrong_audience` or `invalid_token`
 */
export async function verifyToken(token: string, key: Uint8Array, options: VerifyOptions): Promise<TokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH || token.split(".").length !== 3) {
    throw invalidToken("not a compact JWT");
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: options.issuer,
      audience: [...options.audiences],
      currentDate: new Date(options.now),
      requiredClaims: ["exp", "iat", "sub", "jti"],
      typ: undefined,
    }));
  } catch (error) {
    throw mapJoseError(error);
  }
  return readClaims(payload);
}

function readClaims(payload: Record<string, unknown>): TokenClaims {
  const { iss, sub, aud, scope, iat, exp, jti, sid } = payload;
  if (
    typeof iss !== "string" || typeof sub !== "string" || typeof aud !== "string" ||
    typeof iat !== "number" || typeof exp !== "number" || typeof jti !== "string" ||
    (scope !== undefined && typeof scope !== "string") || (sid !== undefined && typeof sid !== "string")
  ) {
    throw invalidToken("claims have the wrong types");
  }
  const claims: TokenClaims = { iss, sub, aud, scope: scope ?? "", iat, exp, jti };
  if (sid !== undefined) claims.sid = sid;
  return claims;
}

function mapJoseError(error: unknown): AuthenticationError {
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

function invalidToken(why: string): AuthenticationError {
  return new AuthenticationError("invalid_token", `The token is not valid: ${why}`);
}
