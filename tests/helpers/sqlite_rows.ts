/**
 * Many rows written straight into a SQLite store's file, in one statement,
 * behind the store's back (as another process would): for tests and
 * benchmarks of long revocation lists.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/**
 * Inserts `count` revocations, token ids `${prefix}1` to `${prefix}${count}`, expiring at `expiresAt`
 * (ms), into the file at `path` (its schema applied), waiting up to 5 s for the write lock.
 */
export function insertRevocations(path: string, count: number, prefix: string, expiresAt: number): void {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO revoked_tokens (token_id, expires_at) SELECT ? || i, ? FROM n`,
    ).run(count, prefix, expiresAt);
  } finally {
    db.close();
  }
}
