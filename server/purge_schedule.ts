/**
 * The provider's periodic sweep of expired rows (OTP challenges,
 * revocations, rate windows, sessions, old OTP failures). One sweep runs at
 * a time: a tick that comes while the last sweep is still running is
 * skipped. A sweep of a large store takes a while in slices
 * (`lib/event_loop.ts`), and stopping waits for the sweep in flight, so the
 * store is never closed under it.
 *
 * A sweep deletes only what expired at least {@link PURGE_GRACE_MS} ago. A
 * revocation lasts until its token's `exp`, by the clock of the replica
 * that sweeps; another replica whose clock is behind still accepts that
 * token for the difference, and must still find its revocation meanwhile.
 * The grace is the clock skew this system allows elsewhere (an `iat` at
 * most 60 s ahead); keeping expired rows a minute longer changes nothing
 * else, since every reader checks expiry itself.
 *
 * @module
 */

import { MAX_CLOCK_SKEW_SECONDS } from "../lib/jwt.ts";

/** How long after it expires a row may be swept (ms): the clock skew allowed between replicas. */
export const PURGE_GRACE_MS = MAX_CLOCK_SKEW_SECONDS * 1000;

/** A running schedule. */
export interface PurgeSchedule {
  /** Stops the ticks and resolves once the sweep in flight, if any, has ended. */
  stop(): Promise<void>;
}

/** When and how {@link schedulePurge} sweeps. */
export interface PurgeScheduleOptions {
  intervalMs: number;
  /** A sweep that failed; the next tick tries again. */
  onError: (error: unknown) => void;
  /** The clock (epoch ms; default `Date.now`). */
  now?: () => number;
}

/**
 * Calls `purge` every `intervalMs` with the instant up to which expired
 * rows go (now minus {@link PURGE_GRACE_MS}), skipping a tick while the
 * previous run is in flight.
 *
 * @example
 * ```ts
 * const sweeps = schedulePurge((before) => store.purgeExpired(before), { intervalMs: 300_000, onError: warn });
 * // … serve …
 * await sweeps.stop();
 * await store.close();
 * ```
 */
export function schedulePurge(purge: (before: number) => Promise<void>, options: PurgeScheduleOptions): PurgeSchedule {
  const now = options.now ?? Date.now;
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= purge(now() - PURGE_GRACE_MS).catch(options.onError).finally(() => {
      running = null;
    });
  }, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
