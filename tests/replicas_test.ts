/**
 * Several provider processes on one PostgreSQL database: everything that
 * must hold across replicas lives in the database.
 */

import assert from "node:assert/strict";
import { type ProviderProcess, startProvider } from "./helpers/provider_process.ts";
import { callJson } from "./helpers/http.ts";
import { startPostgresCluster } from "./helpers/postgres_cluster.ts";

const cluster = await startPostgresCluster();
const skipped = "skipped" in cluster ? cluster.skipped : null;
if (skipped) console.error(`postgres tests skipped: ${skipped}`);

const SECRET = "replica-signing-secret-of-32-bytes-minimum";
const KEY = "replica-internal-key-0123456789";

function call(url: string, options: { method?: string; body?: unknown; token?: string; key?: string } = {}) {
  const { key, ...rest } = options;
  return callJson(url, { ...rest, headers: key === undefined ? undefined : { "X-Bus-Internal-Key": key } });
}

async function replicas(
  database: string,
  extra: Record<string, string> = {},
): Promise<[ProviderProcess, ProviderProcess]> {
  if ("skipped" in cluster) throw new Error("unreachable");
  const env = {
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_INTERNAL_SHARED_KEY: KEY,
    BUS_AUTH_POSTGRES_DSN: await cluster.createDatabase(database),
    BUS_AUTH_OTP_SENDER: "console",
    BUS_AUTH_RATE_LIMIT_PER_IP: "0",
    ...extra,
  };
  // Both start at once: the migration advisory lock must serialise them.
  return await Promise.all([startProvider(env), startProvider(env)]);
}

Deno.test({
  name: "two replicas on one database share OTPs, resend limits, revocations and approvals",
  ignore: skipped !== null,
  sanitizeResources: false,
  fn: async (t) => {
    const [a, b] = await replicas("replicas_shared");
    const apiA = `${a.url}/api/v1/auth`;
    const apiB = `${b.url}/api/v1/auth`;
    try {
      let session = "";
      await t.step("an OTP requested on A is verified on B and cannot be reused on A", async () => {
        assert.equal((await call(`${apiA}/register`, { body: { email: "user@example.com" } })).status, 200);
        assert.equal((await call(`${apiA}/otp/request`, { body: { email: "user@example.com" } })).status, 200);
        const otp = await a.waitForOtp("user@example.com");
        const verified = await call(`${apiB}/otp/verify`, { body: { email: "user@example.com", otp } });
        assert.equal(verified.status, 200);
        session = verified.body.access_token;
        const reused = await call(`${apiA}/otp/verify`, { body: { email: "user@example.com", otp } });
        assert.equal(reused.status, 401);
        assert.equal(reused.body.error, "otp_used");
      });

      await t.step("the per-email resend limit counts requests on both replicas", async () => {
        await call(`${apiB}/register`, { body: { email: "resend@example.com" } });
        assert.equal((await call(`${apiA}/otp/request`, { body: { email: "resend@example.com" } })).status, 200);
        const second = await call(`${apiB}/otp/request`, { body: { email: "resend@example.com" } });
        assert.equal(second.status, 429);
        assert.equal(second.body.error, "otp_resend_too_soon");
      });

      await t.step("wrong guesses on both replicas spend one attempt budget", async () => {
        const otp = await a.waitForOtp("resend@example.com");
        const wrong = otp === "000000" ? "111111" : "000000";
        for (let i = 0; i < 5; i++) {
          const api = i % 2 === 0 ? apiA : apiB;
          assert.equal(
            (await call(`${api}/otp/verify`, { body: { email: "resend@example.com", otp: wrong } })).status,
            401,
          );
        }
        const right = await call(`${apiB}/otp/verify`, { body: { email: "resend@example.com", otp } });
        assert.equal(right.body.error, "otp_attempts_exceeded");
      });

      await t.step("20 concurrent approvals split across both replicas yield exactly one account_id", async () => {
        const admin =
          (await call(`${a.url}/api/internal/auth/token`, { key: KEY, body: { scope: "admin:manage" } })).body
            .access_token;
        const results = await Promise.all(
          Array.from(
            { length: 20 },
            (_, i) =>
              call(`${i % 2 === 0 ? apiA : apiB}/admin/approve`, { token: admin, body: { email: "user@example.com" } }),
          ),
        );
        assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.map((r) => r.body)));
        assert.equal(new Set(results.map((r) => r.body.account_id)).size, 1);
        assert.equal((await call(`${apiB}/status`, { token: session })).body.account_id, results[0].body.account_id);
      });

      await t.step("a logout on A is refused on B", async () => {
        assert.equal((await call(`${apiB}/me`, { token: session })).status, 200);
        assert.equal((await call(`${apiA}/logout`, { token: session, method: "POST" })).status, 204);
        const after = await call(`${apiB}/me`, { token: session });
        assert.equal(after.status, 401);
        assert.equal(after.body.error, "token_revoked");
      });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});

Deno.test({
  name: "the per-IP limit is one budget across replicas",
  ignore: skipped !== null,
  sanitizeResources: false,
  fn: async () => {
    const [a, b] = await replicas("replicas_rate", {
      BUS_AUTH_RATE_LIMIT_PER_IP: "4",
      BUS_AUTH_RATE_LIMIT_WINDOW_SECONDS: "3600",
    });
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const url = `${i % 2 === 0 ? a.url : b.url}/api/v1/auth/register`;
        statuses.push((await call(url, { body: { email: `ip${i}@example.com` } })).status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});

Deno.test({
  name: "a service client revoked on one replica is refused on the other: its keys and its tokens",
  ignore: skipped !== null,
  sanitizeResources: false,
  fn: async () => {
    const [a, b] = await replicas("replicas_clients");
    // The client-credentials grant: a form, the credentials as HTTP Basic.
    const exchange = (url: string, clientId: string, key: string) =>
      fetch(`${url}/api/internal/auth/token`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Authorization: `Basic ${btoa(`${clientId}:${key}`)}`,
        },
        body: "grant_type=client_credentials",
        signal: AbortSignal.timeout(30_000),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    try {
      const admin = (await call(`${a.url}/api/internal/auth/token`, { key: KEY, body: { scope: "admin:manage" } })).body
        .access_token;
      const created = await call(`${a.url}/api/v1/auth/admin/clients`, {
        token: admin,
        body: { name: "ops-manager", audience: "ai.hg.fi/auth", scopes: "admin:manage" },
      });
      assert.equal(created.status, 200);
      const { client_id: clientId, key } = created.body;
      const minted = await exchange(b.url, clientId, key);
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      const token = minted.body.access_token;
      assert.equal((await call(`${a.url}/api/v1/auth/check`, { token })).status, 200);
      assert.equal((await call(`${a.url}/api/v1/auth/admin/clients`, { token })).status, 200);
      const listed = await call(`${a.url}/api/v1/auth/admin/clients`, { token: admin });
      assert.notEqual(listed.body.clients[0].last_used_at, null, "the use on B is seen on A");

      assert.equal(
        (await call(`${a.url}/api/v1/auth/admin/clients/${clientId}/revoke`, { token: admin, method: "POST" })).status,
        200,
      );
      const refused = await exchange(b.url, clientId, key);
      assert.deepEqual([refused.status, refused.body.error], [401, "invalid_client"]);
      for (const url of [`${b.url}/api/v1/auth/check`, `${b.url}/api/v1/auth/admin/clients`]) {
        const after = await call(url, { token });
        assert.deepEqual([after.status, after.body.error], [401, "token_revoked"], url);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});

Deno.test({
  name: "postgres cluster cleanup (replicas)",
  ignore: skipped !== null,
  sanitizeResources: false,
  fn: async () => {
    if (!("skipped" in cluster)) await cluster.dispose();
  },
});
