import assert from "node:assert/strict";
import type { LogRecord } from "./env.ts";
import { LINGER_MS, serveGuarded } from "./guarded_server.ts";

const encoder = new TextEncoder();

/** Writes `text` and reads until the server closes; `null` status when it sent nothing. */
async function exchange(port: number, text: string, waitMs = 5_000) {
  const started = Date.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(text));
  let received = "";
  const buffer = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    (async () => {
      try {
        for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
          received += new TextDecoder().decode(buffer.subarray(0, n));
        }
      } catch {
        // reset
      }
      return true;
    })(),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), waitMs)),
  ]);
  clearTimeout(timer);
  conn.close();
  const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
  return { status: status ? Number(status) : null, received, closed, ms: Date.now() - started };
}

function start(options: { headerTimeoutSeconds?: number; hook?: null } = {}) {
  const stop = new AbortController();
  const logs: LogRecord[] = [];
  const server = serveGuarded({
    hostname: "127.0.0.1",
    port: 0,
    headerTimeoutSeconds: options.headerTimeoutSeconds ?? 0.4,
    signal: stop.signal,
    log: (record) => logs.push(record),
    onListen: () => {},
    ...(options.hook === null ? { serveOnConnection: null } : {}),
  }, (request, env) => {
    if (new URL(request.url).pathname === "/close") {
      env.closeConnection?.({ bodyLeft: true });
      return Response.json({ closing: true });
    }
    return Response.json({ peer: env.remoteAddr?.hostname ?? null });
  });
  return { port: server.addr.port, logs, stop: async () => (stop.abort(), await server.finished) };
}

Deno.test("serveGuarded closes a connection whose request head is unfinished at the header timeout, serving others meanwhile", async () => {
  const server = start();
  try {
    const stalled = exchange(server.port, "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    const whole = await exchange(server.port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal(whole.status, 200);
    assert.match(whole.received, /"peer":"127\.0\.0\.1"/);
    const answer = await stalled;
    assert.equal(answer.closed, true);
    assert.equal(answer.status, null);
    assert.ok(answer.ms >= 390 && answer.ms < 2_000, `closed after ${answer.ms} ms`);
  } finally {
    await server.stop();
  }
});

Deno.test("serveGuarded closes an idle keep-alive connection after the header timeout", async () => {
  const server = start();
  try {
    const answer = await exchange(server.port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(answer.status, 200);
    assert.equal(answer.closed, true);
    assert.ok(answer.ms >= 390, `closed after ${answer.ms} ms`);
  } finally {
    await server.stop();
  }
});

Deno.test("serveGuarded closes, after its answer, a connection the app gave up on while its body was unread", async () => {
  const server = start({ headerTimeoutSeconds: 30 });
  try {
    const answer = await exchange(server.port, "POST /close HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{");
    assert.equal(answer.status, 200);
    assert.match(answer.received, /"closing":true/);
    assert.equal(answer.closed, true);
    assert.ok(answer.ms >= LINGER_MS - 10 && answer.ms < LINGER_MS + 2_000, `closed after ${answer.ms} ms`);
  } finally {
    await server.stop();
  }
});

Deno.test("serveGuarded stops on its signal: the port is released and finished resolves", async () => {
  const server = start();
  const open = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await server.stop();
  open.close();
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: server.port }), Deno.errors.ConnectionRefused);
});

Deno.test("without the runtime's per-connection server, serveGuarded falls back to Deno.serve and says what is lost", async () => {
  const server = start({ hook: null });
  try {
    const answer = await exchange(server.port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal(answer.status, 200);
    assert.equal(server.logs.length, 1);
    assert.equal(server.logs[0].level, "warn");
    assert.match(String(server.logs[0].msg), /stalled connections are not closed/);
  } finally {
    await server.stop();
  }
});
