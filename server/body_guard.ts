/**
 * Reads the request body once, before any route: at most `maxBytes`, within
 * `timeoutSeconds`, and a body whose bytes cannot be read (broken chunked
 * framing, a connection cut mid-body) is a 400, never a 500. A body that
 * fails any of these asks the server to close the connection after the
 * answer, since where the next request would start is no longer known.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { type AuthError, InvalidInputError, PayloadTooLargeError, RequestTimeoutError } from "../lib/errors.ts";
import type { AppEnv } from "./env.ts";

/**
 * Bytes past the limit that are still read and dropped, so that a client
 * that sends its whole body before reading (most do) gets the 413 instead
 * of a connection reset. Beyond it the answer is sent and the connection
 * closed at once.
 */
export const DRAIN_BYTES = 16 * 1024 * 1024;

/** Limits of {@link bodyGuard}. */
export interface BodyGuardOptions {
  maxBytes: number;
  timeoutSeconds: number;
  /** Default {@link DRAIN_BYTES}. */
  drainBytes?: number;
}

/**
 * The middleware: leaves the body read (as text, in Hono's body cache) or
 * in memory in a replaced request, or throws `body_too_large` (413),
 * `body_timeout` (408) or `invalid_body` (400) and asks for the connection
 * to be closed.
 */
export function bodyGuard(options: BodyGuardOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const raw = c.req.raw;
    if (declaresNoBody(raw)) return await next();
    // The usual request: a declared length within the limit, often already
    // buffered by the runtime. Hono caches the text for the route.
    const read = declaresLengthWithin(raw, options.maxBytes)
      ? await readDeclared(c.req.text(), options.timeoutSeconds)
      : await readStreamed(c, options);
    const failed = typeof read === "string" ? null : read;
    if (failed) {
      c.env?.closeConnection?.({ bodyLeft: failed.bodyLeft });
      c.header("Connection", "close");
      throw failed.error;
    }
    await next();
  };
}

/**
 * Whether a request comes without a body: no chunked framing, and a length
 * of 0 or none and no body stream. Such a request passes the guard at
 * once, and only such a request may take the fast lane (`fast_lane.ts`).
 */
export function declaresNoBody(request: Request): boolean {
  const headers = request.headers;
  if (headers.has("transfer-encoding")) return false;
  const declared = headers.get("content-length");
  return declared === "0" || (declared === null && request.body === null);
}

/**
 * Whether a request declares a body by its length, within `maxBytes`, and
 * not chunked: the guard reads it whole with {@link readDeclared}, and the
 * fast lane may take it.
 */
export function declaresLengthWithin(request: Request, maxBytes: number): boolean {
  const headers = request.headers;
  const declared = headers.get("content-length");
  return declared !== null && !headers.has("transfer-encoding") && Number(declared) <= maxBytes;
}

/** Why a body is refused, and whether bytes of it are left unread. */
export type BodyFailure = { error: AuthError; bodyLeft: boolean };

/**
 * Waits for a body's text (`text`, as `request.text()` gives it), at most
 * `timeoutSeconds`: the text, or why it is refused (`body_timeout`,
 * `invalid_body` for bytes that cannot be read).
 */
export async function readDeclared(text: Promise<string>, timeoutSeconds: number): Promise<string | BodyFailure> {
  let cancel: () => unknown = () => {};
  const late = new Promise<null>((resolve) => cancel = DEADLINES.watch(timeoutSeconds * 1000, () => resolve(null)));
  try {
    const read = await Promise.race([text, late]);
    return read === null ? timedOut(timeoutSeconds) : read;
  } catch {
    return unreadable();
  } finally {
    cancel();
  }
}

/**
 * One coarse clock for the bodies being read, instead of a timer per
 * request: a `setTimeout` and its `clearTimeout` cost about 8 µs of each
 * POST (A/B of `POST {A}/token`, 85 against 78 µs of CPU a request), and
 * starting and stopping a shared interval as often costs more. So the clock
 * is one interval, started when the module loads, that keeps the process
 * alive only while a body is being read; a body is late at most
 * {@link DEADLINE_TICK_MS} after its deadline.
 */
class Deadlines {
  #pending = new Set<{ at: number; fire: () => void }>();
  #timer: ReturnType<typeof setInterval>;

  constructor(tickMs: number) {
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref();
  }

  /** Calls `fire` once `ms` have passed, unless the returned function is called first. */
  watch(ms: number, fire: () => void): () => unknown {
    const entry = { at: Date.now() + ms, fire };
    // While a body is being read, the clock keeps the process alive as a timer of its own would.
    if (this.#pending.size === 0) this.#timer.ref();
    this.#pending.add(entry);
    return () => this.#remove(entry);
  }

  #remove(entry: { at: number; fire: () => void }): void {
    if (this.#pending.delete(entry) && this.#pending.size === 0) this.#timer.unref();
  }

  #tick(): void {
    if (this.#pending.size === 0) return;
    const now = Date.now();
    for (const entry of this.#pending) {
      if (entry.at > now) continue;
      this.#remove(entry);
      entry.fire();
    }
  }
}

/** How often the clock of {@link Deadlines} looks at the bodies being read. */
const DEADLINE_TICK_MS = 250;
const DEADLINES = new Deadlines(DEADLINE_TICK_MS);

async function readStreamed(c: Context<AppEnv>, options: BodyGuardOptions): Promise<BodyFailure | null> {
  const raw = c.req.raw;
  if (raw.body === null) return null;
  const read = await readBody(raw, options);
  if ("error" in read) return read;
  const headers = new Headers(raw.headers);
  headers.delete("transfer-encoding");
  headers.set("content-length", String(read.bytes.byteLength));
  c.req.raw = new Request(raw.url, { method: raw.method, headers, body: read.bytes });
  return null;
}

function timedOut(timeoutSeconds: number): BodyFailure {
  const message = `The request body did not arrive within ${timeoutSeconds} seconds`;
  return { error: new RequestTimeoutError("body_timeout", message), bodyLeft: true };
}

/** The runtime has already dropped the connection's request stream: nothing is left to read. */
function unreadable(): BodyFailure {
  const message = "The request body could not be read: its framing is broken or it was cut short";
  return { error: new InvalidInputError("invalid_body", message), bodyLeft: false };
}

/** What reading a streamed body gave. */
type BodyRead = { bytes: Uint8Array<ArrayBuffer> } | BodyFailure;

async function readBody(request: Request, options: BodyGuardOptions): Promise<BodyRead> {
  const { maxBytes, timeoutSeconds } = options;
  const drainBytes = Math.max(options.drainBytes ?? DRAIN_BYTES, maxBytes);
  const tooLarge = (bodyLeft: boolean) => ({
    error: new PayloadTooLargeError("body_too_large", `The request body is larger than ${maxBytes} bytes`),
    bodyLeft,
  });
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > drainBytes) return tooLarge(true);
  const reader = request.body!.getReader();
  let late = false;
  const cancel = DEADLINES.watch(timeoutSeconds * 1000, () => {
    late = true;
    reader.cancel().catch(() => {});
  });
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  let ended = false;
  let broken = false;
  try {
    while (size <= drainBytes) {
      const { done, value } = await reader.read();
      if (done) {
        ended = !late;
        break;
      }
      size += value.byteLength;
      if (size <= maxBytes) chunks.push(value as Uint8Array<ArrayBuffer>);
    }
  } catch {
    broken = !late;
  } finally {
    cancel();
  }
  if (size > maxBytes || declared > maxBytes) return tooLarge(!ended);
  if (broken) return unreadable();
  if (late) return timedOut(timeoutSeconds);
  return { bytes: concat(chunks, size) };
}

function concat(chunks: Uint8Array<ArrayBuffer>[], size: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
