/**
 * The provider's periodic sweep of expired rows (OTP challenges,
 * revocations, rate windows, sessions, old OTP failures). One sweep runs at
 * a time: a tick that comes while the last sweep is still running is
 * skipped. A sweep of a large store takes a while in slices
 * (`lib/event_loop.ts`), and stopping waits for the sweep in flight, so the
 * store is never closed under it.
 *
 * @module
 */

/** A running schedule. */
export interface PurgeSchedule {
  /** Stops the ticks and resolves once the sweep in flight, if any, has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `purge` every `intervalMs`, skipping a tick while the previous run
 * is in flight. A failed run goes to `onError`; the next tick tries again.
 *
 * @example
 * ```ts
 * const sweeps = schedulePurge(() => store.purgeExpired(Date.now()), 300_000, warn);
 * // … serve …
 * await sweeps.stop();
 * await store.close();
 * ```
 */
export function schedulePurge(
  purge: () => Promise<void>,
  intervalMs: number,
  onError: (error: unknown) => void,
): PurgeSchedule {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= purge().catch(onError).finally(() => {
      running = null;
    });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
