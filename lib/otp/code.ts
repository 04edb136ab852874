/**
 * One-time passcodes: generation from a CSPRNG, keyed hashing for storage,
 * and the format check. The policy numbers (lifetime, attempts, resend
 * interval) live in {@link AuthPolicy}; the atomic attempt counting lives in
 * the store.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { InvalidInputError } from "../errors.ts";

/** Number of digits in every OTP. */
export const OTP_DIGITS = 6;
const OTP_RANGE = 10 ** OTP_DIGITS;
const OTP_FORMAT = /^[0-9]{6}$/;

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
export function deriveOtpKey(signingSecret: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", signingSecret).update("bus-auth/otp-hash/v1").digest());
}

/**
 * The keyed hash stored instead of the code: HMAC-SHA256 over the normalised
 * email and the code, hex encoded. Binding the email means a hash cannot be
 * replayed for another mailbox.
 */
export function hashOtp(key: Uint8Array, email: string, code: string): string {
  return createHmac("sha256", key).update(`${email}\n${code}`).digest("hex");
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
