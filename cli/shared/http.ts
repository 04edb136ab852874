/**
 * The JSON-over-HTTP client of the CLIs. It maps every outcome to the exit
 * codes of DESIGN §6: 2xx returns the body, 4xx throws {@link RefusedError}
 * with the server's message and code, 5xx and network failures throw
 * {@link FailureError} naming the URL and the reason.
 *
 * @module
 */

import { FailureError, RefusedError } from "./errors.ts";

/** One request. */
export interface JsonRequest {
  method: "GET" | "POST";
  url: string;
  /** Sent as `Authorization: Bearer …`. */
  bearer?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutSeconds: number;
}

/**
 * Sends a request and returns the parsed JSON body (`null` for 204).
 *
 * @throws {RefusedError} on 4xx
 * @throws {FailureError} on 5xx, network failure, timeout or a non-JSON answer
 */
export async function requestJson(request: JsonRequest): Promise<unknown> {
  const headers: Record<string, string> = { Accept: "application/json", ...request.headers };
  if (request.bearer !== undefined) headers.Authorization = `Bearer ${request.bearer}`;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutSeconds * 1000),
      redirect: "manual",
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new FailureError(
      `Cannot reach ${request.url}: ${networkReason(error, request.timeoutSeconds)}`,
      "unreachable",
    );
  }
  const text = await response.text().catch(() => "");
  if (response.status === 204) return null;
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (response.status >= 200 && response.status < 300 && body !== null) return body;
  const error = typeof body === "object" && body !== null ? body as Record<string, unknown> : {};
  const code = typeof error.error === "string" ? error.error : `http_${response.status}`;
  const message = typeof error.message === "string"
    ? error.message
    : `${response.status} ${response.statusText}`.trim();
  if (response.status >= 400 && response.status < 500) {
    throw new RefusedError(`${message} (${code}, HTTP ${response.status})`, code, response.status);
  }
  if (response.status >= 300 && response.status < 400) {
    throw new FailureError(
      `Unexpected redirect from ${request.url} (HTTP ${response.status}): check the API URL`,
      "unexpected_redirect",
      { httpStatus: response.status },
    );
  }
  throw new FailureError(
    response.status >= 500
      ? `The auth provider at ${request.url} failed: ${message} (${code}, HTTP ${response.status})`
      : `Unexpected answer from ${request.url} (HTTP ${response.status}): not the auth provider's JSON`,
    response.status >= 500 ? code : "unexpected_answer",
    { httpStatus: response.status },
  );
}

/**
 * Why a request got no answer, in a few words. Deno's fetch says only
 * "fetch failed"; the reason is in the `cause` chain.
 */
export function networkReason(error: unknown, timeoutSeconds: number): string {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutSeconds} s (timeout)`;
  }
  const text = causeChain(error).join(": ");
  const blocked = /Requests to port (\d+) are blocked/i.exec(text);
  if (blocked) return `port ${blocked[1]} is blocked by the runtime's fetch (a "bad port"); use another port`;
  if (/connection refused/i.test(text)) return "connection refused (nothing listens there)";
  if (/dns error|failed to lookup|name or service not known|nodename nor servname|no address associated/i.test(text)) {
    return "host name not resolved (DNS lookup failed)";
  }
  const certificate = /invalid peer certificate: ([^\n]*)/i.exec(text);
  if (certificate) return `TLS failure: the server's certificate is not trusted (${certificate[1].slice(0, 120)})`;
  if (/corrupt message|InvalidContentType|wrong version number/i.test(text)) {
    return "TLS failure: the server did not answer with TLS (http:// instead of https://?)";
  }
  if (/tls|ssl|handshake|certificate/i.test(text)) return `TLS failure (${lastCause(error).slice(0, 160)})`;
  if (/connection reset/i.test(text)) return "connection reset by the server";
  if (/network is unreachable|no route to host|host is unreachable/i.test(text)) return "network unreachable";
  if (/timed out/i.test(text)) return "connection timed out";
  return lastCause(error).split("\n")[0].slice(0, 200);
}

/** The messages of an error and its causes, outermost first. */
function causeChain(error: unknown): string[] {
  const messages: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    messages.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages;
}

function lastCause(error: unknown): string {
  const chain = causeChain(error);
  return chain[chain.length - 1] ?? "unknown error";
}
