/**
 * The {@link AuditStore} part of the PostgreSQL store. Migration 6 revokes
 * UPDATE, DELETE and TRUNCATE on `bus_auth_audit` from the role that
 * creates it, so the provider's connections may only insert and select;
 * {@link PostgresAudit.pruneAudit} is the one way out, by age.
 *
 * @module
 */

import type { AuditQuery, AuditRecord, AuditStore } from "./audit.ts";
import type { PostgresAccess } from "./postgres.ts";
import { POSTGRES_AUDIT_PRUNE_LOCK } from "./postgres_schema.ts";

interface AuditRow {
  audit_id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
  request_id: string | null;
  source_ip: string | null;
  outcome: string;
}

/** An append waiting for its insert. */
interface PendingAppend {
  record: AuditRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Inserts of audit records running at once; more appends wait and share the next insert. */
const MAX_WRITES_IN_FLIGHT = 2;
/** Most records one insert carries. */
const MAX_BATCH = 500;

/**
 * A PostgreSQL array literal of texts: every element double-quoted with
 * backslash and double quote escaped, `NULL` for null, so any text stands
 * for itself.
 *
 * @example
 * ```ts
 * arrayLiteral(['a"b', null]); // '{"a\\"b",NULL}'
 * ```
 */
export function arrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((value) => value === null ? "NULL" : `"${value.replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;
}

/** The audit trail in `bus_auth_audit`. */
export class PostgresAudit implements AuditStore {
  #db: PostgresAccess;

  constructor(access: PostgresAccess) {
    this.#db = access;
  }

  /**
   * Appends a record; resolves once it is committed. Appends that arrive
   * while {@link MAX_WRITES_IN_FLIGHT} inserts are running wait and go
   * together in the next one (a group commit): a round trip per record would
   * cap a pool of 10 at 10 records a round trip, about 2,800 internal tokens
   * a second. Each append still answers only after its own row committed;
   * when an insert fails, every append it carried fails.
   */
  appendAudit(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ record, resolve, reject });
      if (this.#inFlight < MAX_WRITES_IN_FLIGHT) void this.#write();
    });
  }

  #waiting: PendingAppend[] = [];
  #inFlight = 0;

  async #write(): Promise<void> {
    this.#inFlight++;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, MAX_BATCH);
        try {
          const records = batch.map(({ record }) => record);
          const column = (pick: (record: AuditRecord) => string | null) => arrayLiteral(records.map(pick));
          // One statement for any number of records (unnest of one array literal a column), so each connection
          // prepares it once instead of once for every batch size.
          await this.#db.run(async (sql) => {
            await sql`
              INSERT INTO bus_auth_audit (audit_id, at, actor, action, target, detail, request_id, source_ip, outcome)
              SELECT * FROM unnest(${column((r) => r.auditId)}::text[],
                ${column((r) => new Date(r.at).toISOString())}::timestamptz[], ${column((r) => r.actor)}::text[],
                ${column((r) => r.action)}::text[], ${column((r) => r.target)}::text[],
                ${column((r) => r.detail)}::text[], ${column((r) => r.requestId)}::text[],
                ${column((r) => r.sourceIp)}::text[], ${column((r) => r.outcome)}::text[])`;
          });
          for (const append of batch) append.resolve();
        } catch (error) {
          for (const append of batch) append.reject(error);
        }
      }
    } finally {
      this.#inFlight--;
    }
  }

  listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#db.run(async (sql) => {
      const conditions = [sql`true`];
      if (query.since !== null) conditions.push(sql`at >= ${new Date(query.since)}`);
      if (query.actor !== null) conditions.push(sql`actor = ${query.actor}`);
      if (query.target !== null) conditions.push(sql`target = ${query.target}`);
      if (query.action !== null) conditions.push(sql`action = ${query.action}`);
      if (query.after !== null) {
        conditions.push(sql`(at, audit_id) > (${new Date(query.after.at)}::timestamptz, ${query.after.auditId})`);
      }
      const where = conditions.reduce((all, condition) => sql`${all} AND ${condition}`);
      const rows = await sql<AuditRow[]>`
        SELECT * FROM bus_auth_audit WHERE ${where} ORDER BY at, audit_id LIMIT ${query.limit}`;
      return rows.map(toRecord);
    });
  }

  /**
   * Deletes the records older than `before`. Migration 6 revoked DELETE
   * from the role that owns the table; when this role lacks it, the owner's
   * right to grant it back is used inside the transaction, so DELETE is
   * never held outside it. A role that was granted DELETE explicitly (a
   * separate pruning role) just deletes. Runs are serialised by an
   * advisory lock, since two concurrent GRANTs on one table collide.
   *
   * @throws Error (`permission denied`) for a role that neither may delete nor owns the table
   */
  pruneAudit(before: number): Promise<number> {
    return this.#db.run((sql) =>
      this.#db.transaction(sql, async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${POSTGRES_AUDIT_PRUNE_LOCK})`;
        const [{ granted }] = await tx<{ granted: boolean }[]>`
          SELECT has_table_privilege('bus_auth_audit', 'DELETE') AS granted`;
        if (!granted) await tx`GRANT DELETE ON bus_auth_audit TO CURRENT_USER`;
        const result = await tx`DELETE FROM bus_auth_audit WHERE at < ${new Date(before)}`;
        if (!granted) await tx`REVOKE DELETE ON bus_auth_audit FROM CURRENT_USER`;
        return result.count;
      })
    );
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    auditId: row.audit_id,
    at: row.at.getTime(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: row.detail,
    requestId: row.request_id,
    sourceIp: row.source_ip,
    outcome: row.outcome,
  };
}
