/**
 * Malformed HTTP/1.1 on a real socket, for what `app.request()` cannot
 * produce: chunked transfer encoding (well-formed and broken), bodies that
 * end early, conflicting or bogus framing headers, NULs and line breaks in
 * headers, oversized headers and garbage request lines. Every request says
 * `Connection: close`.
 *
 * @module
 */

import type { Random } from "./fuzz_random.ts";

/** What a wire case may use. */
export interface WireTarget {
  /** `host:port` for the Host header. */
  host: string;
  /** A live admin token (admin:manage), for routes that read the body only when authorized. */
  admin: string;
  internalKey: string;
  maxBodyBytes: number;
}

/** One raw request. */
export interface WireCase {
  what: string;
  bytes: Uint8Array;
  /**
   * The framing is broken inside the body or the headers, so the server
   * may close the connection without an answer; when it answers, the
   * status must still be below 500.
   */
  mayDrop: boolean;
  /**
   * Half-close after sending: the request is incomplete, and only the end
   * of the stream tells the server so. Complete requests are not
   * half-closed (the server may drop a connection the client half-closed
   * before answering).
   */
  halfClose: boolean;
}

/** The answer: the status of the first response line, or `null` when the server closed without one. */
export interface WireAnswer {
  status: number | null;
  head: string;
}

/** Bodies that every route refuses (the internal endpoint too, where every field is optional). */
const BODIES = [
  "{",
  '{"email":1,"jti":1,"otp":1,"subject":"has space","ttl_seconds":"x"}',
  '{"email":"a\\u0000b@example.com","jti":"nope","otp":"1","subject":"a\\u0000b","ttl_seconds":-1}',
  '{"email":"not an email","jti":"nope","otp":"x","subject":"","ttl_seconds":0}',
  "[]",
  "",
];

const ROUTES: [string, (t: WireTarget) => string][] = [
  ["/api/v1/auth/register", () => ""],
  ["/modules/auth/otp/request", () => ""],
  ["/auth/otp/verify", () => ""],
  ["/api/v1/auth/admin/approve", (t) => `Authorization: Bearer ${t.admin}\r\n`],
  ["/api/v1/auth/admin/tokens/revoke", (t) => `Authorization: Bearer ${t.admin}\r\n`],
  ["/api/internal/auth/token", (t) => `X-Bus-Internal-Key: ${t.internalKey}\r\n`],
];

const encoder = new TextEncoder();

/** Draws one raw request. */
export function wireCase(r: Random, t: WireTarget): WireCase {
  const [path, auth] = r.pick(ROUTES);
  const head = (extra: string, method = "POST") =>
    `${method} ${path} HTTP/1.1\r\nHost: ${t.host}\r\nConnection: close\r\nContent-Type: application/json\r\n${
      auth(t)
    }${extra}`;
  const body = r.pick(BODIES);
  const chunked = (text: string, pieces = r.int(1, 6)) => {
    const bytes = encoder.encode(text);
    const size = Math.max(1, Math.ceil(bytes.length / pieces));
    let out = "";
    for (let i = 0; i < bytes.length; i += size) {
      const piece = new TextDecoder().decode(bytes.slice(i, i + size));
      out += `${encoder.encode(piece).length.toString(16)}${r.chance(0.2) ? ";ext=1" : ""}\r\n${piece}\r\n`;
    }
    return out;
  };
  // [what, bytes, may the server drop it, half-close after sending]
  const cases: (() => [string, string | Uint8Array, boolean, boolean?])[] = [
    () => ["chunked malformed JSON", `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunked(body)}0\r\n\r\n`, false],
    () => [
      "chunked body with a trailer",
      `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunked(body)}0\r\nX-Trailer: 1\r\n\r\n`,
      false,
    ],
    () => {
      const huge = `{"email":"${"a".repeat(r.int(t.maxBodyBytes + 1, t.maxBodyBytes * 3))}"}`;
      return ["huge chunked body", `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunked(huge, 40)}0\r\n\r\n`, false];
    },
    () => [
      "chunked body that ends early",
      `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunked(body || "{")}`,
      true,
      true,
    ],
    () => [
      "chunk size larger than its data",
      `${head("Transfer-Encoding: chunked\r\n\r\n")}${r.pick(["ff", "10000", "7fffffff"])}\r\n{"email":1}`,
      true,
      true,
    ],
    () => [
      "bogus chunk size",
      `${head("Transfer-Encoding: chunked\r\n\r\n")}${
        r.pick(["zz", "-1", "ffffffffffffffffffff", "1 1", "", "0x10"])
      }\r\n{}\r\n0\r\n\r\n`,
      true,
      true,
    ],
    () => [
      "chunk without its CRLF",
      `${head("Transfer-Encoding: chunked\r\n\r\n")}2\r\n{}XX0\r\n\r\n`,
      true,
      true,
    ],
    () => [
      "Content-Length and Transfer-Encoding",
      `${head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n`)}${chunked(body)}0\r\n\r\n`,
      true,
    ],
    () => [
      "unsupported transfer coding",
      `${head(`Transfer-Encoding: ${r.pick(["gzip, chunked", "chunked, identity", "xchunked", "identity"])}\r\n\r\n`)}${
        chunked(body)
      }0\r\n\r\n`,
      true,
      true,
    ],
    () => [
      "Content-Length larger than the body",
      `${head(`Content-Length: ${body.length + 50}\r\n\r\n`)}${body}`,
      true,
      true,
    ],
    () => [
      "bogus Content-Length",
      `${
        head(`Content-Length: ${r.pick(["abc", "-5", "1,2", "1e3", " 5 5", "99999999999999999999"])}\r\n\r\n`)
      }${body}`,
      true,
    ],
    () => [
      "conflicting Content-Lengths",
      `${head(`Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n\r\n`)}${body}`,
      true,
    ],
    () => ["huge Content-Length", `${head(`Content-Length: ${r.int(1e9, 1e12)}\r\n\r\n`)}${body}`, true],
    () => {
      const bad = r.pick(["\u0000", "\r", "\u0001", "\u007f"]);
      return ["control character in a header", `${head(`X-Fuzz: a${bad}b\r\nContent-Length: 0\r\n\r\n`)}`, true];
    },
    () => [
      "NUL in the Authorization header",
      `${head("Authorization: Bearer a\u0000b\r\nContent-Length: 0\r\n\r\n")}`,
      true,
    ],
    () => ["header without a colon", `${head("NoColonHere\r\nContent-Length: 0\r\n\r\n")}`, true],
    () => ["obsolete line folding", `${head("X-Fuzz: a\r\n b\r\nContent-Length: 0\r\n\r\n")}`, true],
    () => [
      "oversized Authorization header",
      `${head(`Authorization: Bearer ${"x".repeat(r.int(20_000, 300_000))}\r\nContent-Length: 0\r\n\r\n`)}`,
      true,
    ],
    () => ["many headers", `${head(`${"X-Fuzz: 1\r\n".repeat(r.int(100, 2000))}Content-Length: 0\r\n\r\n`)}`, true],
    () => [
      "bad request line",
      `${
        r.pick([
          "G@T / HTTP/1.1",
          "GET  / HTTP/1.1",
          "GET /api/v1/auth/status http/1.1",
          "GET",
          "/ HTTP/1.1",
          "GET /\u0000 HTTP/1.1",
          "GET /%%% HTTP/1.1",
        ])
      }\r\nHost: ${t.host}\r\nConnection: close\r\n\r\n`,
      true,
      true,
    ],
    () => ["random bytes", r.bytes(r.int(1, 2000)), true, true],
    () => [
      "Expect: 100-continue with a malformed body",
      `${head(`Expect: 100-continue\r\nContent-Length: ${encoder.encode(body).length}\r\n\r\n`)}${body}`,
      false,
    ],
    () => ["HTTP/1.0 without a Host", `POST ${path} HTTP/1.0\r\nContent-Length: 1\r\n\r\n{`, false],
  ];
  const [what, data, mayDrop, halfClose = false] = r.pick(cases)();
  return { what, bytes: typeof data === "string" ? encoder.encode(data) : data, mayDrop, halfClose };
}

/**
 * Sends a raw request (half-closing when the case says so) while reading
 * until the head of the final answer has arrived, the server closes, or
 * `timeoutMs` passes. Reading runs alongside writing, so an answer the
 * server gives before the body ends (413) is seen before it resets the
 * connection. A write fails when the server hangs up first; that is fine.
 */
export async function sendRaw(port: number, request: WireCase, timeoutMs: number): Promise<WireAnswer> {
  const { bytes, halfClose } = request;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const timer = setTimeout(close, timeoutMs);
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    const buffer = new Uint8Array(16 * 1024);
    let total = 0;
    while (total < 64 * 1024) {
      let read: number | null;
      try {
        read = await conn.read(buffer);
      } catch {
        return;
      }
      if (read === null) return;
      chunks.push(buffer.slice(0, read));
      total += read;
      // The head of the final answer is all that is needed.
      if (/^HTTP\/1\.[01] [2-5]\d\d[^]*?\r\n\r\n/m.test(new TextDecoder().decode(concat(chunks)))) return;
    }
  })();
  try {
    for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
    if (halfClose) await conn.closeWrite();
  } catch {
    // The server answered and closed before the request ended.
  }
  await reading;
  clearTimeout(timer);
  close();
  const text = new TextDecoder().decode(concat(chunks));
  // An interim "100 Continue" may come first.
  const statuses = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((match) => Number(match[1]));
  const status = statuses.find((code) => code >= 200) ?? null;
  return { status, head: text.split("\r\n")[0]?.slice(0, 120) ?? "" };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
