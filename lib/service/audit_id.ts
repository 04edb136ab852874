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
  // The random part is a version-4 UUID's (the runtime's CSPRNG): its variant
  // bits and 62 random bits are where version 7 wants them, with no array to
  // allocate per record.
  const time = at.toString(16).padStart(12, "0");
  const count = last.count.toString(16).padStart(3, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${count}${crypto.randomUUID().slice(18)}`;
}
