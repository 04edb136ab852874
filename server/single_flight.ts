/**
 * Concurrent callers of one check share a single run of it: while a run is
 * in flight, callers get its outcome instead of starting another. The
 * unauthenticated probes use it, so a flood of `/healthz` or `/readyz`
 * requests costs the store one query at a time, not one each; every answer
 * still comes from a check that ran after the previous answer.
 *
 * @module
 */

/**
 * Wraps `run` so that calls made while one is in flight share its promise.
 *
 * @example
 * ```ts
 * const ping = singleFlight(() => store.ping());
 * await Promise.all([ping(), ping(), ping()]); // one store.ping()
 * ```
 */
export function singleFlight<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= run().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
