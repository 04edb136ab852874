/**
 * UUIDs as this system writes them: `crypto.randomUUID()` output, the
 * lowercase canonical form (8-4-4-4-12 hexadecimal digits).
 *
 * @module
 */

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Tells whether a value is a UUID in lowercase canonical form, the only form
 * the stores hold user, account and token ids in.
 *
 * @example
 * ```ts
 * isCanonicalUuid(crypto.randomUUID()); // true
 * isCanonicalUuid("0F6C1E0A-8D3B-4C5E-9F21-6A7B8C9D0E1F"); // false
 * ```
 */
export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === "string" && CANONICAL_UUID.test(value);
}
