/**
 * Secret handling: decoding of configured signing secrets and constant-time
 * comparison of secret values.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { sha256, SHA256_DIGEST_BYTES, sha256Into } from "./keys/sha256.ts";

/** Smallest HS256 signing secret accepted, in bytes (the JWT RFC 7518 §3.2 floor). */
export const MIN_HS256_SECRET_BYTES = 32;

/**
 * Decodes a configured secret. A value starting with `base64:` is base64
 * (standard or URL-safe alphabet); any other value is raw UTF-8 text, even
 * when it looks like base64.
 *
 * @returns the secret bytes, or `null` when the `base64:` payload is not valid base64
 * @example
 * ```ts
 * decodeSecret("base64:AAEC"); // Uint8Array [0, 1, 2]
 * decodeSecret("plain-text");  // the UTF-8 bytes of "plain-text"
 * ```
 */
export function decodeSecret(value: string): Uint8Array | null {
  if (!value.startsWith("base64:")) return new TextEncoder().encode(value);
  const payload = value.slice("base64:".length).trim();
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload) || payload.replace(/=+$/, "").length % 4 === 1) {
    return null;
  }
  return new Uint8Array(Buffer.from(payload.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
}

/** The two digests {@link secretsEqual} compares, reused. */
const DIGESTS = new Uint8Array(2 * SHA256_DIGEST_BYTES);

/**
 * Compares two secrets in time that depends on neither their contents nor
 * their lengths' difference: both sides are hashed to a fixed length first
 * (SHA-256, a string as its UTF-8 bytes), then every byte of the digests
 * is compared.
 */
export function secretsEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  sha256Into(a, DIGESTS, 0);
  sha256Into(b, DIGESTS, SHA256_DIGEST_BYTES);
  let difference = 0;
  for (let i = 0; i < SHA256_DIGEST_BYTES; i++) difference |= DIGESTS[i] ^ DIGESTS[SHA256_DIGEST_BYTES + i];
  DIGESTS.fill(0);
  return difference === 0;
}

/**
 * A configured secret kept as its SHA-256 digest, for checking presented
 * values against it on every request: the same constant-time comparison
 * as {@link secretsEqual}, hashing only the presented side (the configured
 * side was hashed once, when the digest was made).
 *
 * @example
 * ```ts
 * const internalKey = new SecretDigest(new TextEncoder().encode("a-configured-key"));
 * internalKey.matches("a-configured-key"); // true
 * internalKey.matches("a-guess"); // false
 * ```
 */
export class SecretDigest {
  readonly #digest: Uint8Array;

  constructor(secret: Uint8Array | string) {
    this.#digest = sha256(secret);
  }

  /** Whether `presented` is the secret, in time that depends on neither value (only on `presented`'s length). */
  matches(presented: Uint8Array | string): boolean {
    sha256Into(presented, DIGESTS, 0);
    let difference = 0;
    for (let i = 0; i < SHA256_DIGEST_BYTES; i++) difference |= DIGESTS[i] ^ this.#digest[i];
    DIGESTS.fill(0, 0, SHA256_DIGEST_BYTES);
    return difference === 0;
  }
}

/** The development secrets published in the README and the product documents: never valid outside `--dev`. */
export const PUBLISHED_DEVELOPMENT_SECRETS: readonly string[] = Object.freeze([
  "not-a-secret-local-development-hs256-key",
  "not-a-secret-local-development-internal-key",
]);

/** Fewest distinct byte values a configured secret must have. */
export const MIN_DISTINCT_SECRET_BYTES = 8;

/**
 * Why a configured secret is too weak to deploy, or `null` when it is
 * acceptable: a published development secret (unless `dev`), a secret of
 * whitespace only, or one with fewer than {@link MIN_DISTINCT_SECRET_BYTES}
 * distinct bytes (`aaaa…`, `0101…`). The secret itself never appears in the answer.
 *
 * @example
 * ```ts
 * weakSecretReason(new TextEncoder().encode("x".repeat(40)), { dev: false });
 * // "it has only 1 distinct byte value; use at least 8, such as the output of openssl rand -base64 48"
 * ```
 */
export function weakSecretReason(secret: Uint8Array, options: { dev: boolean }): string | null {
  const text = new TextDecoder().decode(secret);
  if (!options.dev && PUBLISHED_DEVELOPMENT_SECRETS.includes(text.trim())) {
    return "it is the published development value, which is refused without --dev";
  }
  if (text.trim() === "") return "it is only whitespace";
  const distinct = new Set(secret).size;
  if (distinct < MIN_DISTINCT_SECRET_BYTES) {
    return `it has only ${distinct} distinct byte value${distinct === 1 ? "" : "s"}; use at least ` +
      `${MIN_DISTINCT_SECRET_BYTES}, such as the output of openssl rand -base64 48`;
  }
  return null;
}
