/**
 * Checkpoints of a SQLite file's write-ahead log in a worker thread, with
 * its own connection (`wal_checkpoint_worker.ts`).
 *
 * node:sqlite is synchronous: a checkpoint that runs inside a commit (SQLite's
 * `wal_autocheckpoint`) copies pages and syncs the file on the provider's
 * event loop, and every request in flight waits. Measured on the internal
 * token endpoint (an audit record a request), alternated A/B with
 * checkpoints every 100 pages against none at all: 6,400 against 8,945
 * requests a second, 138 against 88 µs of CPU a request, p99 11.3 against
 * 6.6 ms. In the worker, a `PASSIVE` checkpoint copies what is committed
 * while the event loop goes on; it never blocks a reader or a writer.
 *
 * @module
 */

import type { CheckpointWorkerReport, CheckpointWorkerStart } from "./wal_checkpoint_worker.ts";

/** How often the worker checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 50;

/** How long the worker may take to open the file before it counts as failed. */
const START_TIMEOUT_MS = 10_000;

/** Options of {@link WalCheckpointer.start}. */
export interface WalCheckpointerOptions {
  /** The connection's `busy_timeout`. */
  busyTimeoutMs: number;
  /** Default {@link CHECKPOINT_INTERVAL_MS}. */
  intervalMs?: number;
  /** Called once if the worker fails after it started; it is stopped then (the store checkpoints in line again). */
  onFailure?: (message: string) => void;
  /** The worker module; tests give one that cannot load. */
  workerUrl?: string;
}

/** A running checkpoint worker. */
export class WalCheckpointer {
  #worker: Worker;
  #closed: Promise<void>;
  #markClosed!: () => void;
  #failed = false;
  /** Checkpoints that copied frames since start. */
  checkpoints = 0;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#closed = new Promise((resolve) => this.#markClosed = resolve);
  }

  /**
   * Starts the worker on the file at `path`; resolves once its connection
   * is open.
   *
   * @throws {Error} when the worker cannot load or open the file; it is stopped then
   */
  static start(path: string, options: WalCheckpointerOptions): Promise<WalCheckpointer> {
    const url = options.workerUrl ?? new URL("./wal_checkpoint_worker.ts", import.meta.url).href;
    const worker = new Worker(url, { type: "module" });
    const checkpointer = new WalCheckpointer(worker);
    return new Promise((resolve, reject) => {
      let started = false;
      const fail = (message: string) => {
        if (!started) {
          clearTimeout(timeout);
          worker.terminate();
          checkpointer.#markClosed();
          reject(new Error(`The SQLite checkpoint worker did not start: ${message}`));
          return;
        }
        if (checkpointer.#failed) return;
        checkpointer.#failed = true;
        worker.terminate();
        checkpointer.#markClosed();
        options.onFailure?.(message);
      };
      const timeout = setTimeout(() => fail("it took too long to open the file"), START_TIMEOUT_MS);
      worker.onerror = (event) => {
        event.preventDefault();
        fail(event.message);
      };
      worker.onmessage = (event: MessageEvent<CheckpointWorkerReport>) => {
        const report = event.data;
        if (report.kind === "ready") {
          started = true;
          clearTimeout(timeout);
          resolve(checkpointer);
        } else if (report.kind === "checkpointed") checkpointer.checkpoints++;
        else if (report.kind === "failed") fail(report.message);
        else if (report.kind === "closed") checkpointer.#markClosed();
      };
      const start: CheckpointWorkerStart = {
        path,
        intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
        busyTimeoutMs: options.busyTimeoutMs,
      };
      worker.postMessage(start);
    });
  }

  /** Whether the worker still checkpoints (it has not failed). */
  get running(): boolean {
    return !this.#failed;
  }

  /** Closes the worker's connection and stops the worker. */
  async close(): Promise<void> {
    if (this.#failed) return;
    this.#worker.postMessage("close");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#closed, new Promise((resolve) => timer = setTimeout(resolve, 2_000))]);
    clearTimeout(timer);
    this.#worker.terminate();
  }
}
