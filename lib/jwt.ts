/**
 * HS256 signing and verification of this system's tokens. Verification
 * follows the strict rules of `./jwt_rules.ts` (one compact spelling,
 * `typ: "JWT"`, no key-locating headers, required and well-formed claims,
 * `iat` at most {@link MAX_CLOCK_SKEW_SECONDS} ahead) with the algorithm
 * pinned to HS256; the revocation store is consulted by the callers that own
 * it.
 *
 * @module
 */

import { SignJWT } from "jose";
import type { TokenClaims } from "./claims.ts";
import { verifyStrictly } from "./jwt_rules.ts";

export { MAX_CLOCK_SKEW_SECONDS, MAX_TOKEN_LENGTH } from "./jwt_rules.ts";

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
 * Verifies a compact HS256 JWT and returns its claims. A token has exactly
 * one accepted spelling: the one {@link signToken} wrote.
 *
 * @throws {AuthenticationError} `token_expired`, `token_wrong_audience` or `invalid_token`
 */
export async function verifyToken(token: string, key: Uint8Array, options: VerifyOptions): Promise<TokenClaims> {
  return await verifyStrictly(token, key, { ...options, algorithms: ["HS256"] });
}
