/**
 * Durations as operators type them: `90s`, `10m`, `1h`, `2d`, or a bare
 * number of seconds.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^([0-9]{1,9})(s|m|h|d)?$/;

/**
 * Parses a duration into whole seconds (greater than zero).
 *
 * @throws {InvalidInputError} `invalid_duration` for anything else
 * @example
 * ```ts
 * parseDuration("10m"); // 600
 * parseDuration("90");  // 90
 * ```
 */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] ?? "s"] : 0;
  if (!match || seconds <= 0) {
    throw new InvalidInputError(
      "invalid_duration",
      `Cannot parse duration "${value}": use a positive number with s, m, h or d, like 90s, 10m or 1h`,
    );
  }
  return seconds;
}
