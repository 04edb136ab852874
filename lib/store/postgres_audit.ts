/**
 * The {@link AuditStore} part of the PostgreSQL store.
 *
 * @module
 */

import type { AuditQuery, AuditRecord, AuditStore } from "./audit.ts";
import type { PostgresAccess } from "./postgres.ts";

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

/** The audit trail in `bus_auth_audit`. */
export class PostgresAudit implements AuditStore {
  #db: PostgresAccess;

  constructor(access: PostgresAccess) {
    this.#db = access;
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.#db.run(async (sql) => {
      await sql`
        INSERT INTO bus_auth_audit (audit_id, at, actor, action, target, detail, request_id, source_ip, outcome)
        VALUES (${record.auditId}, ${new Date(record.at)}, ${record.actor}, ${record.action}, ${record.target},
          ${record.detail}, ${record.requestId}, ${record.sourceIp}, ${record.outcome})`;
    });
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

  pruneAudit(before: number): Promise<number> {
    return this.#db.run(async (sql) => {
      const result = await sql`DELETE FROM bus_auth_audit WHERE at < ${new Date(before)}`;
      return result.count;
    });
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
