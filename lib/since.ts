/**
 * The start of a time window as operators type it (`--since`, `?since=`):
 * an ISO 8601 time, or a duration back from now such as `24h`.
 *
 * @module
 */

import { parseDuration } from "./duration.ts";
import { InvalidInputError } from "./errors.ts";

/** Latest instant accepted: the end of year 9999, which every store can hold. */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const ISO =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$/;

/**
 * Reads a window start into milliseconds since the epoch: a calendar date
 * (`2026-11-24`, midnight UTC), a time with its offset
 * (`2026-11-24T08:00:00Z`, `2026-11-24T10:00+02:00`), or a duration back
 * from `now` (`90m`, `24h`, `7d`, or seconds). A time without an offset is
 * refused, since the reader's and the server's zones may differ; so are
 * dates that do not exist (`2026-02-30`) and anything before 1970 or after
 * year 9999.
 *
 * @throws {InvalidInputError} `invalid_since`
 * @example
 * ```ts
 * parseSince("24h", Date.UTC(2026, 10, 25)); // Date.UTC(2026, 10, 24)
 * parseSince("2026-11-24T00:00:00Z", 0);     // Date.UTC(2026, 10, 24)
 * ```
 */
export function parseSince(value: string, now: number): number {
  const iso = ISO.exec(value);
  const at = iso ? isoTime(iso) : durationBack(value, now);
  if (at === null || at > MAX_TIME_MS) {
    throw new InvalidInputError(
      "invalid_since",
      `Cannot read since "${value.slice(0, 64)}": use a time such as 2026-11-24T08:00:00Z or a duration such as 24h`,
    );
  }
  return Math.max(0, at);
}

function durationBack(value: string, now: number): number | null {
  try {
    return now - parseDuration(value) * 1000;
  } catch {
    return null;
  }
}

function isoTime(match: RegExpExecArray): number | null {
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction = "0", zone = "Z"] = match;
  if (match[4] !== undefined && match[8] === undefined) return null;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  const ms = Number(fraction.padEnd(3, "0"));
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  if (h > 23 || mi > 59 || s > 59) return null;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const [oh, om] = zone.slice(1).split(":").map(Number);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, s, ms);
  const at = local.getTime() - offsetMinutes * 60_000;
  return at < 0 ? null : at;
}
