/**
 * JSON-lines logging for the provider: one object per line with the time
 * first. Callers pass only non-secret fields.
 *
 * @module
 */

import type { Logger, LogRecord } from "./env.ts";

/** A {@link Logger} that writes each record as one JSON line. */
export function jsonLineLogger(writeLine: (line: string) => void): Logger {
  return (record: LogRecord) => {
    writeLine(JSON.stringify({ time: new Date().toISOString(), ...record }));
  };
}
