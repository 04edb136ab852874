/**
 * Giving the event loop back during long work: a provider serves every
 * request on one thread, so work that runs for more than a few milliseconds
 * at once (loading a long list, deleting many rows) is cut into slices with
 * a {@link pause} between them.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, on a timer: with 0, once the timers and
 * I/O due now have had their turn. Requests that arrived meanwhile are
 * served before the caller goes on.
 *
 * @example
 * ```ts
 * for (const slice of slices) {
 *   work(slice);
 *   await pause();
 * }
 * ```
 */
export function pause(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `visit` on each item, {@link pause}-ing after every `sliceSize`
 * items, so that no request waits behind more than one slice. Items added
 * to a `Map` or `Set` while it is walked are visited too, as `for…of` does.
 */
export async function forEachInSlices<T>(
  items: Iterable<T>,
  sliceSize: number,
  visit: (item: T) => void,
): Promise<void> {
  let seen = 0;
  for (const item of items) {
    visit(item);
    if (++seen % sliceSize === 0) await pause();
  }
}
