/**
 * Several provider processes on one PostgreSQL database: everything that
 * must hold across replicas lives in the database.
 */

import assert from "node:assert/strict";
import { type ProviderProcess, startProvider } from "./helpers/provider_process.ts";
import { callJson, type JsonReply } from "./helpers/http.ts";
import { mintInternal, userApiToken } from "./helpers/provider_tokens.ts";
import { startPostgresCluster } from "./helpers/postgres_cluster.ts";

const cluster = await startPostgresCluster();
const skipped = "skipped" in cluster ? cluster.skipped : null;
if (skipped) console.error(`postgres tests skipped: ${skipped}`);

const SECRET = "replica-signing-secret-of-32-bytes-minimum";
const KEY = "replica-internal-key-0123456789";
/**
 * How soon a replica must refuse what another revoked: its cache's lease
 * (1 s) after the last heartbeat (250 ms), plus slack for two processes
 * sharing the test machine. The measured delay is a few milliseconds.
 */
const BOUND_MS = 1250 + 750;

/**
 * Repeats `request` until it answers `status` with `error`, and returns
 * after how many milliseconds; fails after {@link BOUND_MS}.
 */
async function refusedWithin(request: () => Promise<JsonReply>, status: number, error: string): Promise<number> {
  const started = performance.now();
  while (true) {
    const reply = await request();
    if (reply.status === status && reply.body?.error === error) return performance.now() - started;
    assert.equal(reply.status, 200, `neither accepted nor refused as expected: ${JSON.stringify(reply.body)}`);
    const elapsed = performance.now() - started;
    if (elapsed > BOUND_MS) assert.fail(`still accepted after ${elapsed.toFixed(0)} ms`);
  }
}

/** Sends `request` twice and expects 200 both times: the replica now keeps what it read. */
async function acceptedTwice(request: () => Promise<JsonReply>): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const reply = await request();
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
  }
}

/** A new session on `provider` for `email` (OTP from its stdout). */
async function signIn(provider: ProviderProcess, email: string): Promise<string> {
  const api = `${provider.url}/api/v1/auth`;
  assert.equal((await call(`${api}/otp/request`, { body: { email } })).status, 200);
  const verified = await call(`${api}/otp/verify`, { body: { email, otp: await provider.waitForOtp(email) } });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  return verified.body.access_token;
}

/** `bus_auth_cache_reads_total{result="hit"}` of a provider started with BUS_AUTH_METRICS_LISTEN. */
async function cacheHits(provider: ProviderProcess): Promise<number> {
  const listening = provider.stderr.map((line) => JSON.parse(line)).find((record) =>
    record.msg === "metrics listening"
  );
  assert.ok(listening, "the metrics listener is up");
  const text = await (await fetch(listening.url)).text();
  const hits = /^bus_auth_cache_reads_total\{result="hit"\} (\d+)$/m.exec(text);
  assert.ok(hits, "the cache metrics are there");
  return Number(hits[1]);
}

function jtiOf(token: string): string {
  return JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(token.split(".")[1], { alphabet: "base64url" })))
    .jti;
}

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
        await acceptedTwice(() => call(`${apiB}/me`, { token: session }));
        assert.equal((await call(`${apiA}/logout`, { token: session, method: "POST" })).status, 204);
        const refusedOnA = await call(`${apiA}/me`, { token: session });
        assert.deepEqual([refusedOnA.status, refusedOnA.body.error], [401, "token_revoked"], "at once on A");
        await refusedWithin(() => call(`${apiB}/me`, { token: session }), 401, "token_revoked");
      });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    // A stop closes the change feed, which is no loss: no warning of one (every stop logged it before).
    for (const replica of [a, b]) {
      assert.deepEqual(replica.stderr.filter((line) => line.includes("change feed lost")), []);
      assert.ok(replica.stderr.some((line) => line.includes('"msg":"stopped"')), "the replica stopped cleanly");
    }
  },
});

Deno.test({
  name: "with warm caches, each revocation on A is refused at once on A and on B within the bound (logout measured)",
  ignore: skipped !== null,
  sanitizeResources: false,
  fn: async (t) => {
    const [a, b] = await replicas("replicas_rules", { BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0" });
    const apiA = `${a.url}/api/v1/auth`;
    const apiB = `${b.url}/api/v1/auth`;
    const admin = await mintInternal(a, KEY, { subject: "rules-admin", scope: "admin:manage" });
    /** Warms B (its cache answers, as its metrics show), acts on A, and expects A at once and B within the bound to refuse. */
    const rule = async (
      request: (api: string) => Promise<JsonReply>,
      act: () => Promise<unknown>,
      error = "token_revoked",
    ) => {
      await acceptedTwice(() => request(apiB));
      const hits = await cacheHits(b);
      await acceptedTwice(() => request(apiB));
      assert.ok(await cacheHits(b) > hits, "B answers from its cache");
      await act();
      const onA = await request(apiA);
      assert.deepEqual([onA.status, onA.body.error], [401, error], "refused at once on A");
      return await refusedWithin(() => request(apiB), 401, error);
    };
    try {
      await t.step("logout", async () => {
        const session = await signIn(a, "logout@example.com");
        await rule(
          (api) => call(`${api}/status`, { token: session }),
          () => call(`${apiA}/logout`, { token: session, method: "POST" }),
        );
      });
      await t.step("refresh rotation: the refreshed token", async () => {
        const session = await signIn(a, "refresh@example.com");
        await rule(
          (api) => call(`${api}/status`, { token: session }),
          async () =>
            assert.equal((await call(`${apiA}/token/refresh`, { token: session, method: "POST" })).status, 200),
        );
      });
      await t.step("reject, and its not-before instant through a re-approval", async () => {
        const { token } = await userApiToken(a, KEY, { email: "reject@example.com", scope: "llm:proxy" });
        await rule(
          (api) => call(`${api}/check`, { token }),
          () => call(`${apiA}/admin/reject`, { token: admin, body: { email: "reject@example.com" } }),
        );
        assert.equal(
          (await call(`${apiA}/admin/approve`, { token: admin, body: { email: "reject@example.com" } })).status,
          200,
        );
        for (const api of [apiA, apiB]) {
          const after = await call(`${api}/check`, { token });
          assert.deepEqual([after.status, after.body.error], [401, "token_revoked"], `${api}: not revived`);
        }
      });
      await t.step("an admin token revoked by its jti", async () => {
        const other = await mintInternal(a, KEY, { subject: "leaked-admin", scope: "admin:manage" });
        await rule(
          (api) => call(`${api}/check`, { token: other }),
          () => call(`${apiA}/admin/tokens/revoke`, { token: admin, body: { jti: jtiOf(other) } }),
        );
      });
      await t.step("a scope policy that drops a scope the token holds", async () => {
        const { token, accountId } = await userApiToken(a, KEY, {
          email: "policy@example.com",
          scope: "llm:proxy billing:read",
        });
        await rule(
          (api) => call(`${api}/check`, { token }),
          () =>
            call(`${apiA}/admin/accounts/${accountId}/policy`, {
              token: admin,
              method: "PUT",
              body: { scopes: "llm:proxy" },
            }),
        );
      });
      await t.step("20 logouts on A: how soon B refuses (printed)", async () => {
        const delays: number[] = [];
        for (let i = 0; i < 20; i++) {
          const session = await signIn(a, `measure${i}@example.com`);
          delays.push(
            await rule(
              (api) => call(`${api}/me`, { token: session }),
              () => call(`${apiA}/logout`, { token: session, method: "POST" }),
            ),
          );
        }
        delays.sort((x, y) => x - y);
        console.log(
          `logout on A refused on B after: p50 ${delays[10].toFixed(1)} ms, p99/max ${delays[19].toFixed(1)} ms ` +
            "(20 logouts, each measured from A's answer to B's first refusal, through HTTP)",
        );
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
      await acceptedTwice(() => call(`${b.url}/api/v1/auth/check`, { token }));

      assert.equal(
        (await call(`${a.url}/api/v1/auth/admin/clients/${clientId}/revoke`, { token: admin, method: "POST" })).status,
        200,
      );
      await refusedWithin(() => exchange(b.url, clientId, key) as Promise<JsonReply>, 401, "invalid_client");
      for (const url of [`${b.url}/api/v1/auth/check`, `${b.url}/api/v1/auth/admin/clients`]) {
        await refusedWithin(() => call(url, { token }), 401, "token_revoked");
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
