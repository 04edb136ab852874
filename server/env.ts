/**
 * Hono typing shared by the server modules.
 *
 * @module
 */

import type { AuthContext } from "../lib/service/context.ts";

/** One structured log record; the logger writes it as one JSON line. */
export type LogRecord = Record<string, string | number | boolean | null>;

/** Receives log records. Never pass it tokens, codes or secrets. */
export type Logger = (record: LogRecord) => void;

/** Connection facts the runtime hands to `app.fetch` as its env. */
export interface ConnectionInfo {
  remoteAddr?: { hostname: string; port?: number };
}

/** The Hono environment of every route. */
export interface AppEnv {
  Bindings: ConnectionInfo;
  Variables: {
    ctx: AuthContext;
    requestId: string;
    clientIp: string;
    log: Logger;
  };
}
