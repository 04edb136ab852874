import assert from "node:assert/strict";
import { AUDIENCE } from "../lib/claims.ts";
import { assertError, createHarness } from "../tests/helpers/app_testing.ts";

Deno.test("GET /admin/waitlist lists pending registrations with the documented fields", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "new@example.com" } });
  await h.approvedUser("done@example.com");
  const reply = await h.call("GET", "/api/v1/auth/admin/waitlist", {
    token: await h.mintToken({ scope: "waitlist:read" }),
  });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.body.next_cursor, null);
  assert.equal(reply.body.users.length, 1);
  const [user] = reply.body.users;
  assert.deepEqual(Object.keys(user).sort(), ["created_at", "email", "status", "updated_at", "user_id", "verified"]);
  assert.equal(user.email, "new@example.com");
  assert.equal(user.status, "waitlisted");
  assert.equal(user.verified, false);
  assert.ok(!Number.isNaN(Date.parse(user.created_at)));
});

Deno.test("GET /admin/waitlist pages with limit and next_cursor until every user was seen once", async () => {
  const h = createHarness({ policy: { rateLimitPerIp: 0 } });
  for (let i = 0; i < 7; i++) {
    await h.call("POST", "/api/v1/auth/register", { body: { email: `u${i}@example.com` } });
    if (i % 3 === 0) h.clock.now += 1;
  }
  const token = await h.mintToken({ scope: "admin:manage" });
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
    const reply = await h.call("GET", `/api/v1/auth/admin/waitlist${query}`, { token });
    assert.equal(reply.status, 200, reply.text);
    seen.push(...reply.body.users.map((u: { email: string }) => u.email));
    cursor = reply.body.next_cursor;
    pages++;
  } while (cursor !== null);
  assert.equal(pages, 3);
  // Users created in the same millisecond are ordered by id, so compare as sets (no gaps, no repeats).
  assert.equal(seen.length, 7);
  assert.deepEqual([...seen].sort(), Array.from({ length: 7 }, (_, i) => `u${i}@example.com`).sort());
});

Deno.test("GET /admin/waitlist filters by status", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "new@example.com" } });
  await h.approvedUser("done@example.com");
  const token = await h.mintToken({ scope: "waitlist:read" });
  const approved = await h.call("GET", "/api/v1/auth/admin/waitlist?status=approved", { token });
  assert.deepEqual(approved.body.users.map((u: { email: string }) => u.email), ["done@example.com"]);
  const all = await h.call("GET", "/api/v1/auth/admin/waitlist?status=all", { token });
  assert.equal(all.body.users.length, 2);
});

Deno.test("GET /admin/waitlist refuses bad queries and tokens", async (t) => {
  const h = createHarness();
  const read = await h.mintToken({ scope: "waitlist:read" });
  const cases: [string, string, () => Promise<string | undefined>, number, string][] = [
    ["no token", "", () => Promise.resolve(undefined), 401, "missing_token"],
    ["user session token", "", async () => (await h.signIn("a@example.com")).token, 403, "insufficient_scope"],
    ["approve-only scope", "", () => h.mintToken({ scope: "waitlist:approve" }), 403, "insufficient_scope"],
    ["API audience", "", () => h.mintToken({ aud: AUDIENCE.api }), 401, "token_wrong_audience"],
    ["internal audience", "", () => h.mintToken({ aud: AUDIENCE.internal }), 401, "token_wrong_audience"],
    ["expired", "", () => h.mintToken({ iat: 1, exp: 2 }), 401, "token_expired"],
    ["limit zero", "?limit=0", () => Promise.resolve(read), 400, "invalid_limit"],
    ["limit too big", "?limit=501", () => Promise.resolve(read), 400, "invalid_limit"],
    ["limit not a number", "?limit=ten", () => Promise.resolve(read), 400, "invalid_limit"],
    ["forged cursor", "?cursor=bm90LWEtY3Vyc29y", () => Promise.resolve(read), 400, "invalid_cursor"],
    ["unknown status", "?status=banned", () => Promise.resolve(read), 400, "invalid_status"],
  ];
  for (const [name, query, token, status, code] of cases) {
    await t.step(name, async () => {
      assertError(await h.call("GET", `/api/v1/auth/admin/waitlist${query}`, { token: await token() }), status, code);
    });
  }
});

Deno.test("POST /admin/approve creates the account id once; repeats and re-approvals return it", async () => {
  const h = createHarness();
  await h.signIn("a@example.com");
  const token = await h.mintToken({ scope: "waitlist:approve" });
  const first = await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "A@Example.com" } });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(Object.keys(first.body).sort(), ["account_id", "email", "status", "user_id"]);
  assert.equal(first.body.status, "approved");
  assert.match(first.body.account_id, /^[0-9a-f-]{36}$/);
  const repeat = await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "a@example.com" } });
  assert.deepEqual(repeat.body, first.body);
  await h.call("POST", "/api/v1/auth/admin/reject", { token, body: { email: "a@example.com" } });
  const back = await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "a@example.com" } });
  assert.equal(back.body.account_id, first.body.account_id);
});

Deno.test("POST /admin/approve refuses unverified (409), unknown (404), bad input (400), weak tokens (403)", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "new@example.com" } });
  const token = await h.mintToken({ scope: "admin:manage" });
  assertError(
    await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "new@example.com" } }),
    409,
    "not_verified",
  );
  assert.equal((await h.store.findUserByEmail("new@example.com"))?.status, "waitlisted");
  assertError(
    await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "ghost@example.com" } }),
    404,
    "user_not_found",
  );
  assertError(
    await h.call("POST", "/api/v1/auth/admin/approve", { token, body: { email: "nope" } }),
    400,
    "invalid_email",
  );
  assertError(await h.call("POST", "/api/v1/auth/admin/approve", { token, body: "{" }), 400, "invalid_json");
  assertError(await h.call("POST", "/api/v1/auth/admin/approve", { token, body: {} }), 400, "invalid_request");
  const readOnly = await h.mintToken({ scope: "waitlist:read" });
  assertError(
    await h.call("POST", "/api/v1/auth/admin/approve", { token: readOnly, body: { email: "new@example.com" } }),
    403,
    "insufficient_scope",
  );
  const rejectOnly = await h.mintToken({ scope: "waitlist:reject" });
  assertError(
    await h.call("POST", "/api/v1/auth/admin/approve", { token: rejectOnly, body: { email: "new@example.com" } }),
    403,
    "insufficient_scope",
  );
});

Deno.test("POST /admin/reject records the reason, keeps the user's session, and repeats idempotently", async () => {
  const h = createHarness();
  const { token: session, userId } = await h.signIn("a@example.com");
  const token = await h.mintToken({ scope: "waitlist:reject" });
  const reply = await h.call("POST", "/api/v1/auth/admin/reject", {
    token,
    body: { email: "a@example.com", reason: "duplicate account" },
  });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(reply.body, {
    user_id: userId,
    email: "a@example.com",
    status: "rejected",
    reason: "duplicate account",
  });
  const status = await h.call("GET", "/api/v1/auth/status", { token: session });
  assert.equal(status.status, 200, status.text);
  assert.deepEqual(status.body, { user_id: userId, verified: true, status: "rejected" });
  const me = await h.call("GET", "/me", { token: session });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.status, "rejected");
  assert.equal(me.body.account_id, undefined);
  const repeat = await h.call("POST", "/api/v1/auth/admin/reject", {
    token,
    body: { email: "a@example.com", reason: "another reason" },
  });
  assert.deepEqual(repeat.body, reply.body, "a repeated reject keeps the first reason");
  assertError(
    await h.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "llm:proxy" } }),
    403,
    "account_rejected",
  );
});

Deno.test("POST /admin/reject of an approved user revokes API access through /check", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("a@example.com");
  const api = (await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } })).body.access_token;
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: api })).status, 200);
  await h.call("POST", "/api/v1/auth/admin/reject", {
    token: await h.mintToken({ scope: "admin:manage" }),
    body: { email: "a@example.com" },
  });
  assertError(await h.call("GET", "/api/v1/auth/check", { token: api }), 401, "token_revoked");
});

Deno.test("a re-approval does not revive API tokens issued before the reject; new ones work", async (t) => {
  const h = createHarness();
  const admin = await h.mintToken({ scope: "admin:manage" });
  const { token: session, accountId } = await h.approvedUser("a@example.com");
  const issue = () => h.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "llm:proxy" } });
  const check = (token: string) => h.call("GET", "/api/v1/auth/check", { token });
  const old = (await issue()).body.access_token;
  assert.equal((await check(old)).status, 200);

  h.clock.now += 5_000;
  await t.step("reject: the old token is refused, the session says rejected, no new token", async () => {
    const rejected = await h.call("POST", "/api/v1/auth/admin/reject", {
      token: admin,
      body: { email: "a@example.com" },
    });
    assert.equal(rejected.status, 200, rejected.text);
    assertError(await check(old), 401, "token_revoked");
    const status = await h.call("GET", "/api/v1/auth/status", { token: session });
    assert.equal(status.status, 200, status.text);
    assert.equal(status.body.status, "rejected");
    assertError(await issue(), 403, "account_rejected");
  });

  await t.step("approve again: the same account, the old token still refused, a new token works", async () => {
    h.clock.now += 1_000;
    const approved = await h.call("POST", "/api/v1/auth/admin/approve", {
      token: admin,
      body: { email: "a@example.com" },
    });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.body.account_id, accountId);
    assertError(await check(old), 401, "token_revoked");
    const fresh = await issue();
    assert.equal(fresh.status, 200, fresh.text);
    const checked = await check(fresh.body.access_token);
    assert.equal(checked.status, 200, checked.text);
    assert.equal(checked.body.sub, accountId);
    assert.equal((await h.call("GET", "/api/v1/auth/status", { token: session })).body.status, "approved");
  });

  await t.step("a token issued in the very millisecond of the reject is refused", async () => {
    const sameMoment = (await issue()).body.access_token;
    await h.call("POST", "/api/v1/auth/admin/reject", { token: admin, body: { email: "a@example.com" } });
    h.clock.now += 1_000;
    await h.call("POST", "/api/v1/auth/admin/approve", { token: admin, body: { email: "a@example.com" } });
    assertError(await check(sameMoment), 401, "token_revoked");
  });
});

Deno.test("POST /admin/reject refuses unknown users, bad reasons and weak tokens", async () => {
  const h = createHarness();
  await h.signIn("a@example.com");
  const token = await h.mintToken({ scope: "waitlist:approve" });
  assertError(
    await h.call("POST", "/api/v1/auth/admin/reject", { token, body: { email: "ghost@example.com" } }),
    404,
    "user_not_found",
  );
  assertError(
    await h.call("POST", "/api/v1/auth/admin/reject", { token, body: { email: "a@example.com", reason: 7 } }),
    400,
    "invalid_request",
  );
  assertError(
    await h.call("POST", "/api/v1/auth/admin/reject", {
      token,
      body: { email: "a@example.com", reason: "x".repeat(501) },
    }),
    400,
    "invalid_reason",
  );
  assertError(
    await h.call("POST", "/api/v1/auth/admin/reject", { token, body: { email: "a@example.com", reason: "a\nb" } }),
    400,
    "invalid_reason",
  );
  const readOnly = await h.mintToken({ scope: "waitlist:read" });
  assertError(
    await h.call("POST", "/api/v1/auth/admin/reject", { token: readOnly, body: { email: "a@example.com" } }),
    403,
    "insufficient_scope",
  );
  assert.equal((await h.store.findUserByEmail("a@example.com"))?.status, "waitlisted", "refusals changed nothing");
});
