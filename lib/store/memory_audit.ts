/**
 * The {@link AuditStore} part of the memory store.
 *
 * @module
 */

import type { AuditQuery, AuditRecord, AuditStore } from "./audit.ts";

/** The audit trail in an array, oldest first. */
export class MemoryAudit implements AuditStore {
  #records: AuditRecord[] = [];

  appendAudit(record: AuditRecord): Promise<void> {
    this.#records.push({ ...record });
    return Promise.resolve();
  }

  listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    const after = query.after;
    const rows = this.#records
      .filter((record) =>
        (query.since === null || record.at >= query.since) &&
        (query.actor === null || record.actor === query.actor) &&
        (query.target === null || record.target === query.target) &&
        (query.action === null || record.action === query.action) &&
        (after === null || record.at > after.at || (record.at === after.at && record.auditId > after.auditId))
      )
      .sort((a, b) => a.at - b.at || (a.auditId < b.auditId ? -1 : a.auditId > b.auditId ? 1 : 0))
      .slice(0, query.limit);
    return Promise.resolve(rows.map((record) => ({ ...record })));
  }

  pruneAudit(before: number): Promise<number> {
    const kept = this.#records.filter((record) => record.at >= before);
    const pruned = this.#records.length - kept.length;
    this.#records = kept;
    return Promise.resolve(pruned);
  }
}
