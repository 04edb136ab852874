/**
 * Key material of service clients (OAuth2 client credentials): display-once
 * keys of 256 random bits with a fixed prefix that secret scanners match,
 * the short prefix that may be shown, the hash that is stored, and the
 * check of a presented key against a client's keys.
 *
 * A key is `bsk_` followed by the 43 base64url characters of 32 random
 * bytes. The provider stores only its SHA-256 (hex): with 256 bits of
 * entropy a key cannot be guessed or found from its hash, so no per-request
 * key stretching (bcrypt, scrypt, Argon2) is needed, and none is done.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { sha256 } from "./keys/sha256.ts";
import { secretsEqual } from "./secret.ts";

/** What every client key starts with, for secret scanners (`bsk_`: Bus service key). */
export const CLIENT_KEY_PREFIX = "bsk_";

/** Random bytes in a key: 256 bits. */
export const CLIENT_KEY_RANDOM_BYTES = 32;

/** Characters of a key that may be shown and are stored beside the hash: `bsk_` and 4 more. */
export const CLIENT_KEY_SHOWN_LENGTH = 8;

/** `bsk_` and 43 base64url characters (32 bytes, no padding). */
const KEY_SHAPE = /^bsk_[A-Za-z0-9_-]{43}$/;

/** A new key: the key itself (shown once), its prefix and its hash. */
export interface GeneratedClientKey {
  /** The whole key: returned to the operator once, never stored. */
  key: string;
  /** The first {@link CLIENT_KEY_SHOWN_LENGTH} characters, such as `bsk_AbC1`. */
  prefix: string;
  /** SHA-256 of the key, lowercase hex. */
  hash: string;
}

/** What {@link matchesClientKey} needs of each stored key. */
export interface StoredKeyHash {
  hash: string;
  /** When the key stops working, or `null` while it is current. */
  retiresAt: number | null;
}

/**
 * Makes a new key from `random` (a CSPRNG; injected for tests).
 *
 * @example
 * ```ts
 * const { key, prefix, hash } = generateClientKey((n) => crypto.getRandomValues(new Uint8Array(n)));
 * // key "bsk_" + 43 characters, prefix "bsk_" + 4, hash 64 hex digits
 * ```
 */
export function generateClientKey(random: (length: number) => Uint8Array): GeneratedClientKey {
  const bytes = random(CLIENT_KEY_RANDOM_BYTES);
  if (bytes.length !== CLIENT_KEY_RANDOM_BYTES) {
    throw new RangeError("generateClientKey: the source gave too few bytes");
  }
  const key = CLIENT_KEY_PREFIX + Buffer.from(bytes).toString("base64url");
  return { key, prefix: clientKeyPrefix(key), hash: hashClientKey(key) };
}

/**
 * Tells whether a value has the exact form {@link generateClientKey} writes
 * (`bsk_` and the canonical base64url of 32 bytes).
 */
export function isClientKey(value: string): boolean {
  if (!KEY_SHAPE.test(value)) return false;
  const body = value.slice(CLIENT_KEY_PREFIX.length);
  return Buffer.from(Buffer.from(body, "base64url")).toString("base64url") === body;
}

/** The part of a key that may be shown: its first 8 characters (`bsk_AbC1`). */
export function clientKeyPrefix(key: string): string {
  return key.slice(0, CLIENT_KEY_SHOWN_LENGTH);
}

/**
 * SHA-256 of a key (its UTF-8 bytes) as lowercase hex: the only form the
 * provider keeps. The provider's own SHA-256 (`keys/sha256.ts`), the
 * digest node:crypto's `createHash` made for earlier versions, without its
 * allocations: every request of a service client hashes its key.
 */
export function hashClientKey(key: string): string {
  return sha256(key).toHex();
}

/**
 * Whether `presented` is one of the keys that still work at `now`: a key
 * without a retirement, or one whose retirement lies ahead. Every working
 * key is compared, in constant time, whichever matches; a presented value
 * that is not shaped like a key matches nothing.
 */
export function matchesClientKey(presented: string, keys: readonly StoredKeyHash[], now: number): boolean {
  const hash = hashClientKey(presented);
  let matched = false;
  for (const key of keys) {
    const working = key.retiresAt === null || key.retiresAt > now;
    // No early exit: the time does not tell which key (if any) matched.
    if (secretsEqual(hash, key.hash) && working) matched = true;
  }
  return matched && isClientKey(presented);
}
