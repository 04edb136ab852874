import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { AUDIENCE } from "../lib/claims.ts";
import { assertError, createHarness, decodeClaims, TEST_SIGNING_KEY } from "../tests/helpers/app_testing.ts";

Deno.test("GET /status and /me describe the session's user; account_id appears once approved", async () => {
  const h = createHarness();
  const { token, userId } = await h.signIn("a@example.com");
  const status = await h.call("GET", "/api/v1/auth/status", { token });
  assert.equal(status.status, 200);
  assert.deepEqual(status.body, { user_id: userId, verified: true, status: "waitlisted" });
  for (const path of ["/api/v1/auth/me", "/auth/me", "/me"]) {
    const me = await h.call("GET", path, { token });
    assert.deepEqual(me.body, { user_id: userId, email: "a@example.com", verified: true, status: "waitlisted" }, path);
  }
  await h.call("POST", "/api/v1/auth/admin/approve", {
    body: { email: "a@example.com" },
    token: await h.mintToken({ scope: "admin:manage" }),
  });
  const approved = await h.call("GET", "/modules/auth/status", { token });
  assert.equal(approved.body.status, "approved");
  assert.match(approved.body.account_id, /^[0-9a-f-]{36}$/);
  assert.equal((await h.call("GET", "/me", { token })).body.account_id, approved.body.account_id);
});

Deno.test("session endpoints refuse bad bearer tokens with 401", async (t) => {
  const h = createHarness();
  const { token } = await h.signIn("a@example.com");
  const claims = decodeClaims(token);
  const now = Math.floor(h.clock.now / 1000);
  const sign = (payload: Record<string, unknown>, key = TEST_SIGNING_KEY, alg = "HS256") =>
    new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
  const cases: [string, () => Promise<Record<string, string>>, string][] = [
    ["no Authorization header", () => Promise.resolve({}), "missing_token"],
    ["Basic scheme", () => Promise.resolve({ Authorization: "Basic dXNlcjpwYXNz" }), "invalid_token"],
    ["garbage", () => Promise.resolve({ Authorization: "Bearer not-a-jwt" }), "invalid_token"],
    ["tampered payload", () => {
      const [header, , signature] = token.split(".");
      const forged = btoa(JSON.stringify({ ...claims, sub: crypto.randomUUID() })).replace(/=+$/, "")
        .replace(/\+/g, "-").replace(/\//g, "_");
      return Promise.resolve({ Authorization: `Bearer ${header}.${forged}.${signature}` });
    }, "invalid_token"],
    ["another secret", async () => ({
      Authorization: `Bearer ${await sign(
        { ...claims },
        new TextEncoder().encode("another-secret-of-at-least-32-bytes!!"),
      )}`,
    }), "invalid_token"],
    ["HS512 instead of HS256", async () => ({
      Authorization: `Bearer ${await sign({ ...claims }, new Uint8Array(64).fill(7), "HS512")}`,
    }), "invalid_token"],
    ["alg none", () => {
      const header = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
      const body = btoa(JSON.stringify(claims)).replace(/=+$/, "");
      return Promise.resolve({ Authorization: `Bearer ${header}.${body}.` });
    }, "invalid_token"],
    ["no expiry", async () => {
      const { exp: _exp, ...rest } = claims;
      return { Authorization: `Bearer ${await sign(rest)}` };
    }, "invalid_token"],
    [
      "expired",
      async () => ({ Authorization: `Bearer ${await sign({ ...claims, iat: now - 7200, exp: now - 3600 })}` }),
      "token_expired",
    ],
    [
      "wrong issuer",
      async () => ({ Authorization: `Bearer ${await sign({ ...claims, iss: "someone-else" })}` }),
      "invalid_token",
    ],
    [
      "API audience",
      async () => ({ Authorization: `Bearer ${await sign({ ...claims, aud: AUDIENCE.api })}` }),
      "token_wrong_audience",
    ],
    [
      "admin token without a session",
      async () => ({ Authorization: `Bearer ${await h.mintToken()}` }),
      "invalid_token",
    ],
    [
      "unknown session id",
      async () => ({ Authorization: `Bearer ${await sign({ ...claims, sid: crypto.randomUUID() })}` }),
      "invalid_token",
    ],
  ];
  for (const [name, headers, code] of cases) {
    await t.step(name, async () => {
      const reply = await h.call("GET", "/api/v1/auth/status", { headers: await headers() });
      assertError(reply, 401, code);
      assert.match(reply.headers.get("WWW-Authenticate") ?? "", /^Bearer /);
    });
  }
});

Deno.test("POST /token issues an API token whose subject is the account id, never the email", async () => {
  const h = createHarness();
  const { token, accountId } = await h.approvedUser("a@example.com");
  const reply = await h.call("POST", "/api/v1/auth/token", {
    token,
    body: { scope: "llm:proxy billing:read", ttl_seconds: 3600 },
  });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(Object.keys(reply.body).sort(), [
    "access_token",
    "audience",
    "expires_at",
    "expires_in",
    "scope",
    "token_type",
  ]);
  assert.equal(reply.body.audience, "ai.hg.fi/api");
  assert.equal(reply.body.scope, "llm:proxy billing:read");
  assert.equal(reply.body.expires_in, 3600);
  const claims = decodeClaims(reply.body.access_token);
  assert.equal(claims.sub, accountId);
  assert.equal(claims.aud, "ai.hg.fi/api");
  assert.equal(claims.sid, undefined);
  assert.ok(!reply.body.access_token.includes("example"));
});

Deno.test("POST /token caps the lifetime and defaults to the maximum", async () => {
  const h = createHarness();
  const { token } = await h.approvedUser("a@example.com");
  const long = await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy", ttl_seconds: 86400 } });
  assert.equal(long.body.expires_in, 3600);
  const short = await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy", ttl_seconds: 120 } });
  assert.equal(short.body.expires_in, 120);
  const fallback = await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } });
  assert.equal(fallback.body.expires_in, 3600);
});

Deno.test("POST /token refuses waitlisted and rejected users with 403", async () => {
  const h = createHarness();
  const { token } = await h.signIn("wait@example.com");
  assertError(await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } }), 403, "not_approved");
  await h.call("POST", "/api/v1/auth/admin/reject", {
    body: { email: "wait@example.com" },
    token: await h.mintToken({ scope: "waitlist:reject" }),
  });
  const again = await h.signIn("wait@example.com");
  assertError(
    await h.call("POST", "/api/v1/auth/token", { token: again.token, body: { scope: "llm:proxy" } }),
    403,
    "account_rejected",
  );
});

Deno.test("POST /token refuses scopes outside the allow-list and malformed input", async (t) => {
  const h = createHarness({ policy: { apiUserScopes: ["llm:proxy", "billing:read"] } });
  const { token } = await h.approvedUser("a@example.com");
  const cases: [string, unknown, number, string][] = [
    ["scope outside the list", { scope: "llm:proxy vm:read" }, 403, "scope_not_allowed"],
    ["operator scope", { scope: "waitlist:approve" }, 403, "scope_not_allowed"],
    ["empty scope", { scope: "  " }, 400, "invalid_scope"],
    ["bad characters", { scope: "llm:proxy;drop" }, 400, "invalid_scope"],
    ["missing scope", {}, 400, "invalid_request"],
    ["scope not a string", { scope: ["llm:proxy"] }, 400, "invalid_request"],
    ["ttl not a number", { scope: "llm:proxy", ttl_seconds: "1h" }, 400, "invalid_ttl"],
    ["ttl zero", { scope: "llm:proxy", ttl_seconds: 0 }, 400, "invalid_ttl"],
    ["ttl fraction", { scope: "llm:proxy", ttl_seconds: 1.5 }, 400, "invalid_ttl"],
    ["malformed JSON", "{", 400, "invalid_json"],
  ];
  for (const [name, body, status, code] of cases) {
    await t.step(name, async () => {
      assertError(await h.call("POST", "/api/v1/auth/token", { token, body }), status, code);
    });
  }
  await t.step("an API token cannot be used to get another", async () => {
    const api = await h.call("POST", "/api/v1/auth/token", { token, body: { scope: "llm:proxy" } });
    assertError(
      await h.call("POST", "/api/v1/auth/token", { token: api.body.access_token, body: { scope: "llm:proxy" } }),
      401,
      "token_wrong_audience",
    );
  });
});

Deno.test("POST /token/refresh rotates the session token: the old one stops working", async () => {
  const h = createHarness();
  const { token, userId } = await h.signIn("a@example.com");
  h.clock.now += 5_000;
  const reply = await h.call("POST", "/api/v1/auth/token/refresh", { token });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.body.user_id, userId);
  assert.equal(reply.body.verified, true);
  assert.notEqual(reply.body.access_token, token);
  assert.equal(decodeClaims(reply.body.access_token).sid, decodeClaims(token).sid);
  assertError(await h.call("GET", "/api/v1/auth/status", { token }), 401, "token_revoked");
  assertError(await h.call("POST", "/api/v1/auth/token/refresh", { token }), 401, "token_revoked");
  assert.equal((await h.call("GET", "/api/v1/auth/status", { token: reply.body.access_token })).status, 200);
});

Deno.test("POST /token/refresh never extends a session past its absolute lifetime", async () => {
  const h = createHarness({ policy: { sessionTtlSeconds: 3600, sessionMaxSeconds: 5400 } });
  let { token } = await h.signIn("a@example.com");
  h.clock.now += 3000_000;
  const first = await h.call("POST", "/api/v1/auth/token/refresh", { token });
  assert.equal(first.body.expires_in, 2400, "the remaining 40 minutes, not a fresh hour");
  token = first.body.access_token;
  h.clock.now += 2400_000;
  assertError(await h.call("POST", "/api/v1/auth/token/refresh", { token }), 401, "token_expired");
});

Deno.test("no session token expires after its session: refreshes at any instant, in any millisecond", async () => {
  // A purge deletes a session from its maximum lifetime on, and the caches keep what they read
  // (lib/store/cached_store.ts): both are safe only because no token of a session outlives it.
  for (const signedInAt of [0, 1, 499, 500, 999]) {
    for (const [far, near] of [[599_999, 1], [1_799_001, 250], [2_999_500, 999]]) {
      const h = createHarness({ policy: { sessionTtlSeconds: 3600, sessionMaxSeconds: 5400 } });
      h.clock.now = Math.floor(h.clock.now / 1000) * 1000 + signedInAt;
      let { token } = await h.signIn("a@example.com");
      const sessionEnds = h.clock.now + 5400_000;
      let issued = 1;
      while (true) {
        assert.ok(
          decodeClaims(token).exp * 1000 <= sessionEnds,
          `signed in at …${signedInAt} ms, steps ${far}/${near}`,
        );
        // A step on (short in the last 5 s), or the token's last millisecond if that comes first and is still ahead.
        const step = sessionEnds - h.clock.now > 5000 ? far : near;
        const last = decodeClaims(token).exp * 1000 - 1;
        h.clock.now = last > h.clock.now ? Math.min(h.clock.now + step, last) : h.clock.now + step;
        const reply = await h.call("POST", "/api/v1/auth/token/refresh", { token });
        if (reply.status !== 200) {
          // Refused only once its token expired, in the session's last two seconds.
          assertError(reply, 401, "token_expired");
          assert.ok(h.clock.now >= sessionEnds - 2000, `refused ${sessionEnds - h.clock.now} ms before the end`);
          break;
        }
        token = reply.body.access_token;
        issued++;
      }
      assert.ok(issued >= 2);
    }
  }
});

Deno.test("POST /token/refresh answers 403 when the deployment turned refresh off", async () => {
  const h = createHarness({ policy: { sessionRefresh: false } });
  const { token } = await h.signIn("a@example.com");
  assertError(await h.call("POST", "/api/v1/auth/token/refresh", { token }), 403, "refresh_disabled");
  assert.equal((await h.call("GET", "/api/v1/auth/status", { token })).status, 200, "the token still works");
});

Deno.test("POST /logout answers 204 and ends only that session", async () => {
  const h = createHarness();
  const first = await h.signIn("a@example.com");
  const second = await h.signIn("a@example.com");
  const reply = await h.call("POST", "/api/v1/auth/logout", { token: first.token });
  assert.equal(reply.status, 204);
  assert.equal(reply.text, "");
  assertError(await h.call("GET", "/me", { token: first.token }), 401, "token_revoked");
  assertError(await h.call("POST", "/api/v1/auth/token/refresh", { token: first.token }), 401, "token_revoked");
  assertError(await h.call("POST", "/api/v1/auth/logout", { token: first.token }), 401, "token_revoked");
  assert.equal((await h.call("GET", "/me", { token: second.token })).status, 200);
});

Deno.test("POST /logout ends the session for tokens issued before the latest refresh too", async () => {
  const h = createHarness();
  const { token } = await h.signIn("a@example.com");
  const refreshed = (await h.call("POST", "/api/v1/auth/token/refresh", { token })).body.access_token;
  assert.equal((await h.call("POST", "/api/v1/auth/logout", { token: refreshed })).status, 204);
  assertError(await h.call("GET", "/me", { token: refreshed }), 401, "token_revoked");
});
