/**
 * Whether the SMTP relay is reachable, for readiness probes, without asking
 * it on every probe: a relay that took a connection (a delivery, the
 * start-up check or an earlier probe) within the interval counts as
 * reachable; otherwise one check runs, at most once per interval, shared by
 * the probes that arrive meanwhile, and its outcome stands until the next.
 *
 * @module
 */

/** The default interval: one minute. */
export const RELAY_CHECK_INTERVAL_MS = 60_000;

/** What {@link RelayWatch.status} found. */
export interface RelayStatus {
  /** The relay took a connection within the interval. */
  ok: boolean;
  /** Epoch ms of the last connection the relay took, or `null` when none is known. */
  lastOkAt: number | null;
  /** The reason of the last failed check while not ok, such as "connection refused"; never a secret. */
  reason: string | null;
}

/** Options of {@link RelayWatch}. */
export interface RelayWatchOptions {
  /** Current time in epoch ms (tests pass a fake clock). */
  now?: () => number;
  /** How long a connection counts, and the least time between two checks; default one minute. */
  intervalMs?: number;
  /** When the relay last took a connection, such as the start-up check. */
  okAt?: number | null;
}

/**
 * Tracks the relay's last good connection and checks it when that is older
 * than the interval.
 *
 * @example
 * ```ts
 * const watch = new RelayWatch(() => sender.verify(), { okAt: Date.now() });
 * await watch.status(); // { ok: true, … } for a minute, then checks again
 * ```
 */
export class RelayWatch {
  #check: () => Promise<void>;
  #now: () => number;
  #intervalMs: number;
  #lastOkAt: number | null;
  #lastCheckAt = -Infinity;
  #reason: string | null = null;
  #running: Promise<void> | null = null;

  /** @param check resolves when the relay takes a connection, rejects with the reason otherwise */
  constructor(check: () => Promise<void>, options: RelayWatchOptions = {}) {
    this.#check = check;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? RELAY_CHECK_INTERVAL_MS;
    this.#lastOkAt = options.okAt ?? null;
  }

  /** The relay took a connection now (a delivery went through). */
  succeeded(): void {
    this.#lastOkAt = this.#now();
    this.#reason = null;
  }

  /** Reachable or not; checks the relay when the last good connection is too old and no check ran lately. */
  async status(): Promise<RelayStatus> {
    if (!this.#fresh() && this.#now() - this.#lastCheckAt >= this.#intervalMs) {
      this.#running ??= this.#runCheck();
    }
    if (this.#running !== null) await this.#running;
    const ok = this.#fresh();
    return { ok, lastOkAt: this.#lastOkAt, reason: ok ? null : this.#reason ?? "no connection within the interval" };
  }

  #fresh(): boolean {
    return this.#lastOkAt !== null && this.#now() - this.#lastOkAt < this.#intervalMs;
  }

  async #runCheck(): Promise<void> {
    this.#lastCheckAt = this.#now();
    try {
      await this.#check();
      this.succeeded();
    } catch (error) {
      this.#reason = error instanceof Error ? error.message.split("\n")[0].slice(0, 200) : String(error);
    } finally {
      this.#running = null;
    }
  }
}
