/**
 * Why an HTTP request got no answer, in a few words a user can act on.
 * Deno's fetch says only "fetch failed"; the reason is in the `cause` chain.
 * Shared by the CLIs and the provider's `healthcheck`.
 *
 * @module
 */

/**
 * The reason of a failed `fetch`, or of its timeout after `timeoutSeconds`.
 *
 * @example
 * ```ts
 * networkReason(new TypeError("fetch failed", { cause: new Error("tcp connect error: Connection refused") }), 30);
 * // "connection refused (nothing listens there)"
 * ```
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
