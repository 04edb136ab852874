import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { z } from "@hono/zod-openapi";
import { AUDIENCE } from "../lib/claims.ts";
import { generateSigningKey } from "../lib/keys/generate.ts";
import { TokenKeys } from "../lib/keys/token_keys.ts";
import { createHarness, TEST_CLIENT_IP, TEST_INTERNAL_KEY, TEST_SIGNING_KEY } from "../tests/helpers/app_testing.ts";
import { forgeHostileTokens, type FuzzFixtures, fuzzRequest } from "../tests/helpers/fuzz_requests.ts";
import { Random } from "../tests/helpers/fuzz_random.ts";
import { BODY_ERRORS } from "./openapi/schemas.ts";
import { openApiDocument, OPERATIONS } from "./openapi/document.ts";

const PREFIX = "/local-dev/v1";
const METHODS = ["get", "put", "post", "delete", "patch", "options", "head"] as const;

type Document = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, { "x-aliases"?: string[]; responses: Record<string, unknown> }>>;
};

/** `GET /a/{x}/b` and `GET /a/:y/b` alike: parameter names do not matter. */
function shape(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.replace(/\{[^}]+\}|:[A-Za-z0-9_]+/g, "{}")}`;
}

/** Every method and path the document says the app serves, aliases and the prefix included. */
function documented(document: Document, prefix: string): Set<string> {
  const served = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      for (const each of [path, ...operation["x-aliases"] ?? []]) {
        for (const base of ["", prefix]) served.add(shape(method, base + each));
      }
    }
  }
  return served;
}

Deno.test("GET /openapi.json is a valid OpenAPI 3.1 document, at the root and under the prefix", async () => {
  const h = createHarness({ routePrefix: PREFIX });
  const reply = await h.call("GET", "/openapi.json");
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("Content-Type") ?? "", /^application\/json/);
  const document = reply.body as Document;
  assert.equal(document.openapi, "3.1.0");
  assert.deepEqual(document.servers.map((server) => server.url), ["/", PREFIX]);
  assert.deepEqual((await h.call("GET", `${PREFIX}/openapi.json`)).body, document);
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  assert.ok(result.valid, `not valid OpenAPI: ${JSON.stringify(result.errors, null, 2)?.slice(0, 2000)}`);
  assert.equal(validator.version, "3.1");
  assert.deepEqual(
    (await createHarness().call("GET", "/openapi.json")).body.servers.map((server: { url: string }) => server.url),
    ["/"],
    "without a prefix, one server",
  );
});

Deno.test("the document describes every route the app serves and nothing else", () => {
  const h = createHarness({ routePrefix: PREFIX });
  const served = new Set(
    h.app.routes.filter((route) => route.method !== "ALL").map((route) => shape(route.method, route.path)),
  );
  const described = documented(openApiDocument({ routePrefix: PREFIX }) as Document, PREFIX);
  assert.deepEqual([...served].filter((route) => !described.has(route)).sort(), [], "served but not described");
  assert.deepEqual([...described].filter((route) => !served.has(route)).sort(), [], "described but not served");
});

const DOCUMENT = openApiDocument() as Document;

/** The operation of a request, found through its canonical path or an alias, or `null` for an unmatched path. */
function operationOf(method: string, path: string) {
  const bare = path.split("?")[0].replace(new RegExp(`^${PREFIX}(?=/)`), "");
  const lower = method.toLowerCase() === "head" ? "get" : method.toLowerCase();
  const document = DOCUMENT;
  for (const operation of OPERATIONS) {
    if (operation.method !== lower) continue;
    const described = document.paths[operation.path][operation.method];
    for (const each of [operation.path, ...described["x-aliases"] ?? []]) {
      const pattern = new RegExp(`^${each.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      if (pattern.test(bare)) return { operation, described };
    }
  }
  return null;
}

/** The error codes a documented status allows (the body errors any request may get included). */
function allowedCodes(described: { responses: Record<string, unknown> }, status: number): string[] {
  const text = JSON.stringify(described.responses[String(status)] ?? null);
  const codes = [...text.matchAll(/"enum":\[([^\]]*)\]/g)].flatMap((match) => JSON.parse(`[${match[1]}]`));
  return [...codes, ...(BODY_ERRORS[status as 400 | 408 | 413] ?? [])];
}

/** Checks one answer against the document; returns a problem or `null`. */
function mismatch(method: string, path: string, status: number, body: unknown): string | null {
  const found = operationOf(method, path);
  const code = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  // HEAD is answered as GET without a body.
  const head = method.toUpperCase() === "HEAD";
  if (found === null) {
    return status === 404 && (code === "not_found" || (head && body === null))
      ? null
      : `unmatched ${method} ${path} answered ${status} ${code}`;
  }
  if (head && body === null) {
    return found.described.responses[String(status)] === undefined ? `HEAD ${path}: ${status} not documented` : null;
  }
  const { operation, described } = found;
  const where = `${operation.method.toUpperCase()} ${operation.path} (${method} ${path.slice(0, 80)})`;
  if (status < 400) {
    const response = (operation.responses as Record<number, { content?: Record<string, { schema: z.ZodType }> }>)[
      status
    ];
    if (response === undefined) return `${where}: ${status} is not documented`;
    const schema = response.content?.["application/json"]?.schema;
    if (schema === undefined) return body === null ? null : `${where}: ${status} should have no body`;
    const parsed = schema.safeParse(body);
    return parsed.success ? null : `${where}: ${status} body differs: ${parsed.error.message.slice(0, 300)}`;
  }
  if (described.responses[String(status)] === undefined && !allowedCodes(described, status).includes(String(code))) {
    return `${where}: ${status} ${code} is not documented`;
  }
  if (!allowedCodes(described, status).includes(String(code))) return `${where}: ${status} ${code} is not documented`;
  return null;
}

Deno.test("every answer of a full flow and of 1500 malformed requests is documented, success bodies in their shape", async () => {
  // Key files sign, so the key set has keys to check against the document.
  const keys = new TokenKeys({
    hs256Secret: TEST_SIGNING_KEY,
    signing: generateSigningKey("EdDSA").material,
    verify: [{ ...generateSigningKey("ES256").material, privateJwk: null }],
  });
  const h = createHarness({ routePrefix: PREFIX, maxBodyBytes: 65536, policy: { rateLimitPerIp: 0 }, keys });
  const problems: string[] = [];
  const seen = new Set<string>();
  const call = async (method: string, path: string, options: Parameters<typeof h.call>[2] = {}) => {
    const reply = await h.call(method, path, options);
    const problem = mismatch(method, path, reply.status, reply.body);
    if (problem !== null) problems.push(problem);
    const found = operationOf(method, path);
    if (found !== null && reply.status < 300) seen.add(`${found.operation.method} ${found.operation.path}`);
    return reply;
  };

  // Every operation once with success, and common refusals.
  const email = "flow@example.com";
  await call("GET", "/healthz");
  await call("GET", `${PREFIX}/livez`);
  await call("GET", "/readyz");
  await call("GET", "/openapi.json");
  assert.equal((await call("GET", "/auth/.well-known/jwks.json")).body.keys.length, 2);
  await call("GET", `${PREFIX}/modules/auth/.well-known/oauth-authorization-server`);
  await call("POST", "/api/v1/auth/register", { body: { email } });
  await call("POST", "/modules/auth/otp/request", { body: { email } });
  await call("POST", "/api/v1/auth/otp/request", { body: { email } });
  await call("POST", "/auth/otp/verify", { body: { email, otp: "000000" } });
  const session = await call("POST", "/api/v1/auth/otp/verify", {
    body: { email, otp: h.sender.latestCode(email) },
  });
  const token = session.body.access_token;
  await call("GET", "/api/v1/auth/status", { token });
  await call("GET", "/me", { token });
  await call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } });
  const manager = await h.mintToken({ scope: "waitlist:read waitlist:approve admin:manage" });
  await call("GET", "/api/v1/auth/admin/waitlist", { token: manager });
  await call("GET", "/api/v1/auth/admin/waitlist?limit=x", { token: manager });
  await call("POST", "/api/v1/auth/admin/approve", { token: manager, body: { email: "nobody@example.com" } });
  const approved = await call("POST", "/api/v1/auth/admin/approve", { token: manager, body: { email } });
  const accountId = approved.body.account_id;
  const api = await call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy", ttl_seconds: 600 } });
  await call("GET", `/api/v1/auth/check?audience=${AUDIENCE.api}&scope=llm:proxy`, { token: api.body.access_token });
  await call("GET", "/api/v1/auth/check?scope=admin:manage", { token: api.body.access_token });
  await call("GET", `/api/v1/auth/admin/accounts/${accountId}/policy`, { token: manager });
  await call("PUT", `/api/v1/auth/admin/accounts/${accountId}/policy`, {
    token: manager,
    body: { scopes: "llm:proxy" },
  });
  await call("GET", `/api/v1/auth/admin/accounts/policy?email=${email}`, { token: manager });
  await call("PUT", `/api/v1/auth/admin/accounts/policy?email=${email}`, { token: manager, body: { scopes: null } });
  await call("GET", "/api/v1/auth/admin/accounts/not-a-uuid/policy", { token: manager });
  const created = await call("POST", "/api/v1/auth/admin/clients", {
    token: manager,
    body: { name: "billing-worker", audience: AUDIENCE.api, scopes: ["usage:read"] },
  });
  const clientId = created.body.client_id;
  await call("GET", "/api/v1/auth/admin/clients", { token: manager });
  await call("POST", `/api/v1/auth/admin/clients/${clientId}/verify-key`, {
    token: manager,
    body: { key: created.body.key },
  });
  const grant = (secret: string, extra: Record<string, string> = {}) =>
    call("POST", "/api/internal/auth/token", {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: secret,
        ...extra,
      })
        .toString(),
    });
  await grant(created.body.key);
  await grant("bsk_wrong");
  await grant(created.body.key, { scope: "admin:manage" });
  await call("POST", `/api/v1/auth/admin/clients/${clientId}/rotate`, { token: manager });
  await call("POST", `/api/v1/auth/admin/clients/${clientId}/revoke`, { token: manager });
  await call("POST", `/api/v1/auth/admin/clients/${clientId}/rotate`, { token: manager });
  await call("POST", "/internal/token", {
    headers: { "X-Bus-Internal-Key": TEST_INTERNAL_KEY },
    body: { subject: "svc", audience: AUDIENCE.internal, ttl_seconds: 99999999 },
  });
  await call("POST", "/internal/token", { headers: { "X-Bus-Internal-Key": "wrong" }, body: {} });
  await call("POST", "/api/v1/auth/admin/tokens/revoke", { token: manager, body: { jti: crypto.randomUUID() } });
  await call("GET", "/api/v1/auth/admin/audit?since=24h", { token: manager });
  await call("POST", "/api/v1/auth/admin/reject", { token: manager, body: { email, reason: "duplicate" } });
  await call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } });
  const refreshed = await call("POST", "/api/v1/auth/token/refresh", { token });
  await call("POST", "/api/v1/auth/logout", { token: refreshed.body.access_token });
  await call("POST", "/api/v1/auth/logout", { token: refreshed.body.access_token });
  await call("GET", "/api/v1/auth/status");

  const missing = OPERATIONS.map((operation) => `${operation.method} ${operation.path}`).filter((key) =>
    !seen.has(key)
  );
  assert.deepEqual(missing, [], "the flow reaches every operation once with success");

  // Malformed requests of the fuzz suite, each answer checked against its operation.
  const admin = await h.mintToken({ scope: "waitlist:read waitlist:approve waitlist:reject admin:manage" });
  const known = await h.approvedUser("fuzz-known@example.com");
  const apiToken = await h.call("POST", "/api/v1/auth/token", { token: known.token, body: { scope: "llm:proxy" } });
  const fixtures: FuzzFixtures = {
    session: known.token,
    api: apiToken.body.access_token,
    admin,
    internalKey: TEST_INTERNAL_KEY,
    signingKey: TEST_SIGNING_KEY,
    issuer: h.policy.issuer,
    routePrefix: PREFIX,
    maxBodyBytes: 65536,
    forged: [],
  };
  const r = new Random(20261126);
  fixtures.forged = await forgeHostileTokens(r, fixtures, h.clock.now);
  for (let index = 0; index < 1500; index++) {
    const request = fuzzRequest(r, fixtures);
    const body = typeof request.body === "function" ? request.body() : request.body;
    const response = await h.app.request(request.path, { method: request.method, headers: request.headers, body }, {
      remoteAddr: { hostname: TEST_CLIENT_IP },
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = text;
    }
    const problem = mismatch(request.method, request.path, response.status, parsed);
    if (problem !== null) problems.push(`${request.what}: ${problem}`);
  }
  const distinct = [...new Set(problems)];
  assert.deepEqual(distinct.slice(0, 30), [], `${distinct.length} answers differ from the document`);
});
