/**
 * Seeded fuzzing of the provider on every store (memory, SQLite,
 * PostgreSQL): malformed requests must never get a 5xx answer and must
 * never change state. Most requests go through `app.request()` (the same
 * app the server runs, without sockets); a smaller share of raw HTTP/1.1
 * goes over real sockets to a provider process, for what only a socket can
 * carry (chunked and broken bodies, bogus framing, bad header bytes).
 *
 * The seed is printed; `BUS_AUTH_FUZZ_SEED` replays a run. The run is
 * bounded: `BUS_AUTH_FUZZ_REQUESTS` (default 2000) in-process and
 * `BUS_AUTH_FUZZ_WIRE_REQUESTS` (default 200) socket requests per store,
 * within `BUS_AUTH_FUZZ_SECONDS` (default 90) each; falling short of the
 * count within the time fails the test.
 */

import assert from "node:assert/strict";
import { AUDIENCE, buildClaims } from "../lib/claims.ts";
import { signToken } from "../lib/jwt.ts";
import { createHarness, TEST_CLIENT_IP, TEST_INTERNAL_KEY, TEST_SIGNING_KEY } from "./helpers/app_testing.ts";
import { everyStore, type StoreBackend, type TableCounts } from "./helpers/every_store.ts";
import { forgeHostileTokens, type FuzzFixtures, fuzzRequest } from "./helpers/fuzz_requests.ts";
import { fuzzSeed, Random } from "./helpers/fuzz_random.ts";
import { sendRaw, wireCase } from "./helpers/fuzz_wire.ts";
import { startProvider } from "./helpers/provider_process.ts";

const SEED = fuzzSeed(20261123);
const REQUESTS = count("BUS_AUTH_FUZZ_REQUESTS", 2000);
const WIRE_REQUESTS = count("BUS_AUTH_FUZZ_WIRE_REQUESTS", 200);
const SECONDS = count("BUS_AUTH_FUZZ_SECONDS", 90);
const ROUTE_PREFIX = "/local-dev/v1";
const MAX_BODY_BYTES = 65536;
const ADMIN_SCOPES = "waitlist:read waitlist:approve waitlist:reject admin:manage";
console.error(
  `fuzz: seed ${SEED} (replay with BUS_AUTH_FUZZ_SEED=${SEED}); per store ${REQUESTS} in-process and ` +
    `${WIRE_REQUESTS} socket requests within ${SECONDS} s`,
);

const stores = await everyStore("fuzz");

/** Row counts without the audit table, whose refusal records the in-process run checks itself. */
function withoutAudit(counts: TableCounts): TableCounts {
  const { audit: _sqlite, bus_auth_audit: _postgres, ...rest } = counts;
  return rest;
}

function count(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  if (!/^[0-9]{1,7}$/.test(text)) throw new Error(`${name} must be a whole number, not "${text}"`);
  return Number(text);
}

/** Everything a malformed request could have changed. */
interface State {
  users: unknown;
  tables: TableCounts;
}

/** Collects answers by status and the failures worth reporting (at most 20 shown). */
class Tally {
  readonly byStatus = new Map<number | string, number>();
  readonly failures: string[] = [];
  sent = 0;

  add(status: number | string): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  fail(text: string): void {
    this.failures.push(text);
  }

  summary(): string {
    return [...this.byStatus].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([s, n]) => `${s}:${n}`)
      .join(" ");
  }

  assertClean(what: string): void {
    const shown = this.failures.slice(0, 20).join("\n");
    assert.equal(this.failures.length, 0, `${what}: ${this.failures.length} failures (seed ${SEED}):\n${shown}`);
  }
}

for (const backend of stores.backends) {
  Deno.test({
    name: `fuzz: malformed requests through app.request() on ${backend.kind} get no 5xx and change nothing`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => fuzzInProcess(backend),
  });
  Deno.test({
    name: `fuzz: malformed HTTP/1.1 over sockets to a provider process on ${backend.kind} gets no 5xx`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => fuzzOverSockets(backend),
  });
}
if (stores.postgresSkipped !== null) {
  Deno.test({ name: "fuzz: PostgreSQL", ignore: true, fn: () => {} });
}

async function fuzzInProcess(backend: StoreBackend): Promise<void> {
  const { store, tableCounts, dispose } = await backend.fresh();
  try {
    const h = createHarness({
      store,
      routePrefix: ROUTE_PREFIX,
      maxBodyBytes: MAX_BODY_BYTES,
      policy: { rateLimitPerIp: 0 },
    });
    const known = await h.approvedUser("fuzz-known@example.com");
    const api = await h.call("POST", "/api/v1/auth/token", { token: known.token, body: { scope: "llm:proxy" } });
    assert.equal(api.status, 200, api.text);
    await h.call("POST", "/api/v1/auth/register", { body: { email: "fuzz-waiting@example.com" } });
    const admin = await h.mintToken({ scope: ADMIN_SCOPES });
    const fixtures: FuzzFixtures = {
      session: known.token,
      api: api.body.access_token,
      admin,
      internalKey: TEST_INTERNAL_KEY,
      signingKey: TEST_SIGNING_KEY,
      issuer: h.policy.issuer,
      routePrefix: ROUTE_PREFIX,
      maxBodyBytes: MAX_BODY_BYTES,
      forged: [],
    };
    fixtures.forged = await forgeHostileTokens(new Random(SEED ^ 0x5eed), fixtures, h.clock.now);
    // The audit trail may gain what changes nothing else: the refusal of a good admin token without the scope
    // (a forged token may be one), and a mint of the internal endpoint (a fuzzed body may be a valid one).
    const state = async (): Promise<State> => ({
      users: await store.listUsers({ status: null, limit: 1_000_000, after: null }),
      tables: withoutAudit(await tableCounts()),
    });
    const trail = () =>
      store.listAudit({ since: null, actor: null, target: null, action: null, after: null, limit: 1_000_000 });
    const before = await state();
    const recordedBefore = new Set((await trail()).map((record) => record.auditId));
    const mailsBefore = h.sender.messages.length;

    const r = new Random(SEED);
    const tally = new Tally();
    const deadline = Date.now() + SECONDS * 1000;
    while (tally.sent < REQUESTS && Date.now() < deadline) {
      const request = fuzzRequest(r, fixtures);
      const index = tally.sent++;
      const shown = `#${index} ${request.what}: ${request.method} ${request.path.slice(0, 100)}`;
      let response: Response;
      try {
        const body = typeof request.body === "function" ? request.body() : request.body;
        response = await h.app.request(request.path, { method: request.method, headers: request.headers, body }, {
          remoteAddr: { hostname: TEST_CLIENT_IP },
        });
      } catch (error) {
        tally.add("threw");
        tally.fail(`${shown}: the request could not be made: ${error}`);
        continue;
      }
      const text = await response.text();
      tally.add(response.status);
      if (response.status >= 500) {
        tally.fail(`${shown} -> ${response.status} ${text.slice(0, 200)}`);
      } else if (response.status >= 400 && text !== "") {
        const body = JSON.parse(text);
        if (typeof body.error !== "string" || typeof body.message !== "string" || /\bat .*\.ts:\d+/.test(text)) {
          tally.fail(`${shown} -> ${response.status} without the JSON error shape: ${text.slice(0, 200)}`);
        }
      }
    }
    console.error(`fuzz ${backend.kind} in-process: ${tally.sent} requests; ${tally.summary()}`);
    assert.equal(tally.sent, REQUESTS, `only ${tally.sent} of ${REQUESTS} requests within ${SECONDS} s`);
    tally.assertClean(`in-process fuzz on ${backend.kind}`);

    assert.deepEqual(await state(), before, "no user, session, challenge, revocation or limit was created or changed");
    const recorded = (await trail()).filter((record) => !recordedBefore.has(record.auditId));
    assert.deepEqual(
      recorded.filter((record) => record.outcome !== "insufficient_scope" && record.action !== "token.mint"),
      [],
      "the trail only gained refusals and mints",
    );
    assert.equal(h.sender.messages.length, mailsBefore, "no OTP was sent");
    assert.equal((await h.call("GET", "/api/v1/auth/status", { token: known.token })).status, 200, "session works");
    assert.equal((await h.call("GET", "/api/v1/auth/check", { token: fixtures.api })).status, 200, "API token works");
    assert.equal((await h.call("GET", "/auth/admin/waitlist", { token: admin })).status, 200, "admin token works");
  } finally {
    await dispose();
  }
}

async function fuzzOverSockets(backend: StoreBackend): Promise<void> {
  const secret = "fuzz-signing-secret-of-at-least-32-bytes";
  const { env, tableCounts, dispose } = await backend.freshForProcess();
  const provider = await startProvider({
    ...env,
    BUS_AUTH_HS256_SECRET: secret,
    BUS_AUTH_INTERNAL_SHARED_KEY: TEST_INTERNAL_KEY,
    BUS_AUTH_OTP_SENDER: "console",
    BUS_AUTH_RATE_LIMIT_PER_IP: "0",
    BUS_AUTH_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
  try {
    const key = new TextEncoder().encode(secret);
    const now = Date.now();
    const admin = await signToken(
      buildClaims({
        issuer: "bus-api-provider-auth",
        subject: "fuzz",
        audience: AUDIENCE.auth,
        scope: ADMIN_SCOPES,
        ttlSeconds: 600,
        now,
      }),
      key,
    );
    const call = async (method: string, path: string, options: { token?: string; body?: unknown } = {}) => {
      const response = await fetch(`${provider.url}${path}`, {
        method,
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    };
    const email = "fuzz-known@example.com";
    await call("POST", "/api/v1/auth/otp/request", { body: { email } });
    const verified = await call("POST", "/api/v1/auth/otp/verify", {
      body: { email, otp: await provider.waitForOtp(email) },
    });
    const session = verified.body.access_token;
    assert.equal((await call("POST", "/api/v1/auth/admin/approve", { token: admin, body: { email } })).status, 200);
    const api = (await call("POST", "/api/v1/auth/token", { token: session, body: { scope: "llm:proxy" } })).body
      .access_token;
    const state = async (): Promise<State> => ({
      users: (await call("GET", "/api/v1/auth/admin/waitlist?status=all&limit=500", { token: admin })).body,
      tables: await tableCounts(),
    });
    const before = await state();
    const otpLines = provider.stdout.length;

    const port = Number(new URL(provider.url).port);
    const target = { host: `127.0.0.1:${port}`, admin, internalKey: TEST_INTERNAL_KEY, maxBodyBytes: MAX_BODY_BYTES };
    const r = new Random(SEED ^ 0x3e7);
    const tally = new Tally();
    const deadline = Date.now() + SECONDS * 1000;
    while (tally.sent < WIRE_REQUESTS && Date.now() < deadline) {
      const request = wireCase(r, target);
      const index = tally.sent++;
      const answer = await sendRaw(port, request, 15_000);
      tally.add(answer.status ?? "closed");
      if (answer.status !== null && answer.status >= 500) {
        tally.fail(`#${index} ${request.what} -> ${answer.head}`);
      } else if (answer.status === null && !request.mayDrop) {
        tally.fail(`#${index} ${request.what} -> closed without an answer`);
      }
    }
    console.error(`fuzz ${backend.kind} over sockets: ${tally.sent} requests; ${tally.summary()}`);
    assert.equal(tally.sent, WIRE_REQUESTS, `only ${tally.sent} of ${WIRE_REQUESTS} requests within ${SECONDS} s`);
    tally.assertClean(`socket fuzz on ${backend.kind}`);

    assert.deepEqual(await state(), before, "nothing was created or changed");
    assert.equal(provider.stdout.length, otpLines, "no OTP was sent");
    assert.equal((await call("GET", "/api/v1/auth/status", { token: session })).status, 200, "session works");
    assert.equal((await call("GET", "/api/v1/auth/check", { token: api })).status, 200, "API token works");
    const failures = provider.stderr.filter((line) => line.includes('"level":"error"'));
    assert.deepEqual(failures, [], "the provider logged no failure");
  } finally {
    await provider.stop();
    await dispose();
  }
}
