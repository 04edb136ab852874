/**
 * Opaque page cursors of the audit trail: base64url of a tag, the last
 * record's time and its id (keyset pagination). The tag keeps a waitlist
 * cursor, which is otherwise the same shape, from being taken for one.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { InvalidInputError } from "../errors.ts";
import type { AuditCursor } from "../store/audit.ts";
import { isCanonicalUuid } from "../uuid.ts";

const TAG = "audit";
/** 9999-12-31T23:59:59.999Z: the last instant every store can represent (see `cursor.ts`). */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** base64url without padding, long enough for the longest cursor and no more. */
const SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

/** Encodes the position after a record as an opaque cursor string. */
export function encodeAuditCursor(position: AuditCursor): string {
  return Buffer.from(JSON.stringify([TAG, position.at, position.auditId])).toString("base64url");
}

/**
 * Decodes a cursor made by {@link encodeAuditCursor}, and nothing else: the
 * tag, a whole number of milliseconds from 1970 to the end of year 9999, a
 * lowercase canonical UUID, and the same text when encoded again.
 *
 * @throws {InvalidInputError} `invalid_cursor` for anything else
 */
export function decodeAuditCursor(cursor: string): AuditCursor {
  const position = SHAPE.test(cursor) ? parse(cursor) : null;
  if (position === null || encodeAuditCursor(position) !== cursor) {
    throw new InvalidInputError(
      "invalid_cursor",
      "Cannot read the page cursor: pass next_cursor from the previous page of the audit trail",
    );
  }
  return position;
}

function parse(cursor: string): AuditCursor | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 3 || value[0] !== TAG) return null;
  const [, at, auditId] = value;
  if (!Number.isSafeInteger(at) || at < 0 || at > MAX_TIME_MS) return null;
  if (!isCanonicalUuid(auditId)) return null;
  return { at, auditId };
}
