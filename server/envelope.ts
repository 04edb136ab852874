/**
 * What every request gets around its route, whichever way it is dispatched
 * (Hono's middleware in `app.ts`, or the fast lane of `fast_lane.ts`): a
 * request id, the client's address, the headers every answer carries, and
 * one log line.
 *
 * @module
 */

import { type Cidr, resolveClientIp } from "../lib/ip.ts";
import { RequestLogRecord } from "./logger.ts";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Who sent a request: its id (the caller's `X-Request-Id` when well formed, else a new one) and its client address. */
export interface RequestOrigin {
  requestId: string;
  clientIp: string;
}

/**
 * The id and client address of a request. `peer` is the address of the
 * connection; `X-Forwarded-For` is read only when some proxy is trusted.
 */
export function requestOrigin(request: Request, peer: string, trusted: readonly Cidr[]): RequestOrigin {
  const headers = request.headers;
  const incoming = headers.get("X-Request-Id");
  const requestId = incoming !== null && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  const forwarded = trusted.length === 0 ? null : headers.get("X-Forwarded-For");
  return { requestId, clientIp: resolveClientIp(peer, forwarded, trusted) };
}

/**
 * Adds the headers every answer carries to the route's answer: its request
 * id, `nosniff`, and `Cache-Control: no-store` unless the route chose a
 * policy (the public key set is cacheable). They are added to the finished
 * answer, whichever route made it. End to end they cost about 4 µs of CPU a
 * request however they are given (set afterwards, or to the constructor):
 * only an answer whose one header is `Content-Type` leaves on Deno 2.9's
 * fastest path (`docs/BENCHMARKS.md`, "Where a request's CPU goes").
 *
 * @returns `response` itself, or a copy with the headers when its headers are immutable (`Response.redirect`)
 */
export function withCommonHeaders(response: Response, requestId: string): Response {
  let answer = response;
  let headers: Headers;
  try {
    headers = answer.headers;
    headers.set("X-Request-Id", requestId);
  } catch {
    answer = new Response(answer.body, answer);
    headers = answer.headers;
    headers.set("X-Request-Id", requestId);
  }
  headers.set("X-Content-Type-Options", "nosniff");
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
  return answer;
}

/**
 * Longest JSON body, in characters, that {@link jsonAnswer} sends with a
 * `Content-Length`: with the longest head of such an answer (about 250
 * bytes, with a 64-character request id) it fits the runtime's 512-byte
 * write buffer.
 */
export const SINGLE_WRITE_BODY_CHARS = 256;

/**
 * A `200` JSON answer, marked `Transfer-Encoding: chunked` when
 * its body is longer than {@link SINGLE_WRITE_BODY_CHARS}, so that it still
 * leaves in one write. Deno 2.9's HTTP/1.1 writer sends head and body with
 * one `send` only while both fit its 512-byte buffer; a larger answer with
 * a `Content-Length` (every issued token's: about 700 bytes) goes out in
 * two, and the second costs about 10 µs of CPU on loopback. A chunked
 * answer is framed in the same buffer, grown as needed, up to 64 KiB. The
 * runtime drops the header where it does not apply: an HTTP/1.0 client
 * gets `Content-Length`, HTTP/2 its own framing. A short answer keeps its
 * `Content-Length`: chunked framing costs it about 2 µs (`check`, A/B).
 */
export function jsonAnswer(json: unknown): Response {
  const text = JSON.stringify(json);
  const answer = new Response(text, { headers: { "Content-Type": "application/json" } });
  if (text.length > SINGLE_WRITE_BODY_CHARS) answer.headers.set("Transfer-Encoding", "chunked");
  return answer;
}

/** The one log line of an answered request. */
export function requestRecord(
  origin: RequestOrigin,
  method: string,
  path: string,
  status: number,
  milliseconds: number,
): RequestLogRecord {
  return new RequestLogRecord(
    origin.requestId,
    method,
    path,
    status,
    Math.round(milliseconds * 100) / 100,
    origin.clientIp,
  );
}
