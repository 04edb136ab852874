import assert from "node:assert/strict";
import { requestJson } from "./http.ts";
import { FailureError } from "./errors.ts";

Deno.test("requestJson() names the reason when nothing listens on the port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const url = `http://127.0.0.1:${port}/api/v1/auth/status`;
  await assert.rejects(requestJson({ method: "GET", url, timeoutSeconds: 5 }), (error: unknown) => {
    assert.ok(error instanceof FailureError);
    assert.equal(error.code, "unreachable");
    assert.equal(error.message, `Cannot reach ${url}: connection refused (nothing listens there)`);
    return true;
  });
});

Deno.test("requestJson() names a timeout when the server accepts but never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/status`;
    await assert.rejects(
      requestJson({ method: "GET", url, timeoutSeconds: 1 }),
      new RegExp(`^FailureError: Cannot reach ${url}: no answer within 1 s \\(timeout\\)$`),
    );
  } finally {
    listener.close();
    held.forEach((conn) => conn.close());
    await accepting.catch(() => {});
  }
});

Deno.test("requestJson() names a TLS failure when an https URL reaches a plain HTTP server", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => Response.json({}));
  try {
    const url = `https://127.0.0.1:${server.addr.port}/status`;
    await assert.rejects(
      requestJson({ method: "GET", url, timeoutSeconds: 5 }),
      /: TLS failure: the server did not answer with TLS \(http:\/\/ instead of https:\/\/\?\)$/,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("requestJson() names an unresolvable host name (.invalid never resolves)", async () => {
  await assert.rejects(
    requestJson({ method: "GET", url: "http://bus-auth-test.invalid/status", timeoutSeconds: 10 }),
    /: host name not resolved \(DNS lookup failed\)$/,
  );
});

Deno.test("requestJson() names an untrusted server certificate", async () => {
  const { TEST_TLS } = await import("../../tests/helpers/smtp_catcher.ts");
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {}, ...TEST_TLS }, () => Response.json({}));
  try {
    await assert.rejects(
      requestJson({ method: "GET", url: `https://127.0.0.1:${server.addr.port}/status`, timeoutSeconds: 5 }),
      /: TLS failure: the server's certificate is not trusted \(UnknownIssuer\)$/,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("requestJson() sends a form when given one and reads an OAuth error's error_description", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.text();
    if (body.includes("grant_type=password")) {
      return Response.json({ error: "unsupported_grant_type", error_description: "Use client_credentials" }, {
        status: 400,
      });
    }
    return Response.json({ type: request.headers.get("Content-Type"), body });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/token`;
    const answer = await requestJson({
      method: "POST",
      url,
      form: { grant_type: "client_credentials", scope: "a:b c" },
      timeoutSeconds: 5,
    });
    assert.deepEqual(answer, {
      type: "application/x-www-form-urlencoded",
      body: "grant_type=client_credentials&scope=a%3Ab+c",
    });
    await assert.rejects(
      requestJson({ method: "POST", url, form: { grant_type: "password" }, timeoutSeconds: 5 }),
      /^RefusedError: Use client_credentials \(unsupported_grant_type, HTTP 400\)$/,
    );
  } finally {
    await server.shutdown();
  }
});
