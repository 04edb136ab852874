/**
 * The JSON-over-HTTP client of the CLIs. It maps every outcome to the exit
 * codes of DESIGN §6: 2xx returns the body, 4xx throws {@link RefusedError}
 * with the server's message and code, 5xx and network failures throw
 * {@link FailureError} naming the URL and the reason.
 *
 * @module
 */

import { networkReason } from "../../lib/network_reason.ts";
import { FailureError, RefusedError } from "./errors.ts";

/** One request. */
export interface JsonRequest {
  method: "GET" | "POST" | "PUT";
  url: string;
  /** Sent as `Authorization: Bearer …`. */
  bearer?: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent form-encoded (`application/x-www-form-urlencoded`) instead, as OAuth token requests are. */
  form?: Record<string, string>;
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
  let payload: string | undefined;
  if (request.form !== undefined) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    payload = new URLSearchParams(request.form).toString();
  } else if (request.body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(request.body);
  }
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers,
      body: payload,
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
  // OAuth servers (RFC 6749 §5.2) say error_description; the auth provider says both.
  const description = error.message ?? error.error_description;
  const message = typeof description === "string" ? description : `${response.status} ${response.statusText}`.trim();
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
