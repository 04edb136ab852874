/**
 * Connections of the PostgreSQL store: postgres.js pool options from the
 * DSN (libpq parameters handled here), the socket, and which failures mean
 * "the database is unavailable".
 *
 * TLS follows libpq's `sslmode` query parameter, parsed here and removed from
 * the DSN (postgres.js alone defaults to no TLS, treats `verify-ca` like
 * `verify-full`, and sends libpq-only parameters such as `sslrootcert` to the
 * server as settings, which the server refuses):
 *
 * - `disable`: plain TCP.
 * - `allow`: as `prefer` (postgres.js cannot try plain TCP first).
 * - `prefer`, the default as in libpq: TLS when the server offers it, else
 *   plain TCP; the certificate is not checked.
 * - `require`: TLS or fail; the certificate is not checked, unless
 *   `sslrootcert` is given: then as `verify-ca` (libpq does the same). A
 *   server without TLS fails the connection with libpq's message, "server
 *   does not support SSL, but SSL was required", also under `verify-ca` and
 *   `verify-full`.
 * - `verify-ca`: the certificate chain is checked against `sslrootcert` (or
 *   the default CA store), not the host name.
 * - `verify-full`: chain and host name are checked, an IP address against the
 *   certificate's IP addresses.
 *
 * `sslrootcert` is a PEM file, or `system` (as in libpq 16: the default CA
 * store, and `verify-full`). `sslcert` and `sslkey` (PEM, unencrypted) give a
 * client certificate; with them, `allow` and `prefer` act as `require`.
 * Unlike libpq, `~/.postgresql/` is never read, and a failed TLS handshake
 * under `prefer` does not retry over plain TCP. The default CA store is
 * Deno's (Mozilla's roots, or the system's with `DENO_TLS_CA_STORE=system`).
 * Other libpq parameters: `host` and `port` override the URL's (`host=/folder`
 * is a Unix socket folder, never with TLS, as in libpq),
 * `target_session_attrs` is honoured, `connect_timeout` is ignored in favour
 * of `connectTimeoutSeconds`, and any other query parameter (such as
 * `application_name` or `options`) is sent to the server as a connection
 * setting.
 *
 * @module
 */

import net from "node:net";
import postgres from "postgres";
import { StoreUnavailableError } from "../errors.ts";

/** Connection settings of `PostgresStore.open`; the `postgres` variant of `StoreConfig`. */
export interface PostgresStoreConfig {
  /** `postgres://` URL. Holds a password: never shown in any message. */
  dsn: string;
  /** Most connections in the pool. */
  poolMax: number;
  /** Bound of one connection attempt (TCP, TLS and authentication). */
  connectTimeoutSeconds: number;
  /** Server-side bound of one statement (`statement_timeout`). */
  statementTimeoutSeconds: number;
}

/** `application_name` of every connection. */
const APPLICATION_NAME = "bus-auth";
/** Idle pooled connections are closed after this many seconds. */
const IDLE_TIMEOUT_SECONDS = 60;
/** Longest wait before a new connection attempt after failed ones. */
const MAX_RECONNECT_DELAY_SECONDS = 0.5;

/** SQLSTATEs meaning the engine cannot serve now (see the module documentation). */
const UNAVAILABLE_SQLSTATE = /^(08|28|53|57|58)[0-9A-Z]{3}$|^3D000$|^25006$/;

/** libpq's words when the server declines TLS that the sslmode requires. */
const SSL_NOT_SUPPORTED_MESSAGE = "server does not support SSL, but SSL was required";

/** Client-side error codes (Node-style errno and postgres.js connection codes) and how to say them. */
const CONNECTION_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  SSL_NOT_SUPPORTED: SSL_NOT_SUPPORTED_MESSAGE,
  EPIPE: "connection broken",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  EHOSTDOWN: "host down",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  EADDRNOTAVAIL: "address not available",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  ENOENT: "socket not found",
  CONNECT_TIMEOUT: "connection timed out",
  CONNECTION_CLOSED: "connection closed",
  CONNECTION_DESTROYED: "connection closed",
  CONNECTION_ENDED: "the store is closed",
  SASL_SIGNATURE_MISMATCH: "the server failed SCRAM authentication",
  AUTH_TYPE_NOT_IMPLEMENTED: "the server asks for an unsupported authentication method",
};

/** Certificate and TLS error codes of `node:tls` (Node's `ERR_TLS_*` and OpenSSL's verification names). */
const TLS_ERROR = new RegExp(
  [
    "^ERR_(TLS|SSL)_",
    "^UNABLE_TO_[A-Z_]+$",
    "^CERT_[A-Z_]+$",
    "SELF_SIGNED",
    "^(INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED|HOSTNAME_MISMATCH)$",
  ].join("|"),
);

/** Deno's own I/O error classes that mean the connection failed. */
const DENO_CONNECTION_ERRORS: readonly (new (...args: never[]) => Error)[] = [
  Deno.errors.ConnectionRefused,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.NotConnected,
  Deno.errors.AddrNotAvailable,
  Deno.errors.BrokenPipe,
  Deno.errors.TimedOut,
  Deno.errors.UnexpectedEof,
  Deno.errors.InvalidData,
  Deno.errors.NetworkUnreachable,
  Deno.errors.PermissionDenied,
  Deno.errors.NotCapable,
];

/** A postgres.js pool (connecting lazily); its own parse errors could quote the DSN, so they are replaced. */
export function createPool([dsn, options]: ClientArguments): postgres.Sql {
  try {
    return postgres(dsn, options);
  } catch {
    throw new Error("Cannot open the PostgreSQL store: the DSN is not usable (value not shown)");
  }
}

/** Arguments of `postgres()`: the DSN without the client-side libpq parameters, and the pool options. */
export type ClientArguments = [string, postgres.Options<Record<string, never>>];

/** Sockets to the database open now, counted by the socket factory (postgres.js reports none). */
export interface SocketCount {
  open: number;
}

export function clientArguments(config: PostgresStoreConfig, sockets: SocketCount = { open: 0 }): ClientArguments {
  const { dsn, params } = splitDsn(config.dsn);
  const targetSessionAttrs = params.get("target_session_attrs");
  const host = params.get("host");
  const port = params.get("port");
  // libpq's `host=/folder` names a Unix socket folder, where TLS is never used.
  const socketFolder = host !== null && host.startsWith("/") ? host : null;
  const ssl = tlsOptions(params);
  const options = {
    max: config.poolMax,
    connect_timeout: config.connectTimeoutSeconds,
    idle_timeout: IDLE_TIMEOUT_SECONDS,
    backoff: (retries: number) => Math.min(0.05 * retries, MAX_RECONNECT_DELAY_SECONDS),
    ssl: socketFolder === null ? ssl : false,
    ...(host === null || socketFolder !== null ? {} : { host }),
    ...(port === null ? {} : { port: Number(port) }),
    ...(socketFolder === null ? {} : { path: `${socketFolder}/.s.PGSQL.${port ?? (new URL(dsn).port || "5432")}` }),
    ...(targetSessionAttrs === null ? {} : { target_session_attrs: targetSessionAttrs as "read-write" }),
    fetch_types: false,
    onnotice: () => {},
    transform: { undefined: null },
    connection: {
      application_name: APPLICATION_NAME,
      statement_timeout: config.statementTimeoutSeconds * 1000,
      // A transaction left open by a vanished client must not hold its row locks for long.
      idle_in_transaction_session_timeout: config.statementTimeoutSeconds * 1000,
    },
    // Every `ssl` value but false and "prefer" makes postgres.js insist on TLS.
    socket: socketFactory({ tlsRequired: socketFolder === null && ssl !== false && ssl !== "prefer", sockets }),
  };
  return [dsn, options as postgres.Options<Record<string, never>>];
}

/** What postgres.js passes to its `socket` option. */
interface SocketTarget {
  host: string[];
  port: number[];
  path: string | false;
}

/**
 * Opens the TCP (or Unix) socket for postgres.js, as postgres.js itself
 * would, with one difference: a socket that closes without an error reports
 * one. postgres.js otherwise reconnects at once, in a tight loop and without
 * ever failing the query, when the peer hangs up before the connection is
 * ready (a proxy or load balancer whose database is gone, or a peer that is
 * not PostgreSQL). postgres.js ignores the extra error when no query is
 * waiting. The socket is returned still connecting, so postgres.js's connect
 * timeout covers the TCP handshake too.
 *
 * With `tlsRequired`, a server that answers the SSLRequest with `N` (no TLS)
 * fails the connection with libpq's words, "server does not support SSL, but
 * SSL was required". postgres.js would otherwise start a TLS handshake that
 * the server reads as a malformed start-up packet, and report only
 * "connection reset".
 *
 * `sockets.open` counts the sockets open now, for the pool metrics.
 */
function socketFactory(options: { tlsRequired: boolean; sockets: SocketCount }): (target: SocketTarget) => net.Socket {
  let next = 0;
  return (target) => {
    const index = next++ % target.host.length;
    const socket = new net.Socket() as net.Socket & { host?: string; port?: number };
    options.sockets.open++;
    socket.once("close", () => options.sockets.open--);
    // postgres.js reads these for TLS server name indication (SNI, for names only). Deno's node:tls checks the
    // certificate against `_host` when there is no server name (an IP address), and "localhost" without it.
    socket.host = target.host[index];
    (socket as unknown as { _host: string })._host = socket.host;
    socket.port = target.port[index] ?? target.port[0];
    socket.once("close", (hadError: boolean) => {
      if (hadError || socket.listenerCount("error") === 0) return;
      socket.emit("error", Object.assign(new Error("The server closed the connection"), { code: "CONNECTION_CLOSED" }));
    });
    if (options.tlsRequired) refuseServerWithoutTls(socket);
    try {
      if (target.path) socket.connect(target.path);
      else socket.connect(socket.port, socket.host);
    } catch (error) {
      setTimeout(() => socket.destroy(error as Error), 0);
    }
    return socket;
  };
}

/**
 * Watches the first bytes the server sends, which answer postgres.js's
 * SSLRequest: `S` goes on to TLS; `N` destroys the socket with the error
 * `SSL_NOT_SUPPORTED` before postgres.js sees the answer.
 */
function refuseServerWithoutTls(socket: net.Socket): void {
  const original = socket.emit;
  const emit = original.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== "data") return emit(event, ...args);
    socket.emit = original;
    const chunk = args[0] as Uint8Array;
    if (chunk.length > 0 && chunk[0] === 0x4e /* N */) {
      socket.destroy(Object.assign(new Error(SSL_NOT_SUPPORTED_MESSAGE), { code: "SSL_NOT_SUPPORTED" }));
      return true;
    }
    return emit(event, ...args);
  }) as typeof socket.emit;
}

/** Client-side libpq parameters, removed from the DSN before postgres.js sees it. */
const CLIENT_PARAMETERS = [
  "host",
  "port",
  "sslmode",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "target_session_attrs",
  "connect_timeout",
];

/** Splits the client-side libpq parameters off the DSN; throws without showing the DSN when it is not a URL. */
function splitDsn(dsn: string): { dsn: string; params: URLSearchParams } {
  if (!/^postgres(ql)?:\/\//.test(dsn) || !URL.canParse(dsn)) {
    throw new Error("Cannot open the PostgreSQL store: the DSN is not a valid postgres:// URL (value not shown)");
  }
  const hash = dsn.indexOf("#");
  const withoutHash = hash === -1 ? dsn : dsn.slice(0, hash);
  const question = withoutHash.indexOf("?");
  if (question === -1) return { dsn: withoutHash, params: new URLSearchParams() };
  const query = new URLSearchParams(withoutHash.slice(question + 1));
  const params = new URLSearchParams();
  for (const name of CLIENT_PARAMETERS) {
    const value = query.get(name);
    if (value !== null) params.set(name, value);
    query.delete(name);
  }
  const rest = query.toString();
  return { dsn: withoutHash.slice(0, question) + (rest === "" ? "" : `?${rest}`), params };
}

/** The postgres.js `ssl` option for libpq's `sslmode` and certificate parameters. */
function tlsOptions(params: URLSearchParams): boolean | "prefer" | "require" | Record<string, unknown> {
  const rootCert = params.get("sslrootcert");
  let mode = params.get("sslmode") ?? "prefer";
  if (!["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].includes(mode)) {
    throw new Error(`Cannot open the PostgreSQL store: unknown sslmode "${mode}"`);
  }
  if (rootCert === "system") {
    if (params.has("sslmode") && mode !== "verify-full") {
      throw new Error(
        `Cannot open the PostgreSQL store: sslrootcert "system" needs sslmode "verify-full", not "${mode}"`,
      );
    }
    mode = "verify-full";
  }
  if (mode === "require" && rootCert !== null) mode = "verify-ca";
  const clientCert = {
    ...(params.has("sslcert") ? { cert: readPem(params.get("sslcert")!, "sslcert") } : {}),
    ...(params.has("sslkey") ? { key: readPem(params.get("sslkey")!, "sslkey") } : {}),
  };
  const hasClientCert = Object.keys(clientCert).length > 0;
  switch (mode) {
    case "disable":
      return false;
    case "allow":
    case "prefer":
      return hasClientCert ? { rejectUnauthorized: false, ...clientCert } : "prefer";
    case "require":
      return hasClientCert ? { rejectUnauthorized: false, ...clientCert } : "require";
    default: {
      const ca = rootCert === null || rootCert === "system" ? {} : { ca: readPem(rootCert, "sslrootcert") };
      const hostCheck = mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {};
      return { rejectUnauthorized: true, ...ca, ...hostCheck, ...clientCert };
    }
  }
}

function readPem(path: string, parameter: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`Cannot open the PostgreSQL store: cannot read the ${parameter} file "${path}": ${reason}`);
  }
}

/** `StoreUnavailableError` for connection-level failures; any other error unchanged. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = unavailableReason(error);
  if (reason === null) return error;
  return new StoreUnavailableError(`The PostgreSQL store is unavailable: ${reason}`, { cause: error });
}

function unavailableReason(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  if (error instanceof postgres.PostgresError) {
    if (!UNAVAILABLE_SQLSTATE.test(error.code)) return null;
    return `${error.message.split("\n")[0]} (SQLSTATE "${error.code}")`;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && Object.hasOwn(CONNECTION_ERRORS, code)) return CONNECTION_ERRORS[code];
  if (typeof code === "string" && TLS_ERROR.test(code)) return `TLS: ${error.message.split("\n")[0]} ("${code}")`;
  if (DENO_CONNECTION_ERRORS.some((type) => error instanceof type)) {
    return `${error.message.split("\n")[0]} ("${error.name}")`;
  }
  return null;
}
