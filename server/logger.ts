/**
 * JSON-lines logging for the provider: one object per line with the time
 * first. Callers pass only non-secret fields.
 *
 * Lines are buffered and written together: one write per
 * {@link DEFAULT_FLUSH_MS} or per {@link DEFAULT_FLUSH_BYTES} of lines,
 * whichever comes first, instead of one write system call per request. An
 * `error` record is written at once with everything before it. A process
 * killed outright loses at most the lines of the last interval; nothing
 * else depends on them (the store's writes are acknowledged by the store,
 * never by the log).
 *
 * @module
 */

import type { Logger, LogRecord } from "./env.ts";

/** Longest time a line waits in the buffer. */
export const DEFAULT_FLUSH_MS = 50;
/** Buffered characters that trigger a write at once. */
export const DEFAULT_FLUSH_BYTES = 32 * 1024;

/** A logger whose buffered lines can be written out. */
export interface BufferedLogger {
  log: Logger;
  /** Writes the buffered lines now. */
  flush(): void;
}

/** Options of {@link bufferedJsonLineLogger}. */
export interface BufferedLoggerOptions {
  flushMs?: number;
  flushBytes?: number;
  /** The clock (ms since the epoch) of the `time` field. */
  now?: () => number;
}

/**
 * A {@link Logger} that writes each record as one JSON line, buffered:
 * `write` receives whole lines, each ending in a line break.
 *
 * @example
 * ```ts
 * const logger = bufferedJsonLineLogger((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
 * logger.log({ level: "info", msg: "listening" });
 * logger.flush(); // before exit
 * ```
 */
export function bufferedJsonLineLogger(
  write: (text: string) => void,
  options: BufferedLoggerOptions = {},
): BufferedLogger {
  const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
  const flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
  const line = jsonLine(options.now ?? Date.now);
  let buffer = "";
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (buffer === "") return;
    const text = buffer;
    buffer = "";
    write(text);
  };

  const log = (record: LogRecord) => {
    buffer += line(record);
    if (record.level === "error" || buffer.length >= flushBytes) return flush();
    if (timer === undefined) {
      timer = setTimeout(flush, flushMs);
      // A pending flush alone does not keep the process alive; whoever ends it flushes.
      timer.unref();
    }
  };
  return { log, flush };
}

/** Formats a record as `{"time":"…",…}\n`; the ISO time is made once per millisecond. */
function jsonLine(now: () => number): (record: LogRecord) => string {
  let lastMs = NaN;
  let lastTime = "";
  return (record) => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = `{"time":"${new Date(ms).toISOString()}"`;
    }
    const fields = JSON.stringify(record);
    return fields === "{}" ? `${lastTime}}\n` : `${lastTime},${fields.slice(1)}\n`;
  };
}
