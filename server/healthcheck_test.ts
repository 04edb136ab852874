import assert from "node:assert/strict";
import { defaultHealthUrl } from "./healthcheck.ts";

Deno.test("defaultHealthUrl() asks the root /healthz of BUS_AUTH_LISTEN, wildcards on loopback", () => {
  const cases: [string | undefined, string | null][] = [
    [undefined, "http://127.0.0.1:8080/healthz"],
    ["", "http://127.0.0.1:8080/healthz"],
    ["0.0.0.0:8080", "http://127.0.0.1:8080/healthz"],
    ["[::]:9000", "http://[::1]:9000/healthz"],
    ["127.0.0.2:8081", "http://127.0.0.2:8081/healthz"],
    ["[::1]:8080", "http://[::1]:8080/healthz"],
    ["auth.internal:80", "http://auth.internal:80/healthz"],
    ["127.0.0.1:0", null],
    ["8080", null],
    ["127.0.0.1:70000", null],
  ];
  for (const [listen, expected] of cases) {
    // The route prefix changes nothing: /healthz is always served at the root.
    const env = { BUS_AUTH_LISTEN: listen, BUS_AUTH_ROUTE_PREFIX: "/local-dev/v1" };
    assert.equal(defaultHealthUrl(env), expected, String(listen));
  }
});
