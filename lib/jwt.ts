/**
 * Signing and verification of this system's tokens with the keys of
 * {@link TokenKeys}: HS256 with the shared secret, or EdDSA / ES256 with a
 * key file's key and its `kid`. Verification follows the strict rules of
 * `./jwt_rules.ts` (one compact spelling, `typ: "JWT"`, no key-locating
 * headers, required and well-formed claims, `iat` at most
 * {@link MAX_CLOCK_SKEW_SECONDS} ahead), chooses the key by `kid` (a
 * kid-less token: the HS256 secret, when accepted) and pins the algorithm to
 * that key's; the revocation store is consulted by the callers that own it.
 * This system's own kid-less HS256 tokens are verified with the keys' HMAC
 * (`verifyHs256Strictly`), every other token with jose and WebCrypto.
 *
 * @module
 */

import type { TokenClaims } from "./claims.ts";
import { invalidToken, verifyHs256Strictly, verifyStrictlyWithNbf } from "./jwt_rules.ts";
import { TokenKeys } from "./keys/token_keys.ts";
import { utf8Bytes } from "./utf8_scratch.ts";

export { MAX_CLOCK_SKEW_SECONDS, MAX_TOKEN_LENGTH } from "./jwt_rules.ts";

/**
 * Signs claims as a compact JWT with the signing key of `keys`: header
 * `{"alg":"HS256","typ":"JWT"}` with HS256 (also for a bare secret), or
 * `{"alg":"EdDSA"|"ES256","typ":"JWT","kid":"…"}` with a key file's key.
 */
export async function signToken(claims: TokenClaims, keys: TokenKeys | Uint8Array): Promise<string> {
  const ring = asKeys(keys);
  const input = `${ring.header}.${base64urlOfText(JSON.stringify(claims))}`;
  return `${input}.${await ring.sign(input)}`;
}

/** The base64url (unpadded) of the UTF-8 bytes of `text`. */
function base64urlOfText(text: string): string {
  return utf8Bytes(text).toBase64({ alphabet: "base64url", omitPadding: true });
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
 * Verifies a compact JWT and returns its claims. A token has exactly one
 * accepted spelling: the one {@link signToken} wrote. A token with a `kid`
 * verifies only with that key of `keys` and only with that key's algorithm;
 * one without only as HS256 with the secret, when `keys` accepts HS256. A
 * bare secret stands for HS256 alone. A token that `keys` verified before is
 * not verified again: its claims are checked again against `options` and
 * the time (`VerifiedTokens` of `keys`).
 *
 * @throws {AuthenticationError} `token_expired`, `token_wrong_audience` or `invalid_token`
 */
export async function verifyToken(
  token: string,
  keys: TokenKeys | Uint8Array,
  options: VerifyOptions,
): Promise<TokenClaims> {
  const ring = asKeys(keys);
  const remembered = ring.verified.lookup(token, options);
  if (remembered !== undefined) return remembered;
  const chooseKey = async (header: { alg?: unknown; kid?: unknown }) => {
    const found = await ring.verificationKey(header);
    if (typeof found === "string") throw invalidToken(found);
    return found.key;
  };
  const strict = { ...options, algorithms: ring.algorithms };
  const { claims, nbf } = (ring.hs256Mac === null ? undefined : verifyHs256Strictly(token, ring.hs256Mac, strict)) ??
    await verifyStrictlyWithNbf(token, chooseKey, strict);
  ring.verified.remember(token, claims, nbf);
  return claims;
}

/** A bare secret is HS256 alone, imported per call (tests, one-shot tools); the provider passes {@link TokenKeys}. */
function asKeys(keys: TokenKeys | Uint8Array): TokenKeys {
  return keys instanceof Uint8Array ? TokenKeys.hs256(keys) : keys;
}
