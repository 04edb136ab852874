/**
 * One JSON request to a provider process, for end-to-end tests.
 *
 * @module
 */

/** A decoded answer. */
export interface JsonReply {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** Options of {@link callJson}: POST when a body is given, else GET, unless `method` says otherwise. */
export interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

/** Sends one request (at most 30 s) and parses the JSON answer (`null` for an empty body). */
export async function callJson(url: string, options: CallOptions = {}): Promise<JsonReply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text), headers: response.headers };
}
