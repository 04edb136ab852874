/**
 * The {@link AuditStore} part of the SQLite store. Triggers refuse every
 * UPDATE of the `audit` table and every DELETE outside
 * {@link SqliteAudit.pruneAudit}, so rows leave only by age. SQLite has no
 * roles: whoever can write the file can still drop the triggers; they guard
 * against code paths, not against a hostile writer.
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import { setImmediate } from "node:timers";
import type { AuditQuery, AuditRecord, AuditStore } from "./audit.ts";
import type { SqliteAccess } from "./sqlite.ts";
import { pause } from "../event_loop.ts";

type Row = Record<string, SQLInputValue>;

/** Audit records one transaction of a prune deletes: about 4 ms of SQLite's write lock. */
export const AUDIT_PRUNE_BATCH = 1000;
/** Pause (ms) between two transactions of a prune, in which the serving provider's writes take the lock. */
export const AUDIT_PRUNE_PAUSE_MS = 5;

const AUDIT_COLUMNS = "audit_id, at, actor, action, target, detail, request_id, source_ip, outcome";

/** The audit trail in the `audit` table. */
export class SqliteAudit implements AuditStore {
  #db: SqliteAccess;

  constructor(access: SqliteAccess) {
    this.#db = access;
  }

  /**
   * Appends a record; resolves once it is committed. Appends made in the
   * same turn of the event loop are committed together in one transaction
   * once that turn's callbacks have run (`setImmediate`), a group commit:
   * each commit writes every page it touched of the table and its four
   * indexes to the WAL, about 150 µs of the internal token endpoint's 300 µs
   * a request when each record had its own. Not a timer: `setTimeout(…, 0)`
   * waits at least a millisecond in Deno 2.9 (2.2 ms median here), and every
   * audited request waited with it; the internal endpoint served 8,639
   * requests a second on SQLite with it, 16,745 without (A/B, 4 rounds).
   * When the transaction fails, every append it carried fails.
   */
  appendAudit(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ record, resolve, reject });
      if (this.#waiting.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits the appends still waiting now (the store calls it before it closes). */
  flush(): void {
    const batch = this.#waiting.splice(0);
    if (batch.length === 0) return;
    this.#db.run(() =>
      this.#db.transaction(() => {
        const insert = this.#db.prepare(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
        for (const { record } of batch) {
          insert.run(
            record.auditId,
            record.at,
            record.actor,
            record.action,
            record.target,
            record.detail,
            record.requestId,
            record.sourceIp,
            record.outcome,
          );
        }
      })
    ).then(
      () => batch.forEach((append) => append.resolve()),
      (error) => batch.forEach((append) => append.reject(error)),
    );
  }

  #waiting: { record: AuditRecord; resolve: () => void; reject: (error: unknown) => void }[] = [];

  listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.#db.run(() => {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      const filter = (clause: string, value: SQLInputValue | null) => {
        if (value === null) return;
        where.push(clause);
        params.push(value);
      };
      filter("at >= ?", query.since);
      filter("actor = ?", query.actor);
      filter("target = ?", query.target);
      filter("action = ?", query.action);
      if (query.after !== null) {
        where.push("(at, audit_id) > (?, ?)");
        params.push(query.after.at, query.after.auditId);
      }
      const rows = this.#db.prepare(
        `SELECT ${AUDIT_COLUMNS} FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY at, audit_id LIMIT ?`,
      ).all(...params, query.limit) as Row[];
      return rows.map(toRecord);
    });
  }

  /**
   * Deletes the records older than `before`, oldest first, in transactions
   * of {@link AUDIT_PRUNE_BATCH} records with {@link AUDIT_PRUNE_PAUSE_MS}
   * between them. A prune runs in a process of its own beside the serving
   * provider, and SQLite has one writer at a time: deleting 200,000 records
   * in one transaction took 845 ms here, for which every write of the
   * provider waited, its event loop blocked (and failed after its busy
   * timeout of 5 s, about a million records). The `audit_no_delete` trigger
   * refuses any DELETE of a record not older than a cutoff in
   * `audit_prune`, so each transaction puts the cutoff there and takes it
   * away again.
   */
  async pruneAudit(before: number): Promise<number> {
    let pruned = 0;
    for (;;) {
      const deleted = await this.#db.run(() =>
        this.#db.transaction(() => {
          this.#db.prepare("INSERT INTO audit_prune (before) VALUES (?)").run(before);
          const count = Number(
            this.#db.prepare(
              "DELETE FROM audit WHERE rowid IN (SELECT rowid FROM audit WHERE at < ? ORDER BY at LIMIT ?)",
            ).run(before, AUDIT_PRUNE_BATCH).changes,
          );
          this.#db.prepare("DELETE FROM audit_prune").run();
          return count;
        })
      );
      pruned += deleted;
      if (deleted < AUDIT_PRUNE_BATCH) return pruned;
      await pause(AUDIT_PRUNE_PAUSE_MS);
    }
  }
}

function toRecord(row: Row): AuditRecord {
  const text = (value: SQLInputValue) => value === null ? null : String(value);
  return {
    auditId: String(row.audit_id),
    at: Number(row.at),
    actor: String(row.actor),
    action: String(row.action),
    target: text(row.target),
    detail: text(row.detail),
    requestId: text(row.request_id),
    sourceIp: text(row.source_ip),
    outcome: String(row.outcome),
  };
}
