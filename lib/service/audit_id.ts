/**
 * Ids of audit records: UUIDs of version 7 (RFC 9562) whose 48-bit
 * timestamp is the record's time and whose 12 `rand_a` bits count the
 * records of one millisecond in this process. The trail is ordered by time,
 * then id, so records one process writes in the same millisecond list in
 * the order they were written (up to 4096 of them); records of several
 * replicas in one millisecond come in no particular order.
 *
 * @module
 */

/** The last millisecond an id was made for, and how many were made in it. */
const last = { at: -1, count: 0 };

/**
 * A new audit record id for a record made at `at` (milliseconds since the
 * epoch, 0 to 2^48 - 1), in lowercase canonical form.
 *
 * @example
 * ```ts
 * auditRecordId(Date.UTC(2026, 10, 25)); // "019ab9f1-6c00-7000-8…"
 * ```
 */
export function auditRecordId(at: number): string {
  if (at === last.at) {
    last.count = Math.min(last.count + 1, 0xfff);
  } else {
    last.at = at;
    last.count = 0;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let time = at;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = 0x70 | (last.count >> 8);
  bytes[7] = last.count & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
