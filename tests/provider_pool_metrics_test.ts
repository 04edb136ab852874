/**
 * The store pool gauges of `/metrics` on a provider process that keeps its
 * state in PostgreSQL: the pool's size is `BUS_AUTH_POSTGRES_POOL_MAX`, the
 * open connections follow the pool as it grows, and the operations in flight
 * count the ones running or waiting for a connection. Operations are held in
 * flight by a test transaction that locks the users table registrations
 * write, so the scrape sees them whatever the timing.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { type ProviderProcess, startProvider } from "./helpers/provider_process.ts";
import { startPostgresCluster } from "./helpers/postgres_cluster.ts";

const cluster = await startPostgresCluster();
const skipped = "skipped" in cluster ? cluster.skipped : null;
if (skipped) console.error(`postgres tests skipped: ${skipped}`);

const POOL_MAX = 3;
const HELD_READS = 4;

/** The value of one unlabelled gauge in a scrape, after checking its TYPE line. */
function gauge(scrape: string, name: string): number {
  assert.match(scrape, new RegExp(`^# TYPE ${name} gauge$`, "m"), `${name} is declared a gauge`);
  const match = new RegExp(`^${name} ([0-9]+)$`, "m").exec(scrape);
  assert.ok(match, `${name} in the scrape:\n${scrape}`);
  return Number(match[1]);
}

function metricsUrl(provider: ProviderProcess): string {
  const line = provider.stderr.map((text) => JSON.parse(text)).find((record) => record.msg === "metrics listening");
  assert.ok(line, "the metrics listener is up");
  return String(line.url);
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return await response.text();
}

/** Scrapes until `ready` holds for the scrape (at most 10 s) and returns it. */
async function scrapeUntil(url: string, ready: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (true) {
    const text = await scrape(url);
    if (ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test({
  name: "/metrics on PostgreSQL shows the pool's size, its open connections and the operations in flight",
  ignore: skipped !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    if ("skipped" in cluster) return;
    const dsn = await cluster.createDatabase("pool_metrics");
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: "pool-metrics-secret-of-at-least-32-bytes",
      BUS_AUTH_POSTGRES_DSN: dsn,
      BUS_AUTH_POSTGRES_POOL_MAX: String(POOL_MAX),
      BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0",
    });
    const locker = postgres(dsn, { max: 1, onnotice: () => {} });
    try {
      const metrics = metricsUrl(provider);

      await t.step("after a request: the pool's size, at least one open connection, nothing in flight", async () => {
        const ready = await fetch(`${provider.url}/readyz`);
        assert.equal(ready.status, 200, await ready.text());
        const text = await scrape(metrics);
        assert.match(text, /^bus_auth_build_info\{version="[^"]+",store="postgres"\} 1$/m);
        assert.equal(gauge(text, "bus_auth_store_pool_max_connections"), POOL_MAX);
        const open = gauge(text, "bus_auth_store_pool_open_connections");
        assert.ok(open >= 1 && open <= POOL_MAX, `open connections: ${open}`);
        assert.equal(gauge(text, "bus_auth_store_operations_in_flight"), 0);
      });

      await t.step(
        "operations held by a table lock count as in flight, and the pool opens up to its size",
        async () => {
          let locked!: () => void;
          const lockTaken = new Promise<void>((resolve) => locked = resolve);
          let release!: () => void;
          const released = new Promise<void>((resolve) => release = resolve);
          const holding = locker.begin(async (tx) => {
            await tx.unsafe("LOCK TABLE bus_auth_users IN ACCESS EXCLUSIVE MODE");
            locked();
            await released;
          });
          await lockTaken;
          // Each registration writes the users table, so each waits on the lock; one more than the pool holds.
          // (Concurrent /readyz probes would share one schema read, and would not show it.)
          const reads = Array.from({ length: HELD_READS }, (_, i) =>
            fetch(`${provider.url}/api/v1/auth/register`, {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ email: `held${i}@example.com` }),
            }));
          try {
            const held = await scrapeUntil(
              metrics,
              (text) =>
                gauge(text, "bus_auth_store_operations_in_flight") >= HELD_READS &&
                gauge(text, "bus_auth_store_pool_open_connections") === POOL_MAX,
              `${HELD_READS} operations in flight on ${POOL_MAX} open connections`,
            );
            assert.equal(gauge(held, "bus_auth_store_pool_max_connections"), POOL_MAX);
          } finally {
            release();
            await holding;
          }
          for (const response of await Promise.all(reads)) assert.equal(response.status, 200, await response.text());
          const after = await scrape(metrics);
          assert.equal(gauge(after, "bus_auth_store_operations_in_flight"), 0);
          const open = gauge(after, "bus_auth_store_pool_open_connections");
          assert.ok(open >= 1 && open <= POOL_MAX, `open connections: ${open}`);
        },
      );
    } finally {
      await locker.end({ timeout: 5 });
      assert.equal(await provider.stop(), 0);
      await cluster.dropDatabase("pool_metrics");
    }
  },
});

Deno.test({
  name: "postgres cluster cleanup (pool metrics)",
  ignore: skipped !== null,
  sanitizeResources: false,
  fn: async () => {
    if (!("skipped" in cluster)) await cluster.dispose();
  },
});
