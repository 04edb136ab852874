/**
 * The {@link AuditStore} part of the memory store.
 *
 * @module
 */

import type { AuditQuery, AuditRecord, AuditStore } from "./audit.ts";

/**
 * Newest records the memory store's trail keeps. The trail is lost with the
 * process anyway; without a bound, a provider left running on the memory
 * store grew by about 1.2 KB a record (378 MiB after 300,000 internal
 * tokens), and its garbage collector's work grew with it.
 */
export const MEMORY_AUDIT_LIMIT = 10_000;

/** Options of {@link MemoryAudit}. */
export interface MemoryAuditOptions {
  /** Newest records kept (default {@link MEMORY_AUDIT_LIMIT}); older ones are dropped. */
  limit?: number;
  /** Called once, when the first record is dropped to make room. */
  onFirstDrop?: (limit: number) => void;
}

/** The newest audit records in a ring, oldest first. */
export class MemoryAudit implements AuditStore {
  #ring: AuditRecord[] = [];
  /** Index in the ring of the oldest record, once the ring is full. */
  #oldest = 0;
  #limit: number;
  #onFirstDrop: ((limit: number) => void) | undefined;

  constructor(options: MemoryAuditOptions = {}) {
    this.#limit = options.limit ?? MEMORY_AUDIT_LIMIT;
    if (!Number.isSafeInteger(this.#limit) || this.#limit < 1) {
      throw new RangeError(`The memory audit limit must be a positive integer, not ${this.#limit}`);
    }
    this.#onFirstDrop = options.onFirstDrop;
  }

  appendAudit(record: AuditRecord): Promise<void> {
    const copy = { ...record };
    if (this.#ring.length < this.#limit) {
      this.#ring.push(copy);
    } else {
      this.#ring[this.#oldest] = copy;
      this.#oldest = (this.#oldest + 1) % this.#limit;
      const dropped = this.#onFirstDrop;
      this.#onFirstDrop = undefined;
      dropped?.(this.#limit);
    }
    return Promise.resolve();
  }

  listAudit(query: AuditQuery): Promise<AuditRecord[]> {
    const after = query.after;
    const rows = this.#records()
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
    const records = this.#records();
    const kept = records.filter((record) => record.at >= before);
    this.#ring = kept;
    this.#oldest = 0;
    return Promise.resolve(records.length - kept.length);
  }

  /** The records kept, oldest first. */
  #records(): AuditRecord[] {
    return this.#oldest === 0 ? this.#ring : [...this.#ring.slice(this.#oldest), ...this.#ring.slice(0, this.#oldest)];
  }
}
