/**
 * The provider's HTTP listener. It accepts connections itself and runs
 * Deno's own HTTP server (the hyper engine of `Deno.serve`) on each, so it
 * can do what `Deno.serve` cannot:
 *
 * - keep serving when `accept()` fails (too many open files): one log line
 *   per {@link ACCEPT_LOG_INTERVAL_MS} with the count, a back-off of up to
 *   {@link MAX_ACCEPT_DELAY_MS} between attempts, and, when descriptors ran
 *   out, the {@link SHED_COUNT} oldest connections still waiting for a
 *   request head closed to make room (a flood of stalled connections would
 *   otherwise keep every new client in the listen queue for a whole header
 *   timeout);
 * - close a connection that has not delivered a complete request head
 *   within the header timeout, counted from its opening or from the end of
 *   its previous answer (slow or stalled clients, idle keep-alive);
 * - close a connection after its answer when the app asks (a body that was
 *   too large, unreadable or late: see `body_guard.ts`), at once if it is
 *   still open {@link LINGER_MS} after the answer.
 *
 * On a runtime without the per-connection server it falls back to
 * `Deno.serve`, with a warning, and none of the above.
 *
 * @module
 */

import type { ConnectionInfo, Logger } from "./env.ts";
import {
  cancelConnection,
  type ConnectionServer,
  findServeOnConnection,
  type ServeOnConnection,
} from "./_serve_connection.ts";

/** Least time between two "accept failed" log lines. */
export const ACCEPT_LOG_INTERVAL_MS = 10_000;
/** Longest pause between two failed accepts. */
export const MAX_ACCEPT_DELAY_MS = 1_000;
/** Connections waiting for a request head that are closed, oldest first, when descriptors run out. */
export const SHED_COUNT = 8;
/** How long a stop waits for answers in flight. */
const STOP_GRACE_MS = 5_000;
/** How long a connection the app asked to close gets to take its last answer before it is closed at once. */
export const LINGER_MS = 1_000;

/** What {@link serveGuarded} serves. */
export type AppHandler = (request: Request, env: ConnectionInfo) => Response | Promise<Response>;

/** Options of {@link serveGuarded}. */
export interface GuardedServeOptions {
  hostname: string;
  port: number;
  headerTimeoutSeconds: number;
  /** Stops the server: no new connections, answers in flight finish (at most 5 s). */
  signal: AbortSignal;
  log: Logger;
  onListen: (addr: Deno.NetAddr) => void;
  /** The runtime hook (tests pass `null` to get the fallback). */
  serveOnConnection?: ServeOnConnection | null;
}

/** A running server. */
export interface GuardedServer {
  addr: Deno.NetAddr;
  /** Resolves after a stop. */
  finished: Promise<void>;
}

/**
 * Listens and serves until `signal` aborts.
 *
 * @throws when the address cannot be listened on
 */
export function serveGuarded(options: GuardedServeOptions, handler: AppHandler): GuardedServer {
  const serveOnConnection = options.serveOnConnection === undefined
    ? findServeOnConnection()
    : options.serveOnConnection;
  if (serveOnConnection === null) return serveUnguarded(options, handler);
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const addr = listener.addr;
  options.onListen(addr);
  const connections = new Set<Connection>();
  const headerMs = options.headerTimeoutSeconds * 1000;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const connection of connections) {
      if (connection.deadline < now) connection.expire();
    }
  }, Math.min(1000, Math.max(100, headerMs / 4)));
  const stopped = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  stopped.then(() => listener.close()).catch(() => {});

  const open = (conn: Deno.TcpConn) => {
    const connection = new Connection(headerMs, handler);
    try {
      connection.start(serveOnConnection, conn, options.log);
    } catch (error) {
      options.log({ level: "warn", msg: "cannot serve a connection", detail: errorText(error) });
      try {
        conn.close();
      } catch {
        // already gone
      }
      return;
    }
    connections.add(connection);
    connection.finished.then(() => connections.delete(connection));
  };

  const finished = (async () => {
    await acceptLoop(listener, {
      signal: options.signal,
      stopped,
      log: options.log,
      open,
      openCount: () => connections.size,
      shed: () => shedOldestWaiting(connections, SHED_COUNT),
    });
    for (const connection of connections) connection.expire();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([...connections].map((connection) => connection.finished)),
      new Promise((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS)),
    ]);
    clearTimeout(timer);
    clearInterval(sweep);
  })();
  return { addr, finished };
}

/** What {@link acceptLoop} works with. */
interface AcceptLoopOptions {
  signal: AbortSignal;
  /** Resolves when `signal` aborts. */
  stopped: Promise<void>;
  log: Logger;
  open: (conn: Deno.TcpConn) => void;
  openCount: () => number;
  /** Closes some connections waiting for a request head; returns how many. */
  shed: () => number;
}

/** Accepts until stopped; a failed accept is logged (rate-limited) and retried after a back-off. */
async function acceptLoop(listener: Deno.TcpListener, options: AcceptLoopOptions): Promise<void> {
  const { signal, stopped, log } = options;
  let delay = 0;
  let failures = 0;
  let shed = 0;
  let lastLog = -Infinity;
  while (!signal.aborted) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (signal.aborted) return;
      failures++;
      if (OUT_OF_DESCRIPTORS.test(errorText(error))) shed += options.shed();
      const now = Date.now();
      if (now - lastLog >= ACCEPT_LOG_INTERVAL_MS) {
        log({
          level: "error",
          msg: "accept failed: still serving, retrying",
          detail: errorText(error),
          failures,
          open_connections: options.openCount(),
          closed_waiting: shed,
        });
        lastLog = now;
        failures = 0;
        shed = 0;
      }
      delay = Math.min(MAX_ACCEPT_DELAY_MS, Math.max(10, delay * 2));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([stopped, new Promise((resolve) => timer = setTimeout(resolve, delay))]);
      clearTimeout(timer);
      continue;
    }
    delay = 0;
    options.open(conn);
  }
}

/** EMFILE (this process) or ENFILE (the system), as the runtime words them. */
const OUT_OF_DESCRIPTORS = /\(os error 2[34]\)/;

/** Closes up to `count` connections waiting for a request head, the oldest first. */
function shedOldestWaiting(connections: Set<Connection>, count: number): number {
  const waiting = [...connections].filter((connection) => connection.waitingForHead);
  waiting.sort((a, b) => a.deadline - b.deadline);
  const chosen = waiting.slice(0, count);
  for (const connection of chosen) connection.expire();
  return chosen.length;
}

/**
 * One accepted connection: its server and the time by which it must
 * deliver a request head. Past that time the sweep closes it gracefully
 * (an answer in flight is sent first; a partial request head is dropped).
 * A connection the app asked to close is closed gracefully after its
 * answer, or, when part of the body is left unread (hyper would keep the
 * connection open waiting for it), at once {@link LINGER_MS} after it.
 */
class Connection {
  /** Epoch ms by which the next request head must have arrived; `Infinity` while requests run. */
  deadline: number;
  finished: Promise<void> = Promise.resolve();
  #headerMs: number;
  #handler: AppHandler;
  #server: ConnectionServer | null = null;
  /** Aborting it is the runtime's non-graceful close. */
  #abort = new AbortController();
  #active = 0;
  /** The app asked for a close after the answer: 1 graceful, 2 at once. */
  #closeAfterAnswer: 0 | 1 | 2 = 0;
  #closing = false;
  #finished = false;

  constructor(headerMs: number, handler: AppHandler) {
    this.#headerMs = headerMs;
    this.#handler = handler;
    this.deadline = Date.now() + headerMs;
  }

  start(serveOnConnection: ServeOnConnection, conn: Deno.TcpConn, log: Logger): void {
    this.#server = serveOnConnection(conn, this.#abort.signal, this.#serve, (error) => {
      log({ level: "error", msg: "request failed outside the app", detail: errorText(error) });
      return Response.json({ error: "internal_error", message: "The auth provider failed: the error was logged" }, {
        status: 500,
      });
    }, () => {});
    this.finished = this.#server.finished.then(() => {}, () => {}).finally(() => this.#finished = true);
  }

  /** No request runs and none is being closed: the connection waits for (the rest of) a request head. */
  get waitingForHead(): boolean {
    return this.#active === 0 && !this.#closing && !this.#finished && this.#closeAfterAnswer === 0;
  }

  /** Closes now: at once if the app asked for it and no answer is in flight, else gracefully. */
  expire(): void {
    if (this.#finished || this.#closing || this.#server === null) return;
    this.#closing = true;
    this.deadline = Infinity;
    // A graceful close takes the runtime's resource, after which a
    // non-graceful one would fail: one or the other, never both.
    if (this.#closeAfterAnswer === 2 && this.#active === 0) cancelConnection(this.#abort);
    else this.#server.shutdown().catch(() => {});
  }

  #serve = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response> => {
    this.#active++;
    this.deadline = Infinity;
    let answer: Response | Promise<Response>;
    try {
      answer = this.#handler(request, { remoteAddr: info.remoteAddr, closeConnection: this.#requestClose });
    } catch (error) {
      this.#answered();
      throw error;
    }
    if (!(answer instanceof Promise)) {
      this.#answered();
      return answer;
    }
    return answer.then(this.#served, this.#failed);
  };

  #served = (response: Response): Response => {
    this.#answered();
    return response;
  };

  #failed = (error: unknown): never => {
    this.#answered();
    throw error;
  };

  #requestClose = ({ bodyLeft }: { bodyLeft: boolean }) => {
    this.#closeAfterAnswer = bodyLeft ? 2 : 1;
  };

  #answered = () => {
    this.#active--;
    if (this.#active > 0 || this.#closing) return;
    if (this.#closeAfterAnswer === 1) this.expire();
    else this.deadline = Date.now() + (this.#closeAfterAnswer === 2 ? LINGER_MS : this.#headerMs);
  };
}

/** `Deno.serve` as before: no timeouts, and its server ends if accept fails. */
function serveUnguarded(options: GuardedServeOptions, handler: AppHandler): GuardedServer {
  options.log({
    level: "warn",
    msg:
      "this Deno has no per-connection HTTP server: stalled connections are not closed and a failed accept stops the server; keep a reverse proxy in front (README: Hostile clients and reverse proxies)",
  });
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: options.signal,
    onListen: options.onListen,
  }, (request, info) => handler(request, { remoteAddr: info.remoteAddr }));
  return { addr: server.addr, finished: server.finished };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
