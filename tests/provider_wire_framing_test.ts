/**
 * How the provider process frames its answers on the wire, read from a
 * raw socket: an answer that carries a token (over 256 characters) is
 * chunked, through the fast lane or Hono, so that Deno writes it in one
 * piece (`jsonAnswer()` of `server/envelope.ts`), and keep-alive carries on
 * after it; shorter answers keep their `Content-Length`; an HTTP/1.0
 * client gets `Content-Length` for a token too; bodiless answers (HEAD,
 * 204) carry neither a body nor a transfer coding. Loopback only, every
 * read bounded.
 */

import assert from "node:assert/strict";
import { type ProviderProcess, startProvider } from "./helpers/provider_process.ts";

const INTERNAL_KEY = "framing-internal-key-0123456789";
const ENV = {
  BUS_AUTH_HS256_SECRET: "framing-signing-secret-of-at-least-32-bytes",
  BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
  BUS_AUTH_RATE_LIMIT_PER_IP: "0",
  BUS_AUTH_OTP_SENDER: "console",
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One answer as it came off the socket. */
interface WireAnswer {
  statusLine: string;
  /** Header names in lower case. */
  headers: Map<string, string>;
  /** The body, de-chunked when it was chunked. */
  body: string;
}

/** A keep-alive connection that reads one whole answer per request, by the answer's own framing. */
class WireClient {
  #conn: Deno.Conn;
  #pending = new Uint8Array(0);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async open(provider: ProviderProcess): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(provider.url).port) }));
  }

  async exchange(request: string, options: { head?: boolean } = {}): Promise<WireAnswer> {
    await this.#conn.write(encoder.encode(request));
    const head = decoder.decode(await this.#until(() => indexOf(this.#pending, "\r\n\r\n"), 4));
    const [statusLine, ...lines] = head.slice(0, -4).split("\r\n");
    const headers = new Map(lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }));
    let body = "";
    const status = Number(statusLine.split(" ")[1]);
    if (options.head || status === 204 || status === 304) body = "";
    else if (headers.get("transfer-encoding") === "chunked") {
      while (true) {
        const sizeLine = decoder.decode(await this.#until(() => indexOf(this.#pending, "\r\n"), 2));
        const size = parseInt(sizeLine, 16);
        assert.ok(Number.isInteger(size) && /^[0-9a-f]+\r\n$/i.test(sizeLine), `chunk size line ${sizeLine}`);
        const chunk = await this.#until(() => (this.#pending.length >= size + 2 ? size : -1), 2);
        body += decoder.decode(chunk.subarray(0, size));
        assert.equal(decoder.decode(chunk.subarray(size)), "\r\n");
        if (size === 0) break;
      }
    } else if (headers.has("content-length")) {
      const length = Number(headers.get("content-length"));
      body = decoder.decode(await this.#until(() => (this.#pending.length >= length ? length : -1), 0));
    } else throw new Error(`An answer without framing: ${head}`);
    return { statusLine, headers, body };
  }

  /** Reads until `end()` finds an end in the pending bytes; takes them, and `extra` more. */
  async #until(end: () => number, extra: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(64 * 1024);
    const deadline = Date.now() + 10_000;
    while (end() < 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#conn.read(buffer),
        new Promise<never>((_, reject) =>
          timer = setTimeout(() => reject(new Error("no answer within 10 s")), deadline - Date.now())
        ),
      ]).finally(() => clearTimeout(timer));
      if (n === null) throw new Error("The provider closed the connection");
      const joined = new Uint8Array(this.#pending.length + n);
      joined.set(this.#pending);
      joined.set(buffer.subarray(0, n), this.#pending.length);
      this.#pending = joined;
    }
    const length = end() + extra;
    const taken = this.#pending.slice(0, length);
    this.#pending = this.#pending.slice(length);
    return taken;
  }

  close(): void {
    this.#conn.close();
  }
}

function indexOf(bytes: Uint8Array, text: string): number {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A JSON POST with its Content-Length, as a client sends it. */
function post(path: string, body: unknown, options: { version?: string; headers?: string } = {}): string {
  const text = JSON.stringify(body);
  return `POST ${path} ${options.version ?? "HTTP/1.1"}\r\nHost: 127.0.0.1\r\n${options.headers ?? ""}` +
    `Content-Type: application/json\r\nContent-Length: ${encoder.encode(text).length}\r\n\r\n${text}`;
}

/** A session token of a new user, by the OTP sign-in (console sender); its answer, through Hono, is chunked too. */
async function signIn(provider: ProviderProcess, client: WireClient, email: string): Promise<string> {
  const requested = await client.exchange(post("/api/v1/auth/otp/request", { email }));
  assert.equal(requested.statusLine, "HTTP/1.1 200 OK", requested.body);
  assert.equal(requested.headers.has("transfer-encoding"), false);
  const otp = await provider.waitForOtp(email);
  const verified = await client.exchange(post("/api/v1/auth/otp/verify", { email, otp }));
  assert.equal(verified.statusLine, "HTTP/1.1 200 OK", verified.body);
  assert.equal(verified.headers.get("transfer-encoding"), "chunked");
  assert.equal(verified.headers.has("content-length"), false);
  return JSON.parse(verified.body).access_token;
}

function internalTokenRequest(version: string): string {
  const body = { subject: "framing-test", audience: "ai.hg.fi/api", scope: "llm:proxy" };
  return post("/api/internal/auth/token", body, { version, headers: `X-Bus-Internal-Key: ${INTERNAL_KEY}\r\n` });
}

Deno.test({
  name:
    "a token's answer is chunked on HTTP/1.1, with Content-Length on HTTP/1.0; short and bodiless answers as before",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const provider = await startProvider(ENV);
    const clients: WireClient[] = [];
    try {
      const client = await WireClient.open(provider);
      clients.push(client);
      // An issued token's answer (about 700 bytes), through the fast lane.
      const issued = await client.exchange(internalTokenRequest("HTTP/1.1"));
      assert.equal(issued.statusLine, "HTTP/1.1 200 OK");
      assert.equal(issued.headers.get("transfer-encoding"), "chunked");
      assert.equal(issued.headers.has("content-length"), false);
      const token = JSON.parse(issued.body).access_token as string;
      assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.match(issued.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);

      // The same connection carries on: a check through the lane, a Hono route, an error answer.
      const check = await client.exchange(
        `GET /api/v1/auth/check HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      assert.equal(check.statusLine, "HTTP/1.1 200 OK");
      assert.equal(check.headers.has("transfer-encoding"), false);
      assert.equal(Number(check.headers.get("content-length")), encoder.encode(check.body).length);
      assert.equal(JSON.parse(check.body).sub, "framing-test");
      const health = await client.exchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assert.equal(JSON.parse(health.body).ok, true);
      const refused = await client.exchange("GET /api/v1/auth/check HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assert.equal(refused.statusLine, "HTTP/1.1 401 Unauthorized");
      assert.equal(refused.headers.has("transfer-encoding"), false);
      assert.equal(typeof JSON.parse(refused.body).error, "string");

      // HEAD: the head alone, and the connection still serves.
      const head = await client.exchange("HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", { head: true });
      assert.equal(head.statusLine, "HTTP/1.1 200 OK");
      const after = await client.exchange("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assert.equal(after.statusLine, "HTTP/1.1 200 OK");

      // 204: no body, no transfer coding (RFC 9112 §6.1), and the connection still serves.
      const session = await signIn(provider, client, "framing@example.com");
      const logout = await client.exchange(
        `POST /api/v1/auth/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${session}\r\n` +
          "Content-Length: 0\r\n\r\n",
      );
      assert.equal(logout.statusLine, "HTTP/1.1 204 No Content");
      assert.equal(logout.headers.has("transfer-encoding"), false);
      assert.equal(logout.headers.has("content-length"), false);
      const last = await client.exchange("GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assert.equal(last.statusLine, "HTTP/1.1 200 OK");

      // HTTP/1.0 knows no chunked coding: the same answer with its length.
      const old = await WireClient.open(provider);
      clients.push(old);
      const issuedOld = await old.exchange(internalTokenRequest("HTTP/1.0"));
      assert.equal(issuedOld.statusLine, "HTTP/1.0 200 OK");
      assert.equal(issuedOld.headers.has("transfer-encoding"), false);
      assert.equal(Number(issuedOld.headers.get("content-length")), encoder.encode(issuedOld.body).length);
      assert.match(JSON.parse(issuedOld.body).access_token, /^ey/);
    } finally {
      for (const client of clients) client.close();
      await provider.stop();
    }
  },
});
