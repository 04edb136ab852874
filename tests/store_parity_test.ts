/**
 * HTTP behaviours that must not depend on the store: crafted waitlist
 * cursors, API tokens of a rejected and re-approved account, revoked admin
 * tokens, account scope policies, and service clients with their grant,
 * rotation and revocation, each through `app.request()` on
 * memory, SQLite and PostgreSQL.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AUDIENCE, buildClaims } from "../lib/claims.ts";
import { signToken } from "../lib/jwt.ts";
import { assertError, createHarness, TEST_SIGNING_KEY } from "./helpers/app_testing.ts";
import { everyStore, type StoreBackend } from "./helpers/every_store.ts";

const stores = await everyStore("parity");

/** Runs `body` once per backend as a step, each on a fresh store. */
function onEveryStore(name: string, body: (h: ReturnType<typeof createHarness>) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      for (const backend of stores.backends) {
        await t.step(backend.kind, () => withStore(backend, body));
      }
    },
  });
}

async function withStore(
  backend: StoreBackend,
  body: (h: ReturnType<typeof createHarness>) => Promise<void>,
): Promise<void> {
  const { store, dispose } = await backend.fresh();
  try {
    await body(createHarness({ store, policy: { rateLimitPerIp: 0 } }));
  } finally {
    await dispose();
  }
}

function cursorOf(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

const UUID = "0f6c1e0a-8d3b-4c5e-9f21-6a7b8c9d0e1f";

onEveryStore("GET /admin/waitlist answers a crafted cursor with 400 invalid_cursor on every store", async (h) => {
  for (const email of ["a@example.com", "b@example.com", "c@example.com"]) {
    await h.call("POST", "/api/v1/auth/register", { body: { email } });
  }
  const token = await h.mintToken({ scope: "waitlist:read" });
  const list = (cursor: string) =>
    h.call("GET", `/api/v1/auth/admin/waitlist?status=all&cursor=${encodeURIComponent(cursor)}`, { token });
  const crafted: [string, string][] = [
    ["the largest safe integer", cursorOf([Number.MAX_SAFE_INTEGER, "x"])],
    ["a NUL as the id", cursorOf([0, "\u0000"])],
    ["the last instant of Date with a bad id", cursorOf([8640000000000000, "x"])],
    ["the first instant of Date with a bad id", cursorOf([-8640000000000000, "x"])],
    ["past the Date range", cursorOf([Number.MAX_SAFE_INTEGER, UUID])],
    ["the last instant of Date", cursorOf([8640000000000000, UUID])],
    ["a five-digit year", cursorOf([Date.UTC(10000, 0, 1), UUID])],
    ["a negative time", cursorOf([-1, UUID])],
    ["the first instant of Date", cursorOf([-8640000000000000, UUID])],
    ["a fractional time", cursorOf([1.5, UUID])],
    ["a time as a string", cursorOf(["0", UUID])],
    ["an upper-case id", cursorOf([0, UUID.toUpperCase()])],
    ["an id without dashes", cursorOf([0, UUID.replaceAll("-", "")])],
    ["an id in braces", cursorOf([0, `{${UUID}}`])],
    ["a short id", cursorOf([0, UUID.slice(1)])],
    ["a NUL in an id", cursorOf([0, `${UUID.slice(0, 35)}\u0000`])],
    ["a third element", cursorOf([0, UUID, 1])],
    ["an object", cursorOf({ createdAt: 0, userId: UUID })],
    ["JSON with spaces", cursorOf(`[0, "${UUID}"]`)],
    ["a time in exponent form", cursorOf(`[1e3,"${UUID}"]`)],
    ["base64 padding", `${cursorOf([1000, UUID])}=`],
    ["a standard-base64 character", `${cursorOf([1000, UUID])}+`],
    ["not base64", "!!!"],
    ["empty", ""],
  ];
  for (const [what, cursor] of crafted) {
    const reply = await list(cursor);
    assert.equal(reply.status, 400, `${what}: ${reply.text}`);
    assertError(reply, 400, "invalid_cursor");
  }
  const all = await list(cursorOf([0, "00000000-0000-0000-0000-000000000000"]));
  assert.equal(all.status, 200, all.text);
  assert.equal(all.body.users.length, 3, "a cursor before every user lists them all");
  const none = await list(cursorOf([Date.UTC(9999, 11, 31, 23, 59, 59, 999), UUID]));
  assert.equal(none.status, 200, none.text);
  assert.deepEqual(none.body, { users: [], next_cursor: null }, "the end of year 9999 is a valid, empty page");
  const first = await h.call("GET", "/api/v1/auth/admin/waitlist?status=all&limit=2", { token });
  const second = await list(first.body.next_cursor);
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.users.length, 1, "the cursors the provider hands out still work");
});

onEveryStore("a re-approval does not revive API tokens issued before the reject, on every store", async (h) => {
  const admin = await h.mintToken({ scope: "admin:manage" });
  const { token: session } = await h.approvedUser("a@example.com");
  const issue = () => h.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "llm:proxy" } });
  const old = (await issue()).body.access_token;
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: old })).status, 200);
  h.clock.now += 2_000;
  assert.equal(
    (await h.call("POST", "/auth/admin/reject", { token: admin, body: { email: "a@example.com" } })).status,
    200,
  );
  h.clock.now += 2_000;
  assert.equal(
    (await h.call("POST", "/auth/admin/approve", { token: admin, body: { email: "a@example.com" } })).status,
    200,
  );
  for (const query of ["", "?audience=ai.hg.fi/api", "?audience=ai.hg.fi/api&scope=llm:proxy"]) {
    assertError(await h.call("GET", `/modules/auth/check${query}`, { token: old }), 401, "token_revoked");
  }
  const fresh = await issue();
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: fresh.body.access_token })).status, 200);
});

onEveryStore("a revoked admin token is refused by admin calls and /check, on every store", async (h) => {
  const manager = await h.mintToken({ scope: "admin:manage" });
  const victim = await h.mintToken({ scope: "admin:manage waitlist:read" });
  const jti = JSON.parse(Buffer.from(victim.split(".")[1], "base64url").toString()).jti;
  for (let i = 0; i < 2; i++) {
    const reply = await h.call("POST", "/modules/auth/admin/tokens/revoke", { token: manager, body: { jti } });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body, { jti, revoked: true });
  }
  assertError(await h.call("GET", "/api/v1/auth/admin/waitlist", { token: victim }), 401, "token_revoked");
  assertError(await h.call("GET", "/api/v1/auth/check", { token: victim }), 401, "token_revoked");
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: manager })).status, 200);
});

onEveryStore(
  "tokens signed with the key but carrying NULs or odd ids in sub, jti or sid are 401, on every store",
  async (h) => {
    const routes: [string, string][] = [
      ["GET", "/auth/check"],
      ["GET", "/auth/status"],
      ["POST", "/auth/token/refresh"],
      ["GET", "/auth/admin/waitlist"],
    ];
    for (const audience of Object.values(AUDIENCE)) {
      for (const field of ["sub", "jti", "sid"]) {
        for (const value of ["a\u0000b", "x".repeat(5000), "\ud800"]) {
          const claims = buildClaims({
            issuer: h.policy.issuer,
            subject: "svc",
            audience,
            scope: "admin:manage",
            ttlSeconds: 600,
            now: h.clock.now,
          });
          const token = await signToken({ ...claims, [field]: value }, TEST_SIGNING_KEY);
          for (const [method, path] of routes) {
            const reply = await h.call(method, path, { token });
            // A wrong audience may be named first; either way no store is asked about the odd id.
            assertError(
              reply,
              401,
              reply.body?.error === "token_wrong_audience" ? "token_wrong_audience" : "invalid_token",
            );
          }
        }
      }
    }
  },
);

onEveryStore(
  "an account scope policy narrows /token and /check and survives a re-approval, on every store",
  async (h) => {
    const admin = await h.mintToken({ scope: "admin:manage" });
    const { token: session, accountId } = await h.approvedUser("a@example.com");
    const issue = (scope: string) => h.call("POST", "/api/v1/auth/token", { token: session, body: { scope } });
    const wide = (await issue("llm:proxy billing:read")).body.access_token;
    const policy = `/api/v1/auth/admin/accounts/${accountId}/policy`;
    const set = await h.call("PUT", policy, { token: admin, body: { scopes: "llm:proxy" } });
    assert.deepEqual(
      [set.status, set.body.scopes, set.body.effective_scopes],
      [200, "llm:proxy", "llm:proxy"],
      set.text,
    );
    assertError(await h.call("GET", "/api/v1/auth/check", { token: wide }), 401, "token_revoked");
    assertError(await issue("billing:read"), 403, "scope_not_allowed");
    assert.equal((await issue("llm:proxy")).status, 200);
    h.clock.now += 1_000;
    assert.equal(
      (await h.call("POST", "/auth/admin/approve", { token: admin, body: { email: "a@example.com" } })).status,
      200,
    );
    const kept = await h.call("GET", "/api/v1/auth/admin/accounts/policy?email=a@example.com", { token: admin });
    assert.equal(kept.body.scopes, "llm:proxy", "a repeated approval without scopes keeps the policy");
    const empty = await h.call("PUT", policy, { token: admin, body: { scopes: "" } });
    assert.deepEqual([empty.body.scopes, empty.body.default], ["", false], "the empty policy is not the default");
    const reset = await h.call("PUT", policy, { token: admin, body: { scopes: null } });
    assert.deepEqual([reset.body.scopes, reset.body.default], [null, true]);
    assert.equal((await issue("llm:proxy billing:read")).status, 200);
  },
);

onEveryStore(
  "service clients: the grant, rotation with a retirement, and revocation behave alike on every store",
  async (h) => {
    const admin = await h.mintToken({ scope: "admin:manage", ttlSeconds: 86400 });
    const clients = "/api/v1/auth/admin/clients";
    const created = await h.call("POST", clients, {
      token: admin,
      body: { name: "billing-worker", audience: AUDIENCE.api, scopes: ["usage:read", "billing:entitlement:check"] },
    });
    assert.equal(created.status, 200, created.text);
    const { client_id: clientId, key } = created.body;
    const exchange = (secret: string, scope?: string) =>
      h.call("POST", "/api/internal/auth/token", {
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: clientId,
          client_secret: secret,
          ...(scope === undefined ? {} : { scope }),
        }).toString(),
      });
    const first = await exchange(key, "usage:read");
    assert.deepEqual([first.status, first.body.scope], [200, "usage:read"], first.text);
    const start = h.clock.now;
    const rotated = await h.call("POST", `${clients}/${clientId}/rotate`, {
      token: admin,
      body: { retire_after_seconds: 60 },
    });
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal((await exchange(key)).status, 200, "the old key works until its retirement");
    h.clock.now = start + 60_000;
    assertError(await exchange(key), 401, "invalid_client");
    const fresh = await exchange(rotated.body.key);
    assert.equal(fresh.status, 200, fresh.text);
    const listed = (await h.call("GET", clients, { token: admin })).body.clients[0];
    assert.deepEqual(
      [listed.keys.length, listed.last_used_at, listed.scopes],
      [1, new Date(h.clock.now).toISOString(), ["usage:read", "billing:entitlement:check"]],
    );
    assert.equal((await h.call("POST", `${clients}/${clientId}/revoke`, { token: admin })).status, 200);
    assertError(await exchange(rotated.body.key), 401, "invalid_client");
    assertError(await h.call("GET", "/api/v1/auth/check", { token: fresh.body.access_token }), 401, "token_revoked");
    assertError(
      await h.call("POST", clients, {
        token: admin,
        body: { name: "billing-worker", audience: AUDIENCE.api, scopes: "a" },
      }),
      409,
      "client_exists",
    );
  },
);
