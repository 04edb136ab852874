/**
 * The worker of {@link WalCheckpointer} (`wal_checkpointer.ts`): its own
 * connection to the SQLite file, which copies the write-ahead log back into
 * the database (a `PASSIVE` checkpoint: it never blocks the provider's
 * readers or writers) every few milliseconds, off the provider's event loop.
 *
 * Messages in: {@link CheckpointWorkerStart}, then `"close"`. Messages out:
 * {@link CheckpointWorkerReport}.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";

/** The worker's global scope, as far as it is used here. */
const scope = globalThis as unknown as {
  postMessage(message: CheckpointWorkerReport): void;
  onmessage: ((event: MessageEvent<CheckpointWorkerStart | "close">) => void) | null;
};

/** What the worker is started with. */
export interface CheckpointWorkerStart {
  path: string;
  intervalMs: number;
  busyTimeoutMs: number;
}

/** What the worker reports: ready, each checkpoint that copied frames, a failure, or closed. */
export type CheckpointWorkerReport =
  | { kind: "ready" }
  | { kind: "checkpointed"; log: number; checkpointed: number }
  | { kind: "failed"; message: string }
  | { kind: "closed" };

let db: DatabaseSync | null = null;
let timer: ReturnType<typeof setInterval> | undefined;

function report(message: CheckpointWorkerReport): void {
  scope.postMessage(message);
}

function start({ path, intervalMs, busyTimeoutMs }: CheckpointWorkerStart): void {
  db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA wal_autocheckpoint = 0;`);
  const checkpoint: StatementSync = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  let last = "";
  timer = setInterval(() => {
    try {
      // Frames in the log, and how many of them are in the database file now.
      const { log, checkpointed } = checkpoint.get() as { busy: number; log: number; checkpointed: number };
      const state = `${log}/${checkpointed}`;
      if (checkpointed > 0 && state !== last) report({ kind: "checkpointed", log, checkpointed });
      last = state;
    } catch (error) {
      report({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  }, intervalMs);
  report({ kind: "ready" });
}

scope.onmessage = (event) => {
  if (event.data === "close") {
    clearInterval(timer);
    db?.close();
    db = null;
    report({ kind: "closed" });
    return;
  }
  try {
    start(event.data);
  } catch (error) {
    report({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
  }
};
