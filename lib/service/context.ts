/**
 * The dependencies every auth operation works with, gathered once.
 *
 * @module
 */

import type { AuthPolicy } from "../policy.ts";
import type { Store } from "../store/store.ts";
import type { OtpSender } from "../otp/sender.ts";
import { cryptoRandomBytes, deriveOtpKey, type RandomBytes } from "../otp/code.ts";
import type { HmacSha256 } from "../keys/hmac_sha256.ts";
import { TokenKeys } from "../keys/token_keys.ts";
import { SecretDigest } from "../secret.ts";

/** Something an operator should hear about, such as a mailbox locked against OTP guessing. */
export type SecurityEvent = { kind: "otp_locked"; email: string; at: number };

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  requestId: string;
  sourceIp: string;
}

/** What the auth operations need: store, sender, policy, keys, clock and randomness. */
export interface AuthContext {
  readonly store: Store;
  readonly sender: OtpSender;
  readonly policy: AuthPolicy;
  /** The HS256 secret (`BUS_AUTH_HS256_SECRET`), whatever signs tokens: the OTP key is derived from it. */
  readonly signingKey: Uint8Array;
  /** The keys tokens are signed and verified with, imported once, and the JWKS that publishes them. */
  readonly keys: TokenKeys;
  /** Key of the OTP hashes, derived from the HS256 secret. */
  readonly otpKey: HmacSha256;
  /** The internal shared key (as its digest), or `null` when internal token issuing is off. */
  readonly internalKey: SecretDigest | null;
  /** Current time in milliseconds since the epoch. */
  now(): number;
  readonly randomBytes: RandomBytes;
  /** New random UUID for users, accounts, sessions and challenges. */
  newId(): string;
  /** Hears security events (the server logs them); never throws. */
  onSecurityEvent(event: SecurityEvent): void;
  /** The request being served, when there is one (see {@link withOrigin}). */
  readonly origin: RequestOrigin | null;
}

/** Input of {@link createAuthContext}; clock and randomness default to the real ones. */
export interface AuthContextInput {
  store: Store;
  sender: OtpSender;
  policy: AuthPolicy;
  /** The HS256 secret. */
  signingKey: Uint8Array;
  /** The token keys; HS256 with `signingKey` alone when omitted. */
  keys?: TokenKeys;
  internalKey?: Uint8Array | null;
  now?: () => number;
  randomBytes?: RandomBytes;
  newId?: () => string;
  onSecurityEvent?: (event: SecurityEvent) => void;
}

/**
 * Builds an {@link AuthContext}, deriving the OTP key from the HS256 secret.
 *
 * @example
 * ```ts
 * const ctx = createAuthContext({ store, sender, policy: defaultPolicy(), signingKey });
 * ```
 */
export function createAuthContext(input: AuthContextInput): AuthContext {
  return Object.freeze({
    store: input.store,
    sender: input.sender,
    policy: input.policy,
    signingKey: input.signingKey,
    keys: input.keys ?? TokenKeys.hs256(input.signingKey),
    otpKey: deriveOtpKey(input.signingKey),
    internalKey: input.internalKey ? new SecretDigest(input.internalKey) : null,
    now: input.now ?? Date.now,
    randomBytes: input.randomBytes ?? cryptoRandomBytes,
    newId: input.newId ?? (() => crypto.randomUUID()),
    onSecurityEvent: input.onSecurityEvent ?? (() => {}),
    origin: null,
  });
}

/** The context of one request: the same dependencies, with the request's id and source address for the audit trail. */
export function withOrigin(ctx: AuthContext, origin: RequestOrigin): AuthContext {
  return { ...ctx, origin };
}
