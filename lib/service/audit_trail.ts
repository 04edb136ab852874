/**
 * Reading the audit trail: one page of records, oldest first, filtered by
 * time, actor, target and action, with a keyset cursor. Needs an
 * `ai.hg.fi/auth` token with `admin:manage`.
 *
 * @module
 */

import { InvalidInputError } from "../errors.ts";
import { parseSince } from "../since.ts";
import type { AuditRecord } from "../store/audit.ts";
import { authorizeAdminAct } from "./admin.ts";
import { decodeAuditCursor, encodeAuditCursor } from "./audit_cursor.ts";
import type { AuthContext } from "./context.ts";

/** Scopes that may read the trail: it names every operator and, in details, the emails they acted on. */
export const AUDIT_READ_SCOPES: readonly string[] = Object.freeze(["admin:manage"]);
/** Largest page. */
export const MAX_AUDIT_PAGE_SIZE = 500;
/** Page size when none is asked for. */
export const DEFAULT_AUDIT_PAGE_SIZE = 100;
/** A filter value: printable ASCII without spaces, as actors, targets and actions are written. */
const FILTER = /^[\x21-\x7e]{1,256}$/;

/** What to list; every field is optional, as in the query string. */
export interface AuditTrailQuery {
  /** An ISO time or a duration back from now, such as `24h`. */
  since?: string;
  actor?: string;
  target?: string;
  action?: string;
  cursor?: string;
  limit?: number;
}

/** One page of the trail. */
export interface AuditPage {
  records: AuditRecord[];
  /** Cursor of the next page, or `null` on the last page. */
  nextCursor: string | null;
}

/**
 * Lists one page of the audit trail. A page shorter than the limit, or a
 * `null` cursor, means the trail has no more records matching the filters
 * (for now: records keep arriving, and a later call with the last cursor
 * picks them up).
 *
 * @throws {InvalidInputError} `invalid_since`, `invalid_filter`, `invalid_limit`, `invalid_cursor`
 */
export async function listAuditTrail(ctx: AuthContext, token: string, query: AuditTrailQuery): Promise<AuditPage> {
  await authorizeAdminAct(ctx, token, { action: "audit.read", anyOf: AUDIT_READ_SCOPES });
  const limit = query.limit ?? DEFAULT_AUDIT_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE_SIZE) {
    throw new InvalidInputError(
      "invalid_limit",
      `Cannot list the audit trail: limit must be between 1 and ${MAX_AUDIT_PAGE_SIZE}`,
    );
  }
  const since = query.since === undefined ? null : parseSince(query.since, ctx.now());
  const after = query.cursor === undefined ? null : decodeAuditCursor(query.cursor);
  const rows = await ctx.store.listAudit({
    since,
    actor: filter("actor", query.actor),
    target: filter("target", query.target),
    action: filter("action", query.action),
    after,
    limit: limit + 1,
  });
  const records = rows.slice(0, limit);
  const last = records[records.length - 1];
  const nextCursor = rows.length > limit && last !== undefined
    ? encodeAuditCursor({ at: last.at, auditId: last.auditId })
    : null;
  return { records, nextCursor };
}

function filter(name: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!FILTER.test(value)) {
    throw new InvalidInputError(
      "invalid_filter",
      `Cannot list the audit trail: ${name} must be 1 to 256 printable characters without spaces`,
    );
  }
  return value;
}
