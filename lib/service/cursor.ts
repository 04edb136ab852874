/**
 * Opaque page cursors for the waitlist: base64url of the last row's
 * creation time and user id (keyset pagination).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { InvalidInputError } from "../errors.ts";
import type { UserCursor } from "../store/store.ts";

/** Encodes the position after `user` as an opaque cursor string. */
export function encodeCursor(position: UserCursor): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.userId])).toString("base64url");
}

/**
 * Decodes a cursor made by {@link encodeCursor}.
 *
 * @throws {InvalidInputError} `invalid_cursor` for anything else
 */
export function decodeCursor(cursor: string): UserCursor {
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error("shape");
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) &&
      typeof value[1] === "string" && value[1].length <= 64
    ) {
      return { createdAt: value[0], userId: value[1] };
    }
  } catch {
    // fall through to the typed error
  }
  throw new InvalidInputError("invalid_cursor", "Cannot read the page cursor: pass next_cursor from the previous page");
}
