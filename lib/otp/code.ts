/**
 * One-time passcodes: generation from a CSPRNG, keyed hashing for storage,
 * and the format check. The policy numbers (lifetime, attempts, resend
 * interval) live in {@link AuthPolicy}; the atomic attempt counting lives in
 * the store.
 *
 * @module
 */

import { InvalidInputError } from "../errors.ts";
import { HmacSha256 } from "../keys/hmac_sha256.ts";

/** Number of digits in every OTP. */
export const OTP_DIGITS = 6;
const OTP_RANGE = 10 ** OTP_DIGITS;
const OTP_FORMAT = /^[0-9]{6}$/;
/** What the HS256 secret is keyed with to derive the OTP hashing key. */
const OTP_KEY_LABEL = "bus-auth/otp-hash/v1";

/** Fills a byte array with cryptographically strong random values. */
export type RandomBytes = (length: number) => Uint8Array;

/** The default {@link RandomBytes}: `crypto.getRandomValues`. */
export function cryptoRandomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/**
 * Generates a uniformly distributed 6-digit code (rejection sampling, so no
 * digit string is likelier than another).
 *
 * @example
 * ```ts
 * generateOtp(); // "042917"
 * ```
 */
export function generateOtp(random: RandomBytes = cryptoRandomBytes): string {
  const limit = Math.floor(0x1_0000_0000 / OTP_RANGE) * OTP_RANGE;
  while (true) {
    const bytes = random(4);
    const value = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    if (value < limit) return String(value % OTP_RANGE).padStart(OTP_DIGITS, "0");
  }
}

/**
 * Derives the OTP hashing key from the HS256 secret (`BUS_AUTH_HS256_SECRET`),
 * so that stored hashes are useless without the deployment secret and no
 * second secret is needed. It stays the OTP key when EdDSA or ES256 sign
 * the tokens: rotating a signing key never invalidates a code in flight.
 */
export function deriveOtpKey(signingSecret: Uint8Array): HmacSha256 {
  const derived = new HmacSha256(signingSecret).sign(OTP_KEY_LABEL);
  const key = new HmacSha256(derived);
  derived.fill(0);
  return key;
}

/**
 * The keyed hash stored instead of the code: HMAC-SHA256 over the normalised
 * email and the code, hex encoded. Binding the email means a hash cannot be
 * replayed for another mailbox. Made with the provider's own HMAC
 * (`keys/hmac_sha256.ts`), the same bytes node:crypto's `createHmac` makes
 * in about a third of its time (3 µs against 10-13 µs); every sign-in
 * hashes twice, once to store the code and once to check it.
 */
export function hashOtp(key: HmacSha256, email: string, code: string): string {
  return key.sign(`${email}\n${code}`).toHex();
}

/**
 * Checks the shape of a submitted code.
 *
 * @throws {InvalidInputError} `invalid_otp` when the value is not exactly six digits
 */
export function requireOtpFormat(code: string): string {
  const trimmed = code.trim();
  if (!OTP_FORMAT.test(trimmed)) {
    throw new InvalidInputError("invalid_otp", `Cannot verify OTP: expected ${OTP_DIGITS} digits`);
  }
  return trimmed;
}
