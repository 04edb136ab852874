/**
 * Malformed requests for `app.request()` fuzzing: bad JSON, wrong JSON
 * types, huge and streamed (chunked) bodies, control characters and NULs,
 * bad cursors and limits, wrong methods and content types, bad or oversized
 * Authorization headers, and random paths under every route prefix.
 *
 * Every request is built so that it cannot succeed in changing state: emails
 * are never valid mailboxes unless unknown to the store, OTPs never have the
 * code's shape, scopes asked of `/token` are never allowed, token ids to
 * revoke are never UUIDs, and the known session token is never sent to
 * `refresh` or `logout`. The fuzz test checks that this holds.
 *
 * @module
 */

import { base64url } from "jose";
import { AUTH_BASES } from "../../server/app.ts";
import type { Random } from "./fuzz_random.ts";
import {
  badEmail,
  badQueryValue,
  BODY_ROUTES,
  type BodyRoute,
  CONTROL,
  encode,
  NASTY,
  wrongObject,
} from "./fuzz_values.ts";

export { forgeHostileTokens } from "./fuzz_values.ts";

/** What the generator may use: tokens that must keep working, and the keys. */
export interface FuzzFixtures {
  /** A live session token of an approved user. */
  session: string;
  /** A live API token of that user. */
  api: string;
  /** A live admin token with every admin scope. */
  admin: string;
  internalKey: string;
  signingKey: Uint8Array;
  issuer: string;
  /** The route prefix the app serves besides the root. */
  routePrefix: string;
  /** Tokens with hostile claims, signed with the real key ({@link forgeHostileTokens}). */
  forged: string[];
  /** Largest body the app accepts. */
  maxBodyBytes: number;
}

/** One request: a label for reports, and what `app.request()` gets. */
export interface FuzzRequest {
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer> | (() => ReadableStream<Uint8Array<ArrayBuffer>>);
}

const BEARER_ROUTES: [string, string][] = [
  ["GET", "status"],
  ["GET", "me"],
  ["GET", "check"],
  ["POST", "token"],
  ["POST", "token/refresh"],
  ["POST", "logout"],
  ["GET", "admin/waitlist"],
  ["POST", "admin/approve"],
  ["POST", "admin/reject"],
  ["POST", "admin/tokens/revoke"],
  ["GET", "admin/audit"],
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "FOO", "get", "M-SEARCH"];
/** Draws one malformed request. */
export function fuzzRequest(r: Random, f: FuzzFixtures): FuzzRequest {
  const kind = r.pick([
    badJson,
    wrongTypes,
    controlCharacters,
    hugeBody,
    streamedBody,
    badWaitlistQuery,
    badAuditQuery,
    badCheckQuery,
    wrongMethodOrType,
    badAuthorization,
    randomPath,
  ]);
  return kind(r, f);
}

function base(r: Random, f: FuzzFixtures): string {
  return r.pick(["", f.routePrefix]) + r.pick(AUTH_BASES);
}

function internalPath(r: Random, f: FuzzFixtures): string {
  return r.pick(["", f.routePrefix]) + r.pick(["/api/internal/auth/token", "/internal/token"]);
}

/** Headers that let a body route read its body, so that the body is what gets fuzzed. */
function credentials(route: BodyRoute, f: FuzzFixtures): Record<string, string> {
  if (route === "internal") return { "X-Bus-Internal-Key": f.internalKey };
  if (route === "token") return { Authorization: `Bearer ${f.session}` };
  if (route.startsWith("admin/")) return { Authorization: `Bearer ${f.admin}` };
  return {};
}

function bodyTarget(r: Random, f: FuzzFixtures): { route: BodyRoute; path: string; headers: Record<string, string> } {
  const route: BodyRoute = r.chance(0.15) ? "internal" : r.pick(BODY_ROUTES);
  const path = route === "internal" ? internalPath(r, f) : `${base(r, f)}/${route}`;
  return { route, path, headers: { "Content-Type": "application/json", ...credentials(route, f) } };
}

function badJson(r: Random, f: FuzzFixtures): FuzzRequest {
  const target = bodyTarget(r, f);
  const body = r.pick([
    () => "{",
    () => "[",
    () => "nul",
    () => '{"email":',
    () => '{"email":"a@example.com"',
    () => '{"email":"a@example.com"}}',
    () => "{'email':'a@example.com'}",
    () => "\ufeff[]",
    () => r.string(r.int(1, 200)),
    () => `${"[".repeat(r.int(1000, 100000))}`,
    () => `${"[".repeat(5000)}${"]".repeat(5000)}`,
    () => "1",
    () => '"string"',
    () => "null",
    () => "[]",
    () => " \n\t ",
    () => "",
    () => new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    // Invalid UTF-8 inside strings, which decoding turns into U+FFFD: still no valid field.
    () => {
      const [open, middle, close] = ['{"subject":"', '","email":"', '","jti":1,"otp":1,"scope":1}'].map((part) =>
        new TextEncoder().encode(part)
      );
      return new Uint8Array([...open, 0xc3, 0x28, ...middle, 0xc3, 0x28, ...close]);
    },
  ])();
  return { what: `bad JSON to ${target.route}`, method: "POST", path: target.path, headers: target.headers, body };
}

function wrongTypes(r: Random, f: FuzzFixtures): FuzzRequest {
  const target = bodyTarget(r, f);
  const text = JSON.stringify(wrongObject(r, target.route, () => badEmail(r)));
  // A "__proto__" member must not reach the prototype, and must not stand in for a missing field.
  const proto =
    '"__proto__":{"email":"a@example.com","scope":"llm:proxy","jti":"00000000-0000-4000-8000-000000000000"}';
  const body = r.chance(0.2) ? (text === "{}" ? `{${proto}}` : `{${proto},${text.slice(1)}`) : text;
  return {
    what: `wrong JSON types to ${target.route}`,
    method: "POST",
    path: target.path,
    headers: target.headers,
    body,
  };
}

function controlCharacters(r: Random, f: FuzzFixtures): FuzzRequest {
  const target = bodyTarget(r, f);
  const nasty = () => `a${r.pick(NASTY)}${r.string(r.int(0, 5), CONTROL)}b@example.com`;
  const object = wrongObject(r, target.route, nasty);
  return {
    what: `control characters to ${target.route}`,
    method: "POST",
    path: target.path,
    headers: target.headers,
    body: JSON.stringify(object),
  };
}

function hugeBody(r: Random, f: FuzzFixtures): FuzzRequest {
  const target = bodyTarget(r, f);
  const size = r.int(f.maxBodyBytes + 1, f.maxBodyBytes * 4);
  const body = r.chance(0.5)
    ? JSON.stringify({ email: "a".repeat(size) })
    : `{"email":"${badEmail(r)}","pad":"${"x".repeat(size)}"}`;
  return { what: `huge body to ${target.route}`, method: "POST", path: target.path, headers: target.headers, body };
}

function streamedBody(r: Random, f: FuzzFixtures): FuzzRequest {
  const target = bodyTarget(r, f);
  const huge = r.chance(0.3);
  const broken = !huge && r.chance(0.3);
  const text = huge
    ? `{"email":"${"a".repeat(r.int(f.maxBodyBytes + 1, f.maxBodyBytes * 3))}"}`
    : JSON.stringify(wrongObject(r, target.route, () => badEmail(r)));
  const bytes = new TextEncoder().encode(text);
  const cuts = Array.from({ length: r.int(1, 8) }, () => r.int(0, bytes.length)).sort((a, b) => a - b);
  const chunks = [0, ...cuts, bytes.length].slice(1).map((end, i, ends) => bytes.slice(i === 0 ? 0 : ends[i - 1], end));
  const body = () =>
    new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        for (const [i, chunk] of chunks.entries()) {
          if (broken && i === Math.floor(chunks.length / 2)) {
            controller.error(new Error("the client went away"));
            return;
          }
          controller.enqueue(chunk);
        }
        controller.close();
      },
    });
  return {
    what: `${huge ? "huge " : broken ? "broken " : ""}streamed body to ${target.route}`,
    method: "POST",
    path: target.path,
    headers: target.headers,
    body,
  };
}

function badWaitlistQuery(r: Random, f: FuzzFixtures): FuzzRequest {
  const cursor = () =>
    r.pick([
      () => badQueryValue(r),
      () =>
        base64url.encode(
          JSON.stringify([r.int(-1e16, 1e16), r.pick([r.string(10), r.uuid().toUpperCase()])]),
        ),
      () => base64url.encode(JSON.stringify([r.pick([Number.MAX_SAFE_INTEGER, 8.64e15, -8.64e15, 0.5]), "\u0000"])),
      () => base64url.encode(r.bytes(r.int(1, 90))),
      () => `${base64url.encode(JSON.stringify([0, r.uuid()]))}=`,
    ])();
  const params = [
    ...(r.chance(0.7) ? [`cursor=${cursor()}`] : []),
    ...(r.chance(0.5) ? [`limit=${r.pick(["0", "501", "-1", "1.5", "ten", "", "٣", badQueryValue(r)])}`] : []),
    ...(r.chance(0.4) ? [`status=${r.pick(["banned", "ALL", "", badQueryValue(r)])}`] : []),
  ];
  if (params.length === 0 || r.chance(0.2)) params.push("limit=x", "limit=1");
  return {
    what: "bad waitlist query",
    method: "GET",
    path: `${base(r, f)}/admin/waitlist?${params.join("&")}`,
    headers: { Authorization: `Bearer ${f.admin}` },
  };
}

function badAuditQuery(r: Random, f: FuzzFixtures): FuzzRequest {
  const uuid = r.uuid();
  const cursor = () =>
    r.pick([
      () => badQueryValue(r),
      () => base64url.encode(JSON.stringify(["audit", r.int(-1e16, 1e16), r.pick([uuid, uuid.toUpperCase()])])),
      () => base64url.encode(JSON.stringify(["audit", r.pick([Number.MAX_SAFE_INTEGER, 8.64e15, 0.5]), "\u0000"])),
      () => base64url.encode(JSON.stringify([0, uuid])),
      () => base64url.encode(r.bytes(r.int(1, 90))),
      () => `${base64url.encode(JSON.stringify(["audit", 0, uuid]))}=`,
    ])();
  const value = () => r.pick(["", "%20", "a%00b", "%C3%A9", "x".repeat(257), badQueryValue(r)]);
  const params = [
    ...(r.chance(0.5) ? [`cursor=${cursor()}`] : []),
    ...(r.chance(0.4) ? [`limit=${r.pick(["0", "501", "-1", "1.5", "ten", "", badQueryValue(r)])}`] : []),
    ...(r.chance(0.5)
      ? [`since=${r.pick(["", "-1h", "2026-02-30", "2026-11-24T08:00:00", "99999-01-01", "9".repeat(20), value()])}`]
      : []),
    ...(r.chance(0.4) ? [`${r.pick(["actor", "target", "action"])}=${value()}`] : []),
  ];
  if (params.length === 0) params.push("limit=x");
  return {
    what: "bad audit query",
    method: "GET",
    path: `${base(r, f)}/admin/audit?${params.join("&")}`,
    headers: { Authorization: `Bearer ${f.admin}` },
  };
}

function badCheckQuery(r: Random, f: FuzzFixtures): FuzzRequest {
  const params = [
    `audience=${r.pick(["elsewhere", "", badQueryValue(r)])}`,
    ...(r.chance(0.5) ? [`scope=${r.pick(["bad\u0000".replace("\u0000", "%00"), badQueryValue(r)])}`] : []),
  ];
  return {
    what: "bad check query",
    method: "GET",
    path: `${base(r, f)}/check?${params.join("&")}`,
    headers: { Authorization: `Bearer ${r.pick([f.api, f.session, f.admin])}` },
  };
}

function wrongMethodOrType(r: Random, f: FuzzFixtures): FuzzRequest {
  const target = bodyTarget(r, f);
  const method = r.pick(METHODS.filter((name) => name !== "POST"));
  const contentType = r.pick([
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "application/json; charset=utf-16",
    "application/xml",
    "",
    r.string(r.int(1, 100)),
  ]);
  const wrongMethod = r.chance(0.5);
  const body = wrongMethod && /^(get|head)$/i.test(method)
    ? undefined
    : r.pick([`email=${encode(badEmail(r))}`, "--x\r\nContent-Disposition: form-data\r\n\r\n--x--", "{"]);
  return {
    what: wrongMethod
      ? `${method} on ${target.route}`
      : `Content-Type "${contentType.slice(0, 20)}" to ${target.route}`,
    method: wrongMethod ? method : "POST",
    path: target.path,
    headers: { ...target.headers, "Content-Type": contentType },
    body,
  };
}

function badToken(r: Random, f: FuzzFixtures): string {
  const token = r.pick([f.session, f.api, f.admin]);
  const [header, payload, signature] = token.split(".");
  return r.pick([
    () => `${token}=`,
    () => token.slice(0, r.int(0, token.length - 1)),
    () => `${token.slice(0, -1)}${token.at(-1) === "A" ? "B" : "A"}`,
    () => `${token}.${signature}`,
    () => `${header}.${payload}`,
    () => `${base64url.encode('{"alg":"none","typ":"JWT"}')}.${payload}.`,
    () => `${base64url.encode('{"alg":"HS384","typ":"JWT"}')}.${payload}.${signature}`,
    () => `${header}.${base64url.encode('{"sub":"x"}')}.${signature}`,
    () => r.string(r.int(1, 400), "ABCDEFabcdef0123456789-_."),
    () => "x".repeat(r.int(8193, 200000)),
    () => r.pick(f.forged),
    () => r.pick(f.forged),
  ])();
}

function badAuthorization(r: Random, f: FuzzFixtures): FuzzRequest {
  const [method, route] = r.pick(BEARER_ROUTES);
  const authorization = r.pick([
    () => undefined,
    () => "",
    () => "Bearer",
    () => "Bearer ",
    () => `Basic ${btoa("admin:admin")}`,
    () => `Bearer ${badToken(r, f)}`,
    () => `bearer  ${badToken(r, f)}`,
    () => `Bearer ${badToken(r, f)} ${badToken(r, f)}`,
    () => `Bearer ${r.string(r.int(1, 300))}`,
    () => `Bearer ${r.string(r.int(1, 40), "\u00e9\u00ff\u00a0\u0080")}`,
    () => `Token ${f.admin}`,
    () => `Bearer\t${f.admin}x`,
  ])();
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (authorization !== undefined) headers.Authorization = authorization;
  const body = method === "POST"
    ? JSON.stringify(
      route === "token"
        ? { scope: "llm:proxy" }
        : route === "admin/tokens/revoke"
        ? { jti: "not-a-uuid" }
        : { email: `ghost${r.int(0, 1e6)}@example.com` },
    )
    : undefined;
  return { what: `bad Authorization on ${method} ${route}`, method, path: `${base(r, f)}/${route}`, headers, body };
}

function randomPath(r: Random, f: FuzzFixtures): FuzzRequest {
  const start = r.pick(["", f.routePrefix]) +
    r.pick([...AUTH_BASES, "/api/internal/auth", "/internal", "", "/api", "/.well-known", "/healthz"]);
  const segments = Array.from({ length: r.int(0, 4) }, () =>
    r.pick([
      () => r.pick(["admin", "token", "otp", "tokens", "revoke", "waitlist", "verify", "me", "check", "register"]),
      () => r.pick(["..", ".", "%2e%2e", "%00", "%ZZ", "%2F", "%", "", "~", "*", ";x", ":x"]),
      () => encode(r.string(r.int(1, 20))),
      () => "x".repeat(r.int(100, 5000)),
    ])());
  const method = r.pick(METHODS);
  const body = /^(get|head)$/i.test(method) || r.chance(0.5) ? undefined : "{";
  const headers: Record<string, string> = {};
  if (r.chance(0.3)) headers.Authorization = `Bearer ${r.pick([f.admin, badToken(r, f)])}`;
  if (r.chance(0.2)) headers["X-Request-Id"] = r.string(r.int(1, 200));
  if (r.chance(0.2)) headers["X-Forwarded-For"] = r.string(r.int(1, 100));
  const query = r.chance(0.3) ? `?${badQueryValue(r)}=${badQueryValue(r)}` : "";
  return {
    what: `${method} on a random path`,
    method,
    path: `${start}/${segments.join("/")}${query}`.replace(/^\/\//, "/"),
    headers,
    body,
  };
}
