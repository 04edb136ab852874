/**
 * Deno's own HTTP server (hyper, the engine of `Deno.serve`) run on one
 * connection that the caller accepted. `Deno.serve` accepts by itself and
 * gives no hold on a connection: no header or body timeout, no way to close
 * one, and its server ends when `accept()` fails. The runtime keeps the
 * per-connection entry point, `serveHttpOnConnection`, in its internal
 * table (`Deno[Deno.internal]`, Deno 2.x); it is not a public API, so it is
 * looked up, never assumed.
 *
 * @module
 */

/** The server of one connection. */
export interface ConnectionServer {
  /** Settles when the connection is closed (rejects on a broken one). */
  finished: Promise<void>;
  /** Graceful close: the request in flight, if any, is answered first; a partial request head is dropped. */
  shutdown(): Promise<void>;
}

/** `serveHttpOnConnection(conn, signal, handler, onError, onListen)` of `ext/http/00_serve.ts`. */
export type ServeOnConnection = (
  connection: Deno.Conn,
  signal: AbortSignal | undefined,
  handler: (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => ConnectionServer;

/** The runtime's per-connection server, or `null` when this Deno has none. */
export function findServeOnConnection(): ServeOnConnection | null {
  const runtime = Deno as unknown as Record<string | symbol, unknown>;
  const key = runtime.internal;
  if (typeof key !== "symbol") return null;
  const table = runtime[key] as Record<string, unknown> | undefined;
  const serve = table?.serveHttpOnConnection;
  return typeof serve === "function" ? serve as ServeOnConnection : null;
}

let cancelling = false;
let guardInstalled = false;

/**
 * Aborts the signal that was given to {@link ServeOnConnection}: the
 * runtime's non-graceful close (`op_http_cancel`), for a connection that a
 * graceful close would leave open (hyper still waits for a body that will
 * never come). Its listener throws `BadResource` when the connection has
 * just ended by itself: the runtime drops the resource a moment before
 * `finished` settles, and no public state tells. Such a throw is reported
 * as an uncaught error and would end the process, so it is swallowed here,
 * synchronously and only while this call runs.
 */
export function cancelConnection(controller: AbortController): void {
  if (!guardInstalled) {
    globalThis.addEventListener("error", (event) => {
      if (cancelling && event.error instanceof Deno.errors.BadResource) event.preventDefault();
    });
    guardInstalled = true;
  }
  cancelling = true;
  try {
    controller.abort();
  } finally {
    cancelling = false;
  }
}
