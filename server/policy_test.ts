import assert from "node:assert/strict";
import { MemoryStore } from "../lib/store/memory.ts";
import { AUTH_BASES } from "./app.ts";
import { assertError, createHarness, type Reply } from "../tests/helpers/app_testing.ts";

const GLOBAL = ["llm:proxy", "billing:read", "vm:read"];
const BY_EMAIL = "/api/v1/auth/admin/accounts/policy?email=";

function byAccount(accountId: string, base = "/api/v1/auth"): string {
  return `${base}/admin/accounts/${accountId}/policy`;
}

/** A harness with a three-scope global list, a manager token and an approved user with an API token helper. */
async function setup(options: { store?: MemoryStore; routePrefix?: string } = {}) {
  const h = createHarness({ policy: { apiUserScopes: GLOBAL }, ...options });
  const manager = await h.mintToken({ scope: "admin:manage" });
  const apiToken = async (session: string, scope: string): Promise<Reply> =>
    await h.call("POST", "/api/v1/auth/token", { token: session, body: { scope } });
  const check = async (token: string): Promise<Reply> => await h.call("GET", "/api/v1/auth/check", { token });
  const policyRecords = async () =>
    (await h.store.listAudit({
      since: null,
      actor: null,
      target: null,
      action: "account.policy",
      after: null,
      limit: 100,
    }))
      .map(({ actor, target, detail, outcome }) => ({ actor, target, detail, outcome }));
  return { h, manager, apiToken, check, policyRecords };
}

Deno.test("GET /admin/accounts/{id}/policy and ?email= answer the default: the whole global list", async () => {
  const { h, manager } = await setup();
  const { accountId, userId } = await h.approvedUser("user@example.com");
  const expected = {
    account_id: accountId,
    user_id: userId,
    email: "user@example.com",
    status: "approved",
    scopes: null,
    default: true,
    effective_scopes: "llm:proxy billing:read vm:read",
  };
  const byId = await h.call("GET", byAccount(accountId), { token: manager });
  assert.equal(byId.status, 200, byId.text);
  assert.deepEqual(byId.body, expected);
  const byMail = await h.call("GET", `${BY_EMAIL}${encodeURIComponent("User@Example.com")}`, { token: manager });
  assert.equal(byMail.status, 200, byMail.text);
  assert.deepEqual(byMail.body, expected);
  const upper = await h.call("GET", byAccount(accountId.toUpperCase()), { token: manager });
  assert.deepEqual(upper.body, expected, "an account id in capitals is the same id");
});

Deno.test("PUT /admin/accounts/{id}/policy narrows the account: /token refuses the rest with scope_not_allowed", async () => {
  const { h, manager, apiToken, policyRecords } = await setup();
  const { token: session, accountId } = await h.approvedUser("user@example.com");
  const put = await h.call("PUT", byAccount(accountId), { token: manager, body: { scopes: "llm:proxy" } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(
    [put.body.scopes, put.body.default, put.body.effective_scopes, put.body.account_id],
    ["llm:proxy", false, "llm:proxy", accountId],
  );
  const got = await h.call("GET", byAccount(accountId), { token: manager });
  assert.deepEqual(got.body, put.body);

  const allowed = await apiToken(session, "llm:proxy");
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(allowed.body.scope, "llm:proxy");
  const refused = await apiToken(session, "llm:proxy billing:read");
  assertError(refused, 403, "scope_not_allowed");
  assert.match(refused.body.message, /"billing:read"/);
  assert.match(refused.body.message, /account's scope policy does not allow it/);
  // Outside the global list the global message still applies.
  assert.match((await apiToken(session, "container:run")).body.message, /not in the scopes this provider issues/);

  assert.deepEqual(await policyRecords(), [
    { actor: "admin:test-operator", target: accountId, detail: "llm:proxy", outcome: "ok" },
  ]);
});

Deno.test('PUT .../policy with scopes null restores the default and "" allows no scope at all', async () => {
  const { h, manager, apiToken, policyRecords } = await setup();
  const { token: session, accountId } = await h.approvedUser("user@example.com");
  const none = await h.call("PUT", `${BY_EMAIL}user@example.com`, { token: manager, body: { scopes: "" } });
  assert.equal(none.status, 200, none.text);
  assert.deepEqual([none.body.scopes, none.body.default, none.body.effective_scopes], ["", false, ""]);
  assertError(await apiToken(session, "llm:proxy"), 403, "scope_not_allowed");

  h.clock.now += 1;
  const reset = await h.call("PUT", byAccount(accountId), { token: manager, body: { scopes: null } });
  assert.equal(reset.status, 200, reset.text);
  assert.deepEqual([reset.body.scopes, reset.body.default], [null, true]);
  assert.equal(reset.body.effective_scopes, GLOBAL.join(" "));
  assert.equal((await apiToken(session, "llm:proxy billing:read vm:read")).status, 200);
  assert.deepEqual((await policyRecords()).map((r) => r.detail), ["(none)", "default"]);
});

Deno.test("PUT .../policy never widens beyond the global list nor admits operator scopes", async (t) => {
  const { h, manager, policyRecords } = await setup();
  const { accountId } = await h.approvedUser("user@example.com");
  const put = (body: unknown) => h.call("PUT", byAccount(accountId), { token: manager, body });
  await t.step("a scope outside BUS_AUTH_API_USER_SCOPES is 403 scope_not_allowed naming it", async () => {
    const reply = await put({ scopes: "llm:proxy container:run" });
    assertError(reply, 403, "scope_not_allowed");
    assert.match(reply.body.message, /"container:run"/);
    assert.match(reply.body.message, /BUS_AUTH_API_USER_SCOPES/);
  });
  await t.step("operator and internal scopes are 403 scope_not_allowed", async () => {
    for (const scopes of ["admin:manage", "llm:proxy waitlist:approve", "internal:x", "llm:*", "vm:admin"]) {
      const reply = await put({ scopes });
      assertError(reply, 403, "scope_not_allowed");
      assert.match(reply.body.message, /operator powers/, scopes);
    }
  });
  await t.step("malformed bodies are 400", async () => {
    assertError(await put({ scopes: "llm;proxy" }), 400, "invalid_scope");
    assertError(await put({}), 400, "invalid_request");
    assertError(await put({ scopes: ["llm:proxy"] }), 400, "invalid_request");
    assertError(await put({ scopes: 1 }), 400, "invalid_request");
    assertError(await put("not json"), 400, "invalid_json");
  });
  await t.step("nothing was stored or recorded", async () => {
    const got = await h.call("GET", byAccount(accountId), { token: manager });
    assert.equal(got.body.default, true);
    assert.deepEqual(await policyRecords(), []);
  });
});

Deno.test("policy calls need admin:manage: 401 without a token, 403 insufficient_scope with another scope", async () => {
  const { h, manager } = await setup();
  const { accountId, token: session } = await h.approvedUser("user@example.com");
  const approver = await h.mintToken({ scope: "waitlist:read waitlist:approve waitlist:reject" });
  for (const [method, body] of [["GET", undefined], ["PUT", { scopes: "llm:proxy" }]] as const) {
    for (const path of [byAccount(accountId), `${BY_EMAIL}user@example.com`]) {
      assertError(await h.call(method, path, { body }), 401, "missing_token");
      assertError(await h.call(method, path, { token: approver, body }), 403, "insufficient_scope");
      assertError(await h.call(method, path, { token: session, body }), 403, "insufficient_scope");
      const api = await h.mintToken({ aud: "ai.hg.fi/api", scope: "admin:manage" });
      assertError(await h.call(method, path, { token: api, body }), 401, "token_wrong_audience");
    }
  }
  // An unknown account is not told apart before the token is checked.
  assertError(await h.call("GET", byAccount(crypto.randomUUID()), { token: approver }), 403, "insufficient_scope");
  assert.equal((await h.call("GET", byAccount(accountId), { token: manager })).body.default, true);
});

Deno.test("policy calls answer 404 for unknown accounts and emails, 400 for malformed ids", async () => {
  const { h, manager } = await setup();
  await h.signIn("waiting@example.com");
  for (const method of ["GET", "PUT"]) {
    const body = method === "PUT" ? { scopes: "llm:proxy" } : undefined;
    assertError(
      await h.call(method, byAccount(crypto.randomUUID()), { token: manager, body }),
      404,
      "account_not_found",
    );
    assertError(await h.call(method, `${BY_EMAIL}nobody@example.com`, { token: manager, body }), 404, "user_not_found");
    const waiting = await h.call(method, `${BY_EMAIL}waiting@example.com`, { token: manager, body });
    assertError(waiting, 404, "account_not_found");
    assert.match(waiting.body.message, /no account until it is approved/);
    assertError(await h.call(method, byAccount("not-a-uuid"), { token: manager, body }), 400, "invalid_account_id");
    assertError(await h.call(method, `${BY_EMAIL}not-an-email`, { token: manager, body }), 400, "invalid_email");
    assertError(
      await h.call(method, "/api/v1/auth/admin/accounts/policy", { token: manager, body }),
      400,
      "invalid_request",
    );
  }
});

Deno.test("a scope removed from the policy ends every live API token holding it (401 token_revoked)", async () => {
  const { h, manager, apiToken, check } = await setup();
  const { token: session, accountId } = await h.approvedUser("user@example.com");
  const wide = (await apiToken(session, "llm:proxy billing:read")).body.access_token;
  const narrow = (await apiToken(session, "llm:proxy")).body.access_token;
  const other = await h.approvedUser("other@example.com");
  const otherWide = (await apiToken(other.token, "llm:proxy billing:read")).body.access_token;
  assert.equal((await check(wide)).status, 200);

  await h.call("PUT", byAccount(accountId), { token: manager, body: { scopes: "llm:proxy vm:read" } });
  const refused = await check(wide);
  assertError(refused, 401, "token_revoked");
  assert.match(refused.body.message, /"billing:read"/);
  assertError(await h.call("GET", "/api/v1/auth/check?audience=ai.hg.fi/api", { token: wide }), 401, "token_revoked");
  const kept = await check(narrow);
  assert.equal(kept.status, 200, "a token within the new policy keeps working");
  assert.equal(kept.body.scope, "llm:proxy", "tokens already issued are not widened");
  assert.equal((await check(otherWide)).status, 200, "other accounts are untouched");

  await h.call("PUT", byAccount(accountId), { token: manager, body: { scopes: "" } });
  assertError(await check(narrow), 401, "token_revoked");

  // The refusal follows the policy: giving a scope back makes unexpired tokens holding it count again.
  await h.call("PUT", byAccount(accountId), { token: manager, body: { scopes: null } });
  assert.equal((await check(wide)).status, 200);
});

Deno.test("the policy counts only under the current global list, for /token, /check and GET", async () => {
  const store = new MemoryStore();
  const before = await setup({ store });
  const { token: session, accountId } = await before.h.approvedUser("user@example.com");
  await before.h.call("PUT", byAccount(accountId), { token: before.manager, body: { scopes: "llm:proxy vm:read" } });
  const token = (await before.apiToken(session, "llm:proxy vm:read")).body.access_token;
  assert.ok(token);

  // The same store under a provider whose global list dropped vm:read.
  const after = createHarness({ store, policy: { apiUserScopes: ["llm:proxy", "billing:read"] } });
  after.clock.now = before.h.clock.now;
  const manager = await after.mintToken({ scope: "admin:manage" });
  const got = await after.call("GET", byAccount(accountId), { token: manager });
  assert.deepEqual([got.body.scopes, got.body.effective_scopes], ["llm:proxy vm:read", "llm:proxy"]);
  assertError(await after.call("GET", "/api/v1/auth/check", { token }), 401, "token_revoked");
  const refused = await after.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "vm:read" } });
  assertError(refused, 403, "scope_not_allowed");
  assertError(
    await after.call("POST", "/api/v1/auth/token", { token: session, body: { scope: "billing:read" } }),
    403,
    "scope_not_allowed",
  );
});

Deno.test("POST /admin/approve with scopes sets the policy in the same step and records it", async (t) => {
  const { h, manager, apiToken, policyRecords } = await setup();
  const approve = (token: string, body: unknown) => h.call("POST", "/api/v1/auth/admin/approve", { token, body });
  const { token: session } = await h.signIn("user@example.com");
  const approver = await h.mintToken({ scope: "waitlist:approve" });

  await t.step("refusals leave the user waitlisted: insufficient_scope without admin:manage, bad scopes", async () => {
    assertError(await approve(approver, { email: "user@example.com", scopes: "llm:proxy" }), 403, "insufficient_scope");
    assertError(
      await approve(manager, { email: "user@example.com", scopes: "admin:manage" }),
      403,
      "scope_not_allowed",
    );
    assertError(
      await approve(manager, { email: "user@example.com", scopes: "container:run" }),
      403,
      "scope_not_allowed",
    );
    assertError(await approve(manager, { email: "user@example.com", scopes: 7 }), 400, "invalid_request");
    assertError(await apiToken(session, "llm:proxy"), 403, "not_approved");
    assert.deepEqual(await policyRecords(), []);
  });

  let accountId = "";
  await t.step("approve with scopes answers the usual shape and the policy holds at once", async () => {
    const approved = await approve(manager, { email: "user@example.com", scopes: "llm:proxy billing:read" });
    assert.equal(approved.status, 200, approved.text);
    assert.deepEqual(Object.keys(approved.body).sort(), ["account_id", "email", "status", "user_id"]);
    accountId = approved.body.account_id;
    assert.equal((await apiToken(session, "llm:proxy billing:read")).status, 200);
    assertError(await apiToken(session, "vm:read"), 403, "scope_not_allowed");
    assert.deepEqual(await policyRecords(), [
      { actor: "admin:test-operator", target: accountId, detail: "llm:proxy billing:read", outcome: "ok" },
    ]);
  });

  await t.step("a repeated approval without scopes keeps the policy; with null it restores the default", async () => {
    assert.equal((await approve(approver, { email: "user@example.com" })).status, 200);
    const kept = await h.call("GET", byAccount(accountId), { token: manager });
    assert.equal(kept.body.scopes, "llm:proxy billing:read");
    h.clock.now += 1;
    const reset = await approve(manager, { email: "user@example.com", scopes: null });
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.body.account_id, accountId);
    assert.equal((await h.call("GET", byAccount(accountId), { token: manager })).body.default, true);
    assert.deepEqual((await policyRecords()).map((r) => r.detail), ["llm:proxy billing:read", "default"]);
  });
});

Deno.test("the policy routes are served under every auth base and the route prefix", async () => {
  const { h, manager } = await setup({ routePrefix: "/local-dev/v1" });
  const { accountId } = await h.approvedUser("user@example.com");
  for (const prefix of ["", "/local-dev/v1"]) {
    for (const base of AUTH_BASES) {
      const put = await h.call("PUT", byAccount(accountId, prefix + base), {
        token: manager,
        body: { scopes: "llm:proxy" },
      });
      assert.equal(put.status, 200, `${prefix}${base}: ${put.text}`);
      const got = await h.call("GET", `${prefix}${base}/admin/accounts/policy?email=user@example.com`, {
        token: manager,
      });
      assert.equal(got.body.account_id, accountId, `${prefix}${base}`);
    }
  }
});
