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
  /**
   * Asks the server to close the connection once the current response is
   * sent: the request's framing can no longer be trusted (a body that was
   * too large, unreadable or late). `bodyLeft`: part of the body was never
   * read, so the runtime would keep the connection open waiting for it.
   * Absent under `app.request()`.
   */
  closeConnection?: (options: { bodyLeft: boolean }) => void;
}

/** The Hono environment of every route. */
export interface AppEnv {
  Bindings: ConnectionInfo;
  Variables: {
    ctx: AuthContext;
    requestId: string;
    clientIp: string;
    log: Logger;
    /**
     * The audience of the token the internal endpoint issued, for the
     * metrics (its other token routes have one audience each). Set only
     * there, so other requests keep their context map as it is.
     */
    issuedAudience: string | undefined;
  };
}
