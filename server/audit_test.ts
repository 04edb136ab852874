/**
 * The audit trail over HTTP: what each act records, what is never
 * recorded, and `GET {A}/admin/audit` with its filters, paging and errors.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AUDIENCE } from "../lib/claims.ts";
import type { AuditRecord } from "../lib/store/audit.ts";
import { encodeCursor } from "../lib/service/cursor.ts";
import {
  assertError,
  createHarness,
  decodeClaims,
  TEST_CLIENT_IP,
  TEST_INTERNAL_KEY,
  TEST_SIGNING_KEY,
} from "../tests/helpers/app_testing.ts";

type Harness = ReturnType<typeof createHarness>;

/** Every record of the harness's store, oldest first. */
async function trail(h: Harness): Promise<AuditRecord[]> {
  return await h.store.listAudit({ since: null, actor: null, target: null, action: null, after: null, limit: 10_000 });
}

/** The records of one action. */
async function recordsOf(h: Harness, action: string): Promise<AuditRecord[]> {
  return (await trail(h)).filter((record) => record.action === action);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("approve records user.approve: the admin, the user id, the email and account id, the request id and address", async () => {
  const h = createHarness();
  const { userId } = await h.signIn("alice@example.com");
  const token = await h.mintToken({ sub: "ops-alice", scope: "waitlist:approve" });
  const reply = await h.call("POST", "/api/v1/auth/admin/approve", {
    token,
    body: { email: "Alice@Example.com" },
    headers: { "X-Request-Id": "req-approve-1" },
  });
  assert.equal(reply.status, 200, reply.text);
  const [record] = await recordsOf(h, "user.approve");
  assert.match(record.auditId, UUID);
  assert.deepEqual({ ...record, auditId: "" }, {
    auditId: "",
    at: h.clock.now,
    actor: "admin:ops-alice",
    action: "user.approve",
    target: userId,
    detail: `alice@example.com; account ${reply.body.account_id}`,
    requestId: "req-approve-1",
    sourceIp: TEST_CLIENT_IP,
    outcome: "ok",
  });
  const again = await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "alice@example.com" } });
  assert.equal(again.status, 200);
  const both = await recordsOf(h, "user.approve");
  assert.equal(both.length, 2, "a repeated decision is an act too");
  assert.equal(both[1].detail, `alice@example.com; account ${reply.body.account_id}; already approved`);
  assert.equal(both[1].requestId, again.headers.get("X-Request-Id"), "a generated request id is recorded");
});

Deno.test("reject records user.reject with the email and the reason; a refused decision (404, 409) records nothing", async () => {
  const h = createHarness();
  const { userId } = await h.signIn("mallory@example.com");
  await h.call("POST", "/api/v1/auth/register", { body: { email: "unverified@example.com" } });
  const token = await h.mintToken({ scope: "waitlist:reject waitlist:approve" });
  const reply = await h.call("POST", "/auth/admin/reject", {
    token,
    body: { email: "mallory@example.com", reason: "  duplicate account  " },
  });
  assert.equal(reply.status, 200, reply.text);
  assertError(
    await h.call("POST", "/auth/admin/reject", { token, body: { email: "ghost@example.com" } }),
    404,
    "user_not_found",
  );
  assertError(
    await h.call("POST", "/auth/admin/approve", { token, body: { email: "unverified@example.com" } }),
    409,
    "not_verified",
  );
  const records = await trail(h);
  assert.deepEqual(records.map((r) => [r.action, r.actor, r.target, r.detail, r.outcome]), [
    ["otp.verify", `user:${userId}`, userId, null, "ok"],
    ["user.reject", "admin:test-operator", userId, "mallory@example.com; reason: duplicate account", "ok"],
  ]);
});

Deno.test("token revocation records token.revoke with the jti as target", async () => {
  const h = createHarness();
  const jti = crypto.randomUUID();
  const token = await h.mintToken({ scope: "admin:manage" });
  const reply = await h.call("POST", "/modules/auth/admin/tokens/revoke", { token, body: { jti: jti.toUpperCase() } });
  assert.equal(reply.status, 200, reply.text);
  h.clock.now += 1;
  await h.call("POST", "/modules/auth/admin/tokens/revoke", { token, body: { jti } });
  const records = await recordsOf(h, "token.revoke");
  assert.deepEqual(records.map((r) => [r.actor, r.target, r.detail]), [
    ["admin:test-operator", jti, null],
    ["admin:test-operator", jti, "already revoked"],
  ]);
});

Deno.test("otp/verify records otp.verify by the user, without the email; logout records session.logout", async () => {
  const h = createHarness();
  const { token, userId } = await h.signIn("bob@example.com");
  const [verified] = await recordsOf(h, "otp.verify");
  assert.deepEqual([verified.actor, verified.target, verified.detail], [`user:${userId}`, userId, null]);
  assert.equal(await recordsOf(h, "otp.locked").then((r) => r.length), 0);
  assert.equal((await h.call("POST", "/api/v1/auth/logout", { token })).status, 204);
  assertError(await h.call("POST", "/api/v1/auth/logout", { token }), 401, "token_revoked");
  const logouts = await recordsOf(h, "session.logout");
  assert.deepEqual(logouts.map((r) => [r.actor, r.target, r.outcome]), [[`user:${userId}`, userId, "ok"]]);
  assert.ok(!JSON.stringify(await trail(h)).includes("bob@example.com"), "no act by the user names the email");
});

Deno.test("the wrong guess that locks an email records otp.locked once, by anonymous, with the user id", async () => {
  const h = createHarness({ policy: { otpMaxFailuresPerDay: 3, otpResendSeconds: 0, rateLimitPerIp: 0 } });
  const email = "target@example.com";
  const { userId } = await h.signIn(email);
  const wrong = (code: string) => code === "000000" ? "111111" : "000000";
  for (let i = 0; i < 3; i++) {
    await h.call("POST", "/api/v1/auth/otp/request", { body: { email } });
    const reply = await h.call("POST", "/api/v1/auth/otp/verify", {
      body: { email, otp: wrong(h.sender.latestCode(email)!) },
      ip: "198.51.100.7",
    });
    assertError(reply, 401, "otp_invalid");
  }
  for (let i = 0; i < 3; i++) {
    assertError(
      await h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp: "123456" }, ip: "198.51.100.7" }),
      429,
      "otp_locked",
    );
  }
  const locked = await recordsOf(h, "otp.locked");
  assert.deepEqual(locked.map((r) => [r.actor, r.target, r.detail, r.sourceIp]), [
    ["anonymous", userId, "3 wrong codes in 24 h", "198.51.100.7"],
  ]);
  assert.equal(h.events.length, 1, "and logged once, as before");
});

Deno.test("check, status, me and POST /token write no audit record", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("carol@example.com");
  const before = (await trail(h)).length;
  const api = await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } });
  assert.equal(api.status, 200, api.text);
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: api.body.access_token })).status, 200);
  assert.equal((await h.call("GET", "/api/v1/auth/status", { token })).status, 200);
  assert.equal((await h.call("GET", "/api/v1/auth/me", { token })).status, 200);
  assertError(
    await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "admin:manage" } }),
    403,
    "scope_not_allowed",
  );
  assert.equal((await trail(h)).length, before);
});

Deno.test("a good admin token without the scope is refused and recorded with outcome insufficient_scope", async () => {
  const h = createHarness();
  await h.signIn("dave@example.com");
  const reader = await h.mintToken({ sub: "ops-reader", scope: "waitlist:read" });
  const jti = decodeClaims(reader).jti;
  const cases: [string, string, unknown, string, string][] = [
    ["POST", "admin/approve", { email: "dave@example.com" }, "user.approve", "waitlist:approve or admin:manage"],
    [
      "POST",
      "admin/reject",
      { email: "dave@example.com" },
      "user.reject",
      "waitlist:approve or waitlist:reject or admin:manage",
    ],
    ["POST", "admin/tokens/revoke", { jti: crypto.randomUUID() }, "token.revoke", "admin:manage"],
    ["GET", "admin/audit", undefined, "audit.read", "admin:manage"],
    [
      "PUT",
      "admin/accounts/policy?email=dave%40example.com",
      { scopes: "llm:proxy" },
      "account.policy",
      "admin:manage",
    ],
    ["GET", "admin/accounts/policy?email=dave%40example.com", undefined, "account.policy.read", "admin:manage"],
    [
      "POST",
      "admin/clients",
      { name: "x", audience: "ai.hg.fi/api", scopes: "llm:proxy" },
      "client.create",
      "admin:manage",
    ],
    ["GET", "admin/clients", undefined, "client.list", "admin:manage"],
    ["POST", `admin/clients/${crypto.randomUUID()}/rotate`, {}, "client.rotate", "admin:manage"],
    ["POST", `admin/clients/${crypto.randomUUID()}/revoke`, {}, "client.revoke", "admin:manage"],
  ];
  for (const [method, path, body, action, needs] of cases) {
    assertError(await h.call(method, `/api/v1/auth/${path}`, { token: reader, body }), 403, "insufficient_scope");
    const [record] = (await recordsOf(h, action)).slice(-1);
    assert.deepEqual([record.actor, record.target, record.detail, record.outcome], [
      "admin:ops-reader",
      null,
      `needs ${needs}; token ${jti}`,
      "insufficient_scope",
    ], action);
  }
  const nobody = await h.mintToken({ scope: "" });
  assertError(await h.call("GET", "/api/v1/auth/admin/waitlist", { token: nobody }), 403, "insufficient_scope");
  assert.equal((await recordsOf(h, "waitlist.read")).at(-1)?.outcome, "insufficient_scope");
});

Deno.test("refusals by user sessions and by bad tokens are not recorded: anyone could grow the trail with them", async () => {
  const h = createHarness();
  const { token: session } = await h.signIn("eve@example.com");
  const before = (await trail(h)).length;
  const forged = await h.mintToken({ scope: "admin:manage", iss: "someone-else" });
  const apiAudience = await h.mintToken({ scope: "admin:manage", aud: AUDIENCE.api });
  for (const path of ["admin/approve", "admin/reject", "admin/tokens/revoke"]) {
    const body = path.endsWith("revoke") ? { jti: crypto.randomUUID() } : { email: "eve@example.com" };
    assertError(await h.call("POST", `/api/v1/auth/${path}`, { token: session, body }), 403, "insufficient_scope");
    assertError(await h.call("POST", `/api/v1/auth/${path}`, { body }), 401, "missing_token");
    assert.equal((await h.call("POST", `/api/v1/auth/${path}`, { token: forged, body })).status, 401);
    assert.equal((await h.call("POST", `/api/v1/auth/${path}`, { token: apiAudience, body })).status, 401);
  }
  assertError(await h.call("GET", "/api/v1/auth/admin/audit", { token: session }), 403, "insufficient_scope");
  assert.equal((await trail(h)).length, before);
});

Deno.test("after a whole flow the trail holds no OTP, token, key or secret", async () => {
  const h = createHarness({ policy: { otpMaxFailuresPerDay: 2, otpResendSeconds: 0, rateLimitPerIp: 0 } });
  const secrets: string[] = [TEST_INTERNAL_KEY, new TextDecoder().decode(TEST_SIGNING_KEY)];
  const email = "frank@example.com";
  await h.call("POST", "/api/v1/auth/register", { body: { email } });
  await h.call("POST", "/api/v1/auth/otp/request", { body: { email } });
  const otp = h.sender.latestCode(email)!;
  secrets.push(otp);
  const verified = await h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp } });
  const session = verified.body.access_token;
  const admin = await h.mintToken({ scope: "admin:manage waitlist:approve waitlist:read" });
  assert.equal((await h.call("POST", "/api/v1/auth/admin/approve", { token: admin, body: { email } })).status, 200);
  const api = (await h.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "llm:proxy" } })).body
    .access_token;
  const refreshed = (await h.call("POST", "/api/v1/auth/token/refresh", { token: session })).body.access_token;
  const internal = await h.call("POST", "/api/internal/auth/token", {
    headers: { "X-Bus-Internal-Key": TEST_INTERNAL_KEY },
    body: { subject: "svc", audience: "ai.hg.fi/auth", scope: "waitlist:read" },
  });
  assert.equal(internal.status, 200, internal.text);
  const reader = internal.body.access_token;
  await h.call("POST", "/api/v1/auth/admin/approve", { token: reader, body: { email } });
  await h.call("POST", "/api/v1/auth/admin/tokens/revoke", { token: admin, body: { jti: decodeClaims(api).jti } });
  await h.call("POST", "/api/v1/auth/admin/reject", { token: admin, body: { email, reason: "test" } });
  // Lock the email with wrong codes.
  for (let i = 0; i < 2; i++) {
    await h.call("POST", "/api/v1/auth/otp/request", { body: { email } });
    const code = h.sender.latestCode(email)!;
    secrets.push(code);
    await h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp: code === "000000" ? "111111" : "000000" } });
  }
  await h.call("POST", "/api/v1/auth/logout", { token: refreshed });
  const page = await h.call("GET", "/api/v1/auth/admin/audit?limit=500", { token: admin });
  assert.equal(page.status, 200, page.text);
  const actions = new Set((await trail(h)).map((r) => r.action));
  for (const action of ["otp.verify", "user.approve", "token.revoke", "user.reject", "otp.locked", "session.logout"]) {
    assert.ok(actions.has(action), `${action} is in the trail`);
  }
  const text = JSON.stringify(await trail(h)) + page.text;
  for (const token of [session, refreshed, api, admin, reader]) {
    secrets.push(token);
    // A signature or payload alone would be as bad as the token.
    secrets.push(...token.split(".").slice(1));
  }
  for (const secret of secrets) assert.ok(!text.includes(secret), `the trail holds "${secret.slice(0, 12)}…"`);
});

Deno.test("GET /admin/audit answers {records, next_cursor} under every auth base and the prefix", async () => {
  const h = createHarness({ routePrefix: "/local-dev/v1" });
  const token = await h.mintToken({ scope: "admin:manage" });
  await h.call("POST", "/api/v1/auth/admin/tokens/revoke", { token, body: { jti: crypto.randomUUID() } });
  for (const prefix of ["", "/local-dev/v1"]) {
    for (const base of ["/api/v1/auth", "/modules/auth", "/auth"]) {
      const reply = await h.call("GET", `${prefix}${base}/admin/audit`, { token });
      assert.equal(reply.status, 200, `${prefix}${base}: ${reply.text}`);
      assert.equal(reply.body.next_cursor, null);
      assert.equal(reply.body.records.length, 1);
      assert.deepEqual(Object.keys(reply.body.records[0]), [
        "audit_id",
        "at",
        "actor",
        "action",
        "target",
        "detail",
        "request_id",
        "source_ip",
        "outcome",
      ]);
      assert.equal(reply.body.records[0].at, new Date(h.clock.now).toISOString());
    }
  }
  assertError(await h.call("GET", "/api/v1/auth/admin/audit"), 401, "missing_token");
  assertError(
    await h.call("GET", "/api/v1/auth/admin/audit", {
      token: await h.mintToken({ scope: "waitlist:read waitlist:approve" }),
    }),
    403,
    "insufficient_scope",
  );
});

/** A trail of known acts an hour apart: revocations by two admins, approvals and rejections. */
async function seeded(): Promise<{ h: Harness; token: string; start: number; users: Record<string, string> }> {
  const h = createHarness({ policy: { rateLimitPerIp: 0, otpResendSeconds: 0 } });
  const users: Record<string, string> = {};
  for (const name of ["ann", "ben"]) users[name] = (await h.signIn(`${name}@example.com`)).userId;
  const start = h.clock.now + 3600_000;
  const ops1 = await h.mintToken({ sub: "ops-1", scope: "admin:manage", ttlSeconds: 86400 });
  const ops2 = await h.mintToken({ sub: "ops-2", scope: "admin:manage", ttlSeconds: 86400 });
  const acts: [string, string, unknown][] = [
    [ops1, "admin/approve", { email: "ann@example.com" }],
    [ops2, "admin/approve", { email: "ben@example.com" }],
    [ops1, "admin/reject", { email: "ben@example.com" }],
    [ops2, "admin/tokens/revoke", { jti: "00000000-0000-4000-8000-000000000001" }],
    [ops1, "admin/approve", { email: "ben@example.com" }],
  ];
  for (const [token, path, body] of acts) {
    h.clock.now += 3600_000;
    const reply = await h.call("POST", `/api/v1/auth/${path}`, { token, body });
    assert.equal(reply.status, 200, reply.text);
  }
  return { h, token: ops1, start, users };
}

Deno.test("GET /admin/audit filters by actor, target, action and since, alone and together", async () => {
  const { h, token, start, users } = await seeded();
  const list = async (query: string) => {
    const reply = await h.call("GET", `/api/v1/auth/admin/audit?${query}`, { token });
    assert.equal(reply.status, 200, `${query}: ${reply.text}`);
    return reply.body.records.map((r: { action: string; actor: string }) => `${r.action} ${r.actor}`);
  };
  assert.deepEqual(await list("actor=admin:ops-2"), ["user.approve admin:ops-2", "token.revoke admin:ops-2"]);
  assert.deepEqual(await list(`target=${users.ben}`), [
    `otp.verify user:${users.ben}`,
    "user.approve admin:ops-2",
    "user.reject admin:ops-1",
    "user.approve admin:ops-1",
  ]);
  assert.deepEqual(await list("action=user.reject"), ["user.reject admin:ops-1"]);
  assert.deepEqual(await list(`action=user.approve&actor=admin:ops-1&target=${users.ben}`), [
    "user.approve admin:ops-1",
  ]);
  assert.deepEqual(await list(`action=otp.verify&actor=user:${users.ann}`), [`otp.verify user:${users.ann}`]);
  // The clock stands at start + 4 h: the last two acts are within 90 minutes.
  assert.deepEqual(await list("since=90m"), ["token.revoke admin:ops-2", "user.approve admin:ops-1"]);
  assert.deepEqual(await list("since=2h&actor=admin:ops-1"), ["user.reject admin:ops-1", "user.approve admin:ops-1"]);
  const iso = new Date(start + 3600_000).toISOString();
  assert.deepEqual(await list(`since=${encodeURIComponent(iso)}`), [
    "user.approve admin:ops-2",
    "user.reject admin:ops-1",
    "token.revoke admin:ops-2",
    "user.approve admin:ops-1",
  ]);
  assert.deepEqual(await list("since=2100-01-01"), []);
  assert.deepEqual(await list("actor=admin:nobody"), []);
});

Deno.test("GET /admin/audit pages with limit and next_cursor until every record was seen once", async () => {
  const { h, token } = await seeded();
  const all = await trail(h);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
    const reply = await h.call("GET", `/modules/auth/admin/audit${query}`, { token });
    assert.equal(reply.status, 200, reply.text);
    assert.ok(reply.body.records.length <= 2);
    seen.push(...reply.body.records.map((r: { audit_id: string }) => r.audit_id));
    cursor = reply.body.next_cursor;
    pages++;
  } while (cursor !== null);
  assert.equal(all.length, 7);
  assert.equal(pages, 4);
  assert.deepEqual(seen, all.map((r) => r.auditId), "in order, no gaps, no repeats");
  const exact = await h.call("GET", "/modules/auth/admin/audit?limit=7", { token });
  assert.equal(exact.body.next_cursor, null, "a full last page says there is no next one");
  // A cursor keeps working as new records arrive after it.
  const last = await h.call("GET", "/modules/auth/admin/audit?limit=6", { token });
  h.clock.now += 1;
  await h.call("POST", "/api/v1/auth/admin/tokens/revoke", { token, body: { jti: crypto.randomUUID() } });
  const more = await h.call("GET", `/modules/auth/admin/audit?cursor=${last.body.next_cursor}`, { token });
  assert.deepEqual(more.body.records.map((r: { action: string }) => r.action), ["user.approve", "token.revoke"]);
});

Deno.test("GET /admin/audit refuses cursors it did not write, bad limits, times and filters with 400", async () => {
  const { h, token } = await seeded();
  const first = await h.call("GET", "/api/v1/auth/admin/audit?limit=1", { token });
  const good: string = first.body.next_cursor;
  const [, at, id] = JSON.parse(Buffer.from(good, "base64url").toString());
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const cursors = [
    "x",
    "not a cursor",
    `${good}=`,
    `${good}A`,
    good.toUpperCase(),
    encodeCursor({ createdAt: at, userId: id }),
    b64([at, id]),
    b64(["audit", at, id.toUpperCase()]),
    b64(["audit", at, "x"]),
    b64(["audit", at, `${id}\u0000`]),
    b64(["audit", -1, id]),
    b64(["audit", 9007199254740991, id]),
    b64(["audit", at + 0.5, id]),
    b64(["audit", String(at), id]),
    b64(["audit", at, id, 1]),
    b64({ at, id }),
    Buffer.from(`["audit", ${at}, "${id}"]`).toString("base64url"),
    "A".repeat(129),
  ];
  for (const cursor of cursors) {
    const reply = await h.call("GET", `/api/v1/auth/admin/audit?cursor=${encodeURIComponent(cursor)}`, { token });
    assertError(reply, 400, "invalid_cursor");
  }
  for (const limit of ["0", "501", "abc", "-1", "1.5", "9999999"]) {
    assertError(await h.call("GET", `/api/v1/auth/admin/audit?limit=${limit}`, { token }), 400, "invalid_limit");
  }
  for (const since of ["", "yesterday", "-1h", "2026-02-30", "2026-11-24T08:00:00", "10000-01-01", "%00"]) {
    assertError(await h.call("GET", `/api/v1/auth/admin/audit?since=${since}`, { token }), 400, "invalid_since");
  }
  for (const name of ["actor", "target", "action"]) {
    for (const value of ["", "a%20b", "%00", "a%0Ab", "%C3%A9", "x".repeat(257)]) {
      assertError(await h.call("GET", `/api/v1/auth/admin/audit?${name}=${value}`, { token }), 400, "invalid_filter");
    }
  }
  assert.equal((await h.call("GET", `/api/v1/auth/admin/audit?cursor=${good}&limit=500`, { token })).status, 200);
});
