/**
 * The operational surface of a provider process: the metrics listener apart
 * from the public one, the probes, and the start-up check of the SMTP relay
 * listed with the other configuration problems, and the warning of a
 * revocation list too long for the cache to hold.
 */

import assert from "node:assert/strict";
import { runProgram, startProvider } from "./helpers/provider_process.ts";
import { startSmtpCatcher } from "./helpers/smtp_catcher.ts";
import { insertRevocations } from "./helpers/sqlite_rows.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";

const SECRET = "operations-test-secret-of-at-least-32-bytes";
const PREFIX = "/local-dev/v1";
const net = { sanitizeResources: false, sanitizeOps: false };

/** A free loopback port with nothing listening on it. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function smtpEnv(port: number): Record<string, string> {
  return {
    BUS_AUTH_OTP_SENDER: "smtp",
    BUS_AUTH_SMTP_HOST: "127.0.0.1",
    BUS_AUTH_SMTP_PORT: String(port),
    BUS_AUTH_SMTP_TLS: "none",
    BUS_AUTH_SMTP_FROM: "auth@example.com",
  };
}

async function get(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get("Content-Type"), text: await response.text() };
}

Deno.test("metrics are served on BUS_AUTH_METRICS_LISTEN only, never on the public listener", net, async () => {
  const provider = await startProvider({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_ROUTE_PREFIX: PREFIX,
    BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0",
  });
  try {
    const line = provider.stderr.map((text) => JSON.parse(text)).find((record) => record.msg === "metrics listening");
    const metricsUrl = String(line?.url);
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:[0-9]+\/metrics$/);
    assert.notEqual(new URL(metricsUrl).port, new URL(provider.url).port);
    assert.equal((await get(`${provider.url}/api/v1/auth/status`)).status, 401);
    const scrape = await get(metricsUrl);
    assert.equal(scrape.status, 200);
    assert.equal(scrape.type, "text/plain; version=0.0.4; charset=utf-8");
    assert.match(
      scrape.text,
      /^bus_auth_http_requests_total\{method="GET",route="\/api\/v1\/auth\/status",status="401"\} 1$/m,
    );
    assert.match(scrape.text, /^bus_auth_build_info\{version="[^"]+",store="memory"\} 1$/m);
    for (const path of ["/metrics", `${PREFIX}/metrics`]) {
      const publicly = await get(`${provider.url}${path}`);
      assert.equal(publicly.status, 404, `${path} on the public listener`);
      assert.ok(!publicly.text.includes("bus_auth_"));
    }
    assert.equal(
      (await get(metricsUrl.replace("/metrics", "/healthz"))).status,
      404,
      "the metrics listener serves metrics only",
    );
  } finally {
    assert.equal(await provider.stop(), 0);
  }
});

Deno.test("BUS_AUTH_CACHE_ENTRIES bounds the cache of token checks, as /metrics shows", net, async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-cache-entries-" });
  const provider = await startProvider({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_STORE_PATH: `${dir}/auth.sqlite`,
    BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0",
    BUS_AUTH_CACHE_ENTRIES: "150",
  });
  try {
    const line = provider.stderr.map((text) => JSON.parse(text)).find((record) => record.msg === "metrics listening");
    const scrape = await get(String(line?.url));
    assert.match(scrape.text, /^bus_auth_cache_entries_per_kind_limit 150$/m);
  } finally {
    assert.equal(await provider.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without BUS_AUTH_METRICS_LISTEN nothing listens for metrics; the probes answer", net, async () => {
  const provider = await startProvider({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_ROUTE_PREFIX: PREFIX });
  try {
    assert.ok(!provider.stderr.some((line) => line.includes("metrics listening")));
    assert.equal((await get(`${provider.url}/metrics`)).status, 404);
    for (const path of ["/livez", `${PREFIX}/livez`, "/readyz", `${PREFIX}/readyz`, "/healthz"]) {
      const probe = await get(`${provider.url}${path}`);
      assert.equal(probe.status, 200, `${path}: ${probe.text}`);
      assert.equal(JSON.parse(probe.text).ok, true);
    }
  } finally {
    assert.equal(await provider.stop(), 0);
  }
});

Deno.test("serve lists an unreachable SMTP relay with the other configuration problems and exits 2", net, async () => {
  const port = closedPort();
  const result = await runProgram("bus-api-provider-auth", ["serve", "--listen", "127.0.0.1:0"], {
    env: { BUS_AUTH_HS256_SECRET: SECRET, ...smtpEnv(port), BUS_AUTH_RATE_LIMIT_PER_IP: "-1" },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr,
    "bus-api-provider-auth: invalid configuration:\n" +
      '  BUS_AUTH_RATE_LIMIT_PER_IP: expected a whole number from 0 to 1000000, got "-1"\n' +
      `  BUS_AUTH_SMTP_HOST: Cannot reach the SMTP relay "127.0.0.1:${port}" within 5 s: ` +
      "the mail server refused the connection (connection failed)\n",
  );
  assert.equal(result.stdout, "");
  const alone = await runProgram("bus-api-provider-auth", ["serve", "--listen", "127.0.0.1:0"], {
    env: { BUS_AUTH_HS256_SECRET: SECRET, ...smtpEnv(port) },
  });
  assert.equal(alone.code, 2, alone.stderr);
  assert.match(alone.stderr, /^bus-api-provider-auth: invalid configuration:\n {2}BUS_AUTH_SMTP_HOST: Cannot reach/);
});

Deno.test("config checks the SMTP relay only with --check-connections", net, async () => {
  const port = closedPort();
  const env = { BUS_AUTH_HS256_SECRET: SECRET, ...smtpEnv(port) };
  const plain = await runProgram("bus-api-provider-auth", ["config"], { env });
  assert.equal(plain.code, 0, plain.stderr);
  const checked = await runProgram("bus-api-provider-auth", ["config", "--check-connections"], { env });
  assert.equal(checked.code, 2);
  assert.match(
    checked.stderr,
    /^ {2}BUS_AUTH_SMTP_HOST: Cannot reach the SMTP relay "127\.0\.0\.1:[0-9]+" within 5 s: /m,
  );
  const misplaced = await runProgram("bus-api-provider-auth", ["migrate", "--check-connections"], { env });
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /--check-connections only goes with config/);
  const catcher = await startSmtpCatcher();
  try {
    const reachable = await runProgram("bus-api-provider-auth", ["config", "--check-connections"], {
      env: { BUS_AUTH_HS256_SECRET: SECRET, ...smtpEnv(catcher.port) },
    });
    assert.equal(reachable.code, 0, reachable.stderr);
    assert.match(
      reachable.stderr,
      new RegExp(`^checked: the SMTP relay "127\\.0\\.0\\.1:${catcher.port}" took a connection$`, "m"),
    );
    assert.equal(catcher.messages.length, 0, "a check sends no mail");
  } finally {
    await catcher.close();
  }
});

Deno.test("serve starts when the SMTP relay answers, and /readyz counts the start-up check", net, async () => {
  const catcher = await startSmtpCatcher();
  const provider = await startProvider({ BUS_AUTH_HS256_SECRET: SECRET, ...smtpEnv(catcher.port) });
  try {
    assert.equal(catcher.connections, 1, "the start-up check");
    const ready = await get(`${provider.url}/readyz`);
    assert.equal(ready.status, 200, ready.text);
    assert.equal(JSON.parse(ready.text).smtp, "ok");
    assert.equal(catcher.connections, 1, "no second check within the minute");
  } finally {
    assert.equal(await provider.stop(), 0);
    await catcher.close();
  }
});

Deno.test(
  "a revocation list over the cache's bound is logged once; logouts are still refused at once",
  net,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-auth-revoked-" });
    const path = `${dir}/auth.sqlite`;
    SqliteStore.open(path).close();
    // 100,001 live revocations, one more than the cache holds in memory.
    insertRevocations(path, 100_001, "revoked-", Date.now() + 86_400_000);
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_STORE_PATH: path,
      BUS_AUTH_OTP_SENDER: "console",
    });
    try {
      const post = (route: string, body: unknown, token?: string) =>
        fetch(`${provider.url}/api/v1/auth${route}`, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      const status = (token: string) =>
        fetch(`${provider.url}/api/v1/auth/status`, { headers: { Authorization: `Bearer ${token}` } });
      const email = "many-revoked@example.com";
      const requested = await post("/otp/request", { email });
      assert.equal(requested.status, 200, await requested.text());
      const verified = await post("/otp/verify", { email, otp: await provider.waitForOtp(email) });
      const session = (await verified.json()).access_token;
      const before = await status(session);
      assert.equal(before.status, 200, await before.text());
      const warned = (records: Record<string, unknown>[]) =>
        records.filter((record) => record.level === "warn" && String(record.msg).includes("token ids are revoked"));
      const records = await provider.waitForLog((lines) => warned(lines).length > 0, "the over-bound warning");
      assert.deepEqual(warned(records).map((record) => record.msg), [
        "cache: more than 100000 token ids are revoked, more than it holds in memory; checks ask the database for each id until expired revocations are purged",
      ]);
      const loggedOut = await post("/logout", {}, session);
      assert.equal(loggedOut.status, 204, await loggedOut.text());
      const after = await status(session);
      assert.equal(after.status, 401, `a logout is refused at once: ${await after.text()}`);
      assert.equal(warned(provider.stderr.map((line) => JSON.parse(line))).length, 1, "said once");
    } finally {
      assert.equal(await provider.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
