/**
 * A bounded memory of tokens whose signature and form one key set has
 * already verified, so that a token presented again (a Bus API checking the
 * same bearer token on every call) skips the signature check, the base64url
 * decoding and the JSON parsing. Only what cannot change is remembered: the
 * exact token text and the claims its signature covers. Everything that
 * depends on the time or on the caller (expiry, `nbf`, `iat` in the future,
 * issuer, audience) is checked again on every use by
 * {@link recheckClaims}, with the same codes as the first verification, so
 * a remembered token is accepted exactly when verifying it again would
 * accept it. Revocation is the callers' business either way.
 *
 * @module
 */

import { BoundedMap } from "./bounded_map.ts";
import type { TokenClaims } from "./claims.ts";
import { AuthenticationError } from "./errors.ts";
import { MAX_CLOCK_SKEW_SECONDS } from "./jwt_rules.ts";

/** Tokens remembered by default: about 6 MB at ~600 bytes each. */
export const DEFAULT_VERIFIED_TOKENS = 10_000;

/** What {@link recheckClaims} checks: the options of the verification. */
export interface RecheckOptions {
  issuer: string;
  audiences: readonly string[];
  /** Current time in milliseconds since the epoch. */
  now: number;
}

/** A remembered token: its claims, frozen, and its `nbf` when it had one. */
interface Entry {
  claims: Readonly<TokenClaims>;
  nbf: number | undefined;
}

/**
 * The memory itself: at most `maxEntries` tokens, a new one replacing the
 * less recently used of two picked at random (`bounded_map.ts`); a token
 * past its `exp` is forgotten when it is next looked up.
 *
 * @example
 * ```ts
 * const verified = new VerifiedTokens(10_000);
 * verified.remember(token, claims, undefined);
 * const again = verified.lookup(token, { issuer, audiences, now: Date.now() });
 * ```
 */
export class VerifiedTokens {
  readonly maxEntries: number;
  #entries: BoundedMap<string, Entry> | null;

  constructor(maxEntries: number = DEFAULT_VERIFIED_TOKENS) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`VerifiedTokens: maxEntries must be a whole number >= 0, got ${maxEntries}`);
    }
    this.maxEntries = maxEntries;
    this.#entries = maxEntries === 0 ? null : new BoundedMap(maxEntries);
  }

  /** Tokens remembered now. */
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** Remembers a token that verified, with its claims and its `nbf` (absent: `undefined`). */
  remember(token: string, claims: TokenClaims, nbf: number | undefined): void {
    this.#entries?.set(token, { claims: Object.freeze({ ...claims }), nbf });
  }

  /**
   * The claims of a remembered token after {@link recheckClaims}, or
   * `undefined` when the token is not remembered (verify it).
   *
   * @throws {AuthenticationError} as {@link recheckClaims}
   */
  lookup(token: string, options: RecheckOptions): Readonly<TokenClaims> | undefined {
    const entry = this.#entries?.get(token);
    if (entry === undefined) return undefined;
    try {
      recheckClaims(entry.claims, entry.nbf, options);
    } catch (error) {
      if (error instanceof AuthenticationError && error.code === "token_expired") this.#entries?.delete(token);
      throw error;
    }
    return entry.claims;
  }
}

/**
 * The checks of a verification that depend on the time or on the caller,
 * in the order and with the codes of the first verification: issuer
 * (`invalid_token`), audience (`token_wrong_audience`), `nbf` and `exp`
 * against the current second (`invalid_token`, `token_expired`), and `iat`
 * at most {@link MAX_CLOCK_SKEW_SECONDS} ahead (`invalid_token`), as
 * `jwt_rules.ts` checks it.
 *
 * @throws {AuthenticationError}
 */
export function recheckClaims(claims: TokenClaims, nbf: number | undefined, options: RecheckOptions): void {
  if (claims.iss !== options.issuer) throw invalid('claim "iss" is not accepted');
  if (!options.audiences.includes(claims.aud)) {
    throw new AuthenticationError("token_wrong_audience", "The token is not meant for this service: wrong audience");
  }
  const second = Math.floor(options.now / 1000);
  if (nbf !== undefined && nbf > second) throw invalid('claim "nbf" is not accepted');
  if (claims.exp <= second) throw new AuthenticationError("token_expired", "The token has expired: sign in again");
  if (claims.iat * 1000 > options.now + MAX_CLOCK_SKEW_SECONDS * 1000) {
    throw invalid("it was issued in the future (check the clocks)");
  }
}

function invalid(why: string): AuthenticationError {
  return new AuthenticationError("invalid_token", `The token is not valid: ${why}`);
}
