/**
 * The part of the `Store` that keeps the audit trail: one append-only
 * record per privileged or security-relevant act. Records never hold an
 * OTP, token, key or secret; an email only where it names the target of an
 * admin act.
 *
 * @module
 */

/** One recorded act. */
export interface AuditRecord {
  auditId: string;
  at: number;
  /** Who acted: `admin:<token subject>`, `client:<client id>`, `bootstrap-key`, `user:<user id>` or `anonymous`. */
  actor: string;
  /** What was done, such as `user.approve`, `client.create`, `otp.locked`. */
  action: string;
  /** The user id, account id or client id acted on, or `null`. */
  target: string | null;
  /** A short non-secret detail: the target email of an admin act, the scopes, the reason. */
  detail: string | null;
  requestId: string | null;
  sourceIp: string | null;
  /** `ok`, or why the act was refused (a stable code). */
  outcome: string;
}

/** Position after which a page of the trail starts (keyset pagination, oldest first). */
export interface AuditCursor {
  at: number;
  auditId: string;
}

/** What to list. Every filter is optional. */
export interface AuditQuery {
  /** Only records at or after this time. */
  since: number | null;
  actor: string | null;
  target: string | null;
  action: string | null;
  after: AuditCursor | null;
  limit: number;
}

/** The audit trail. */
export interface AuditStore {
  /** Appends one record. */
  appendAudit(record: AuditRecord): Promise<void>;
  /** One page of records matching the query, ordered by time then id. */
  listAudit(query: AuditQuery): Promise<AuditRecord[]>;
  /** Deletes the records older than `before` (retention); @returns how many */
  pruneAudit(before: number): Promise<number>;
}
