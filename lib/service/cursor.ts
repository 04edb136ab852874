/**
 * Opaque page cursors for the waitlist: base64url of the last row's
 * creation time and user id (keyset pagination).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { InvalidInputError } from "../errors.ts";
import type { UserCursor } from "../store/store.ts";
import { isCanonicalUuid } from "../uuid.ts";

/**
 * Latest cursor time: 9999-12-31T23:59:59.999Z, the last instant with a
 * four-digit year. A `Date` goes further (year 275760), but its ISO form
 * then has an expanded year that PostgreSQL refuses, and every store must
 * answer every cursor alike.
 */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** base64url without padding, long enough for the longest cursor and no more. */
const SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

/** Encodes the position after `user` as an opaque cursor string. */
export function encodeCursor(position: UserCursor): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.userId])).toString("base64url");
}

/**
 * Decodes a cursor made by {@link encodeCursor}, and nothing else: the
 * time must be a whole number of milliseconds from 1970 to the end of year
 * 9999, the id a UUID in lowercase canonical form, and encoding them again must give
 * the same text. Whatever a client sends, no store is asked for a position
 * it cannot represent.
 *
 * @throws {InvalidInputError} `invalid_cursor` for anything else
 */
export function decodeCursor(cursor: string): UserCursor {
  const position = SHAPE.test(cursor) ? parse(cursor) : null;
  if (position === null || encodeCursor(position) !== cursor) {
    throw new InvalidInputError(
      "invalid_cursor",
      "Cannot read the page cursor: pass next_cursor from the previous page",
    );
  }
  return position;
}

function parse(cursor: string): UserCursor | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [createdAt, userId] = value;
  if (!Number.isSafeInteger(createdAt) || createdAt < 0 || createdAt > MAX_TIME_MS) return null;
  if (!isCanonicalUuid(userId)) return null;
  return { createdAt, userId };
}
