import assert from "node:assert/strict";
import { networkReason } from "./network_reason.ts";

/** An error shaped like Deno's fetch failure: "fetch failed" with the reason in the cause. */
function fetchFailure(cause: string): TypeError {
  return new TypeError("fetch failed", { cause: new Error(cause) });
}

Deno.test("networkReason() reads the reason from the cause chain of Deno's fetch error", () => {
  const cases: [Error, RegExp][] = [
    [
      fetchFailure("client error (Connect): tcp connect error: Connection refused (os error 111)"),
      /^connection refused/,
    ],
    [
      fetchFailure(
        "client error (Connect): dns error: failed to lookup address information: Name or service not known",
      ),
      /^host name not resolved/,
    ],
    [
      fetchFailure("client error (Connect): invalid peer certificate: UnknownIssuer"),
      /^TLS failure: the server's certificate is not trusted \(UnknownIssuer\)$/,
    ],
    [
      fetchFailure("client error (Connect): received corrupt message of type InvalidContentType"),
      /^TLS failure: the server did not answer with TLS/,
    ],
    [new TypeError("Fetch failed: Requests to port 9 are blocked"), /^port 9 is blocked by the runtime's fetch/],
    [fetchFailure("connection reset by peer (os error 104)"), /^connection reset by the server$/],
    [fetchFailure("client error (Connect): Network is unreachable (os error 101)"), /^network unreachable$/],
  ];
  for (const [error, expected] of cases) assert.match(networkReason(error, 30), expected);
  assert.equal(
    networkReason(new DOMException("The operation was aborted due to timeout", "TimeoutError"), 7),
    "no answer within 7 s (timeout)",
  );
});
