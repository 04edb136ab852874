import assert from "node:assert/strict";
import { AUDIENCE } from "../lib/claims.ts";
import { hashClientKey } from "../lib/client_keys.ts";
import { AUTH_BASES } from "./app.ts";
import {
  assertError,
  createHarness,
  decodeClaims,
  type Reply,
  TEST_INTERNAL_KEY,
} from "../tests/helpers/app_testing.ts";

const CLIENTS = "/api/v1/auth/admin/clients";
const TOKEN = "/api/internal/auth/token";
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

type Harness = ReturnType<typeof createHarness>;

async function setup(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness(options);
  const admin = await h.mintToken({ scope: "admin:manage", ttlSeconds: 86400 });
  return { h, admin };
}

async function createClient(
  h: Harness,
  admin: string,
  body: Record<string, unknown> = {},
): Promise<{ clientId: string; key: string; reply: Reply }> {
  const reply = await h.call("POST", CLIENTS, {
    token: admin,
    body: { name: "billing-worker", audience: AUDIENCE.api, scopes: "billing:entitlement:check usage:read", ...body },
  });
  assert.equal(reply.status, 200, reply.text);
  return { clientId: reply.body.client_id, key: reply.body.key, reply };
}

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

function basic(id: string, secret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;
}

/** The grant with the credentials in the body. */
function exchange(h: Harness, clientId: string, key: string, extra: Record<string, string> = {}) {
  return h.call("POST", TOKEN, {
    headers: FORM,
    body: form({ grant_type: "client_credentials", client_id: clientId, client_secret: key, ...extra }),
  });
}

/** Asserts an RFC 6749 §5.2 error that the provider's own clients read too. */
function assertOAuthError(reply: Reply, status: number, code: string): void {
  assertError(reply, status, code);
  assert.equal(reply.body.error_description, reply.body.message);
  assert.equal(reply.headers.get("Cache-Control"), "no-store");
  if (status === 401) assert.match(reply.headers.get("WWW-Authenticate") ?? "", /^Basic realm="bus-auth"/);
  else assert.equal(reply.headers.get("WWW-Authenticate"), null);
}

async function auditOf(h: Harness, action: string) {
  const records = await h.store.listAudit({
    since: null,
    actor: null,
    target: null,
    action,
    after: null,
    limit: 100,
  });
  return records;
}

Deno.test("POST /admin/clients creates a client and answers its key once; the store keeps only a hash", async () => {
  const { h, admin } = await setup();
  const { clientId, key, reply } = await createClient(h, admin, { ttl_max_seconds: 300 });
  assert.match(clientId, /^[0-9a-f-]{36}$/);
  assert.match(key, /^bsk_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(reply.body, {
    client_id: clientId,
    name: "billing-worker",
    audience: AUDIENCE.api,
    scopes: ["billing:entitlement:check", "usage:read"],
    ttl_max_seconds: 300,
    key,
    key_prefix: key.slice(0, 8),
    created_at: new Date(h.clock.now).toISOString(),
  });
  const stored = await h.store.findClientById(clientId);
  assert.deepEqual(stored?.keys.map((k) => [k.prefix, k.hash]), [[key.slice(0, 8), hashClientKey(key)]]);
  assert.ok(!JSON.stringify(stored).includes(key), "the key itself is not stored");

  const listed = await h.call("GET", CLIENTS, { token: admin });
  assert.equal(listed.status, 200, listed.text);
  assert.ok(!listed.text.includes(key), "list never shows a key");
  assert.deepEqual(listed.body.clients, [{
    client_id: clientId,
    name: "billing-worker",
    audience: AUDIENCE.api,
    scopes: ["billing:entitlement:check", "usage:read"],
    ttl_max_seconds: 300,
    status: "active",
    keys: [{ key_prefix: key.slice(0, 8), created_at: new Date(h.clock.now).toISOString(), retires_at: null }],
    created_at: new Date(h.clock.now).toISOString(),
    last_used_at: null,
    revoked_at: null,
  }]);

  const audit = await auditOf(h, "client.create");
  assert.deepEqual(
    audit.map((r) => [r.actor, r.target, r.detail, r.outcome]),
    [["admin:test-operator", clientId, "billing-worker", "ok"]],
  );
});

Deno.test("POST /admin/clients refuses a taken name with 409 client_exists and no key, and bad input with 400", async () => {
  const { h, admin } = await setup();
  const { clientId } = await createClient(h, admin);
  const taken = await h.call("POST", CLIENTS, {
    token: admin,
    body: { name: "billing-worker", audience: AUDIENCE.internal, scopes: "usage:read" },
  });
  assertError(taken, 409, "client_exists");
  assert.ok(!("key" in taken.body) && !taken.text.includes("bsk_"), "no key in the conflict");
  assert.ok(taken.body.message.includes(clientId));
  const base = { name: "other", audience: AUDIENCE.api, scopes: "usage:read" };
  const cases: [Record<string, unknown>, string][] = [
    [{ name: "Billing" }, "invalid_client_name"],
    [{ name: "-billing" }, "invalid_client_name"],
    [{ name: "a".repeat(65) }, "invalid_client_name"],
    [{ name: "billing worker" }, "invalid_client_name"],
    [{ audience: "ai.hg.fi/other" }, "invalid_audience"],
    [{ scopes: "" }, "invalid_scope"],
    [{ scopes: "bad scope!" }, "invalid_scope"],
    [{ scopes: ["usage:read", "two words"] }, "invalid_scope"],
    [{ scopes: [7] }, "invalid_scope"],
    [{ scopes: undefined }, "invalid_scope"],
    [{ ttl_max_seconds: 59 }, "invalid_ttl"],
    [{ ttl_max_seconds: 30 * 86400 + 1 }, "invalid_ttl"],
    [{ ttl_max_seconds: 1.5 }, "invalid_ttl"],
    [{ ttl_max_seconds: "600" }, "invalid_ttl"],
    [{ name: undefined }, "invalid_request"],
  ];
  for (const [change, code] of cases) {
    assertError(await h.call("POST", CLIENTS, { token: admin, body: { ...base, ...change } }), 400, code);
  }
  // A list of scopes is the same as the string; internal scopes are allowed, as on the internal endpoint.
  const listed = await h.call("POST", CLIENTS, {
    token: admin,
    body: { name: "ops-manager", audience: AUDIENCE.auth, scopes: ["admin:manage", "waitlist:read"] },
  });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.body.scopes, ["admin:manage", "waitlist:read"]);
  assert.equal(listed.body.ttl_max_seconds, 600, "the provider's internal-token lifetime by default");
  assert.equal((await h.store.listClients()).length, 2);
});

Deno.test("the client calls need an admin:manage token and are served under every auth base and the prefix", async () => {
  const { h, admin } = await setup({ routePrefix: "/local-dev/v1" });
  const reader = await h.mintToken({ scope: "waitlist:read waitlist:approve" });
  assertError(await h.call("GET", CLIENTS, {}), 401, "missing_token");
  assertError(await h.call("GET", CLIENTS, { token: reader }), 403, "insufficient_scope");
  assertError(
    await h.call("POST", CLIENTS, { token: reader, body: { name: "x", audience: AUDIENCE.api, scopes: "a" } }),
    403,
    "insufficient_scope",
  );
  const id = crypto.randomUUID();
  for (const action of ["rotate", "revoke", "verify-key"]) {
    assertError(
      await h.call("POST", `${CLIENTS}/${id}/${action}`, { token: reader, body: { key: "k" } }),
      403,
      "insufficient_scope",
    );
  }
  const apiToken = await h.mintToken({ scope: "admin:manage", aud: AUDIENCE.api });
  assertError(await h.call("GET", CLIENTS, { token: apiToken }), 401, "token_wrong_audience");
  for (const prefix of ["", "/local-dev/v1"]) {
    for (const base of AUTH_BASES) {
      const reply = await h.call("GET", `${prefix}${base}/admin/clients`, { token: admin });
      assert.equal(reply.status, 200, `${prefix}${base}: ${reply.text}`);
    }
  }
});

Deno.test("the client-credentials grant issues a token with the credentials in the body or as HTTP Basic", async (t) => {
  const { h, admin } = await setup({ policy: { internalTokenTtlSeconds: 3600 } });
  const { clientId, key } = await createClient(h, admin, { ttl_max_seconds: 900 });

  await t.step(
    "in the body: RFC 6749 §5.1 with the internal endpoint's fields, and client_id in the token",
    async () => {
      h.clock.now += 5000;
      const reply = await exchange(h, clientId, key);
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.headers.get("Cache-Control"), "no-store");
      assert.equal(reply.headers.get("Pragma"), "no-cache");
      assert.equal(reply.body.token_type, "Bearer");
      assert.equal(reply.body.expires_in, 900);
      assert.equal(reply.body.scope, "billing:entitlement:check usage:read", "all of the client's scopes by default");
      assert.equal(reply.body.audience, AUDIENCE.api);
      assert.equal(reply.body.subject, "billing-worker");
      assert.equal(reply.body.client_id, clientId);
      assert.equal(reply.body.ttl_capped, false);
      const claims = decodeClaims(reply.body.access_token);
      assert.equal(claims.sub, "billing-worker");
      assert.equal(claims.aud, AUDIENCE.api);
      assert.equal(claims.client_id, clientId);
      const check = await h.call("GET", "/api/v1/auth/check?audience=ai.hg.fi/api&scope=usage:read", {
        token: reply.body.access_token,
      });
      assert.equal(check.status, 200, check.text);
      assert.equal(check.body.client_id, clientId, "check shows the client");
      assert.equal((await h.store.findClientById(clientId))?.lastUsedAt, h.clock.now, "touched");
      const minted = await auditOf(h, "token.mint");
      assert.deepEqual(minted.map((r) => [r.actor, r.target, r.detail]), [[
        `client:${clientId}`,
        clientId,
        `aud=ai.hg.fi/api scope=billing:entitlement:check usage:read jti=${claims.jti}`,
      ]]);
      assert.ok(!JSON.stringify(minted).includes(reply.body.access_token) && !JSON.stringify(minted).includes(key));
    },
  );

  await t.step("as HTTP Basic (form-encoded, then base64), on every alias of the endpoint", async () => {
    for (const path of [TOKEN, "/internal/token"]) {
      const reply = await h.call("POST", path, {
        headers: { ...FORM, Authorization: basic(clientId, key) },
        body: form({ grant_type: "client_credentials", scope: "usage:read" }),
      });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.body.scope, "usage:read");
    }
    // An id in the body beside Basic is fine when it is the same id; a charset parameter too.
    const withId = await h.call("POST", TOKEN, {
      headers: {
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
        Authorization: basic(clientId, key),
      },
      body: form({ grant_type: "client_credentials", client_id: clientId }),
    });
    assert.equal(withId.status, 200, withId.text);
  });

  await t.step("scope narrows to a subset; ttl_seconds shortens; longer requests are capped", async () => {
    const narrow = await exchange(h, clientId, key, { scope: "usage:read  usage:read", ttl_seconds: "120" });
    assert.equal(narrow.status, 200, narrow.text);
    assert.equal(narrow.body.scope, "usage:read");
    assert.equal(narrow.body.expires_in, 120);
    assert.equal(narrow.body.ttl_capped, false);
    const long = await exchange(h, clientId, key, { ttl_seconds: "86400" });
    assert.equal(long.body.expires_in, 900, "the client's ttl_max_seconds");
    assert.equal(long.body.ttl_capped, true);
    const empty = await exchange(h, clientId, key, { scope: "" });
    assert.equal(empty.body.scope, "billing:entitlement:check usage:read");
  });
});

Deno.test("the grant never outlives the provider's internal-token lifetime", async () => {
  const { h, admin } = await setup({ policy: { internalTokenTtlSeconds: 600 } });
  const { clientId, key } = await createClient(h, admin, { ttl_max_seconds: 7200 });
  const reply = await exchange(h, clientId, key);
  assert.equal(reply.body.expires_in, 600);
  const asked = await exchange(h, clientId, key, { ttl_seconds: "3600" });
  assert.deepEqual([asked.body.expires_in, asked.body.ttl_capped], [600, true]);
});

Deno.test("the grant answers every RFC 6749 §5.2 error in OAuth's shape with the provider's message", async () => {
  const { h, admin } = await setup();
  const { clientId, key } = await createClient(h, admin);
  const other = await createClient(h, admin, { name: "other-worker" });
  const post = (body: string, headers: Record<string, string> = {}) =>
    h.call("POST", TOKEN, { headers: { ...FORM, ...headers }, body });
  const good = { grant_type: "client_credentials", client_id: clientId, client_secret: key };

  assertOAuthError(await post(form({ client_id: clientId, client_secret: key })), 400, "invalid_request");
  assertOAuthError(await post(`${form(good)}&scope=usage:read&scope=usage:read`), 400, "invalid_request");
  assertOAuthError(await post(form({ ...good, ttl_seconds: "0" })), 400, "invalid_request");
  assertOAuthError(await post(form({ ...good, ttl_seconds: "ten" })), 400, "invalid_request");
  assertOAuthError(
    await post(form({ grant_type: "client_credentials", client_secret: key }), { Authorization: basic(clientId, key) }),
    400,
    "invalid_request",
  );
  assertOAuthError(
    await post(form({ grant_type: "client_credentials", client_id: other.clientId }), {
      Authorization: basic(clientId, key),
    }),
    400,
    "invalid_request",
  );
  assertOAuthError(await post(form({ ...good, grant_type: "password" })), 400, "unsupported_grant_type");
  assertOAuthError(await post(form({ ...good, grant_type: "authorization_code" })), 400, "unsupported_grant_type");
  assertOAuthError(await post(form({ ...good, scope: "usage:read admin:manage" })), 400, "invalid_scope");
  assertOAuthError(await post(form({ ...good, scope: "bad!scope" })), 400, "invalid_scope");

  const invalidClient: [string, Record<string, string>][] = [
    [form({ grant_type: "client_credentials" }), {}],
    [form({ grant_type: "client_credentials", client_id: clientId }), {}],
    [form({ ...good, client_secret: other.key }), {}],
    [form({ ...good, client_secret: `${key.slice(0, -1)}${key.endsWith("A") ? "E" : "A"}` }), {}],
    [form({ ...good, client_secret: hashClientKey(key) }), {}],
    [form({ ...good, client_id: crypto.randomUUID() }), {}],
    [form({ ...good, client_id: "billing-worker" }), {}],
    [form({ ...good, client_id: `${clientId}\u0000` }), {}],
    [form({ grant_type: "client_credentials" }), { Authorization: basic(clientId, other.key) }],
    [form({ grant_type: "client_credentials" }), { Authorization: basic(other.clientId, key) }],
    [form({ grant_type: "client_credentials" }), { Authorization: "Basic !!!" }],
    [form({ grant_type: "client_credentials" }), { Authorization: `Basic ${btoa("no-colon")}` }],
    [form({ grant_type: "client_credentials" }), { Authorization: `Bearer ${await h.mintToken()}` }],
  ];
  for (const [body, headers] of invalidClient) {
    const reply = await post(body, headers);
    assertOAuthError(reply, 401, "invalid_client");
    assert.match(reply.body.message, /^Client authentication failed: /);
  }
  // A wrong key and an unknown id get one answer: an id alone tells nobody whether the client exists.
  const wrongKey = await post(form({ ...good, client_secret: other.key }));
  const unknownId = await post(form({ ...good, client_id: crypto.randomUUID() }));
  assert.equal(wrongKey.text, unknownId.text);
  // invalid_grant belongs to grants that carry one (a code, a refresh token); this grant has none.
  assert.equal((await auditOf(h, "token.mint")).length, 0, "nothing was minted");
});

Deno.test("the internal key keeps the JSON bootstrap path, whatever the Content-Type, and audits it", async () => {
  const { h } = await setup();
  for (const contentType of ["application/json", "application/x-www-form-urlencoded"]) {
    const reply = await h.call("POST", TOKEN, {
      headers: { "X-Bus-Internal-Key": TEST_INTERNAL_KEY, "Content-Type": contentType },
      body: JSON.stringify({ subject: "usage-exporter", audience: AUDIENCE.internal, scope: "usage:read" }),
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.subject, "usage-exporter");
    assert.equal(decodeClaims(reply.body.access_token).client_id, undefined);
  }
  assertError(
    await h.call("POST", TOKEN, { body: { subject: "x" } }),
    403,
    "internal_key_invalid",
  );
  const minted = await auditOf(h, "token.mint");
  assert.equal(minted.length, 2);
  assert.deepEqual([minted[0].actor, minted[0].target], ["bootstrap-key", "usage-exporter"]);
  assert.match(minted[0].detail ?? "", /^aud=ai\.hg\.fi\/internal scope=usage:read jti=[0-9a-f-]{36}$/);
});

Deno.test("rotate: old and new keys both work until retire_after_seconds, then only the new one", async () => {
  const { h, admin } = await setup();
  const { clientId, key: oldKey } = await createClient(h, admin);
  const start = h.clock.now;
  const rotated = await h.call("POST", `${CLIENTS}/${clientId}/rotate`, {
    token: admin,
    body: { retire_after_seconds: 600 },
  });
  assert.equal(rotated.status, 200, rotated.text);
  const newKey = rotated.body.key;
  assert.match(newKey, /^bsk_/);
  assert.notEqual(newKey, oldKey);
  assert.deepEqual(rotated.body, {
    client_id: clientId,
    name: "billing-worker",
    key: newKey,
    key_prefix: newKey.slice(0, 8),
    old_keys_retire_at: new Date(start + 600_000).toISOString(),
  });
  const verify = (key: string) => h.call("POST", `${CLIENTS}/${clientId}/verify-key`, { token: admin, body: { key } });
  assert.equal((await exchange(h, clientId, oldKey)).status, 200);
  assert.equal((await exchange(h, clientId, newKey)).status, 200);
  assert.deepEqual((await verify(oldKey)).body, { client_id: clientId, name: "billing-worker", valid: true });
  const listed = await h.call("GET", CLIENTS, { token: admin });
  assert.deepEqual(
    listed.body.clients[0].keys.map((k: { key_prefix: string; retires_at: string | null }) => [
      k.key_prefix,
      k.retires_at,
    ]),
    [[oldKey.slice(0, 8), new Date(start + 600_000).toISOString()], [newKey.slice(0, 8), null]],
  );

  h.clock.now = start + 600_000;
  assertOAuthError(await exchange(h, clientId, oldKey), 401, "invalid_client");
  assert.equal((await exchange(h, clientId, newKey)).status, 200);
  assert.equal((await verify(oldKey)).body.valid, false);
  assert.equal((await verify(newKey)).body.valid, true);
  assert.equal((await verify("bsk_not-a-key")).body.valid, false);
  assert.equal((await h.call("GET", CLIENTS, { token: admin })).body.clients[0].keys.length, 1);

  // 0 retires the keys before at once; no body means an hour.
  const atOnce = await h.call("POST", `${CLIENTS}/${clientId}/rotate`, {
    token: admin,
    body: { retire_after_seconds: 0 },
  });
  assertOAuthError(await exchange(h, clientId, newKey), 401, "invalid_client");
  assert.equal((await exchange(h, clientId, atOnce.body.key)).status, 200);
  const byDefault = await h.call("POST", `${CLIENTS}/${clientId}/rotate`, { token: admin });
  assert.equal(byDefault.status, 200, byDefault.text);
  assert.equal(byDefault.body.old_keys_retire_at, new Date(h.clock.now + 3600_000).toISOString());
  assert.equal((await exchange(h, clientId, atOnce.body.key)).status, 200);
  assert.equal((await auditOf(h, "client.rotate")).length, 3);
});

Deno.test("rotate, revoke and verify-key name unknown, malformed and revoked clients", async () => {
  const { h, admin } = await setup();
  const { clientId } = await createClient(h, admin);
  for (const action of ["rotate", "revoke", "verify-key"]) {
    assertError(
      await h.call("POST", `${CLIENTS}/${crypto.randomUUID()}/${action}`, { token: admin, body: { key: "k" } }),
      404,
      "client_not_found",
    );
    assertError(
      await h.call("POST", `${CLIENTS}/billing-worker/${action}`, { token: admin, body: { key: "k" } }),
      400,
      "invalid_client_id",
    );
  }
  for (const retire of [-1, 30 * 86400 + 1, 0.5, "1h"]) {
    assertError(
      await h.call("POST", `${CLIENTS}/${clientId}/rotate`, { token: admin, body: { retire_after_seconds: retire } }),
      400,
      "invalid_retire_after",
    );
  }
  assertError(
    await h.call("POST", `${CLIENTS}/${clientId}/verify-key`, { token: admin, body: {} }),
    400,
    "invalid_request",
  );
  assert.equal((await h.call("POST", `${CLIENTS}/${clientId}/revoke`, { token: admin })).status, 200);
  assertError(await h.call("POST", `${CLIENTS}/${clientId}/rotate`, { token: admin }), 409, "client_revoked");
});

Deno.test("revoke: at once the client's keys stop working and every token it was issued is refused", async () => {
  const { h, admin } = await setup();
  const { clientId, key } = await createClient(h, admin, {
    name: "ops-manager",
    audience: AUDIENCE.auth,
    scopes: "admin:manage waitlist:read",
  });
  const other = await createClient(h, admin);
  const token = (await exchange(h, clientId, key)).body.access_token;
  const otherToken = (await exchange(h, other.clientId, other.key)).body.access_token;
  assert.equal((await h.call("GET", "/api/v1/auth/admin/waitlist", { token })).status, 200);
  assert.equal((await h.call("GET", CLIENTS, { token })).status, 200, "a client's admin token is an admin token");

  h.clock.now += 1000;
  const revoked = await h.call("POST", `${CLIENTS}/${clientId}/revoke`, { token: admin });
  assert.equal(revoked.status, 200, revoked.text);
  assert.deepEqual(revoked.body, {
    client_id: clientId,
    name: "ops-manager",
    revoked: true,
    revoked_at: new Date(h.clock.now).toISOString(),
  });
  h.clock.now += 1000;
  const again = await h.call("POST", `${CLIENTS}/${clientId}/revoke`, { token: admin });
  assert.deepEqual(again.body, revoked.body, "idempotent: the first time stays");

  assertOAuthError(await exchange(h, clientId, key), 401, "invalid_client");
  assertError(await h.call("GET", "/api/v1/auth/check", { token }), 401, "token_revoked");
  assertError(await h.call("GET", "/api/v1/auth/admin/waitlist", { token }), 401, "token_revoked");
  assertError(await h.call("GET", CLIENTS, { token }), 401, "token_revoked");
  assert.equal((await h.call("GET", "/api/v1/auth/check", { token: otherToken })).status, 200, "other clients work");
  assert.equal(
    (await h.call("POST", `${CLIENTS}/${clientId}/verify-key`, { token: admin, body: { key } })).body.valid,
    false,
  );
  const listed = (await h.call("GET", CLIENTS, { token: admin })).body.clients;
  const shown = listed.find((c: { client_id: string }) => c.client_id === clientId);
  assert.deepEqual([shown.status, shown.keys, shown.revoked_at], ["revoked", [], revoked.body.revoked_at]);
  // A revoked name stays taken.
  assertError(
    await h.call("POST", CLIENTS, {
      token: admin,
      body: { name: "ops-manager", audience: AUDIENCE.auth, scopes: "a" },
    }),
    409,
    "client_exists",
  );
  const audit = await auditOf(h, "client.revoke");
  assert.deepEqual(audit.map((r) => [r.actor, r.target, r.detail]), [
    ["admin:test-operator", clientId, "ops-manager"],
    ["admin:test-operator", clientId, "ops-manager"],
  ]);
});

Deno.test("a token naming a client this provider does not know is refused", async () => {
  const { h } = await setup();
  const token = await h.mintToken({ scope: "admin:manage", client_id: crypto.randomUUID() });
  assertError(await h.call("GET", "/api/v1/auth/check", { token }), 401, "token_revoked");
  assertError(await h.call("GET", CLIENTS, { token }), 401, "token_revoked");
});

Deno.test("the grant works on a provider without BUS_AUTH_INTERNAL_SHARED_KEY", async () => {
  const { h, admin } = await setup({ internalKey: null });
  const { clientId, key } = await createClient(h, admin);
  assert.equal((await exchange(h, clientId, key)).status, 200);
  assertError(await h.call("POST", TOKEN, { body: { subject: "x" } }), 403, "internal_tokens_disabled");
});
