/**
 * The database goes away under traffic and comes back: requests fail fast
 * with 503 `store_unavailable`, `/healthz` says so, and the provider recovers
 * by itself, without a restart and without a single 500.
 */

import assert from "node:assert/strict";
import { startProvider } from "./helpers/provider_process.ts";
import { startPostgresCluster } from "./helpers/postgres_cluster.ts";

const cluster = await startPostgresCluster();
const skipped = "skipped" in cluster ? cluster.skipped : null;
if (skipped) console.error(`postgres tests skipped: ${skipped}`);

interface Sample {
  phase: "before" | "down" | "after";
  status: number;
  error: string | null;
  /** performance.now() when the request was sent. */
  started: number;
  ms: number;
}

Deno.test({
  name: "with PostgreSQL stopped and started under traffic, the provider answers 503 fast and recovers by itself",
  ignore: skipped !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if ("skipped" in cluster) return;
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: "outage-signing-secret-of-32-bytes-minimum",
      BUS_AUTH_POSTGRES_DSN: await cluster.createDatabase("outage"),
      BUS_AUTH_POSTGRES_CONNECT_TIMEOUT_SECONDS: "2",
      BUS_AUTH_RATE_LIMIT_PER_IP: "0",
    });
    const samples: Sample[] = [];
    let phase: Sample["phase"] = "before";
    let running = true;
    let counter = 0;
    const worker = async () => {
      while (running) {
        const started = performance.now();
        const email = `load${counter++}@example.com`;
        try {
          const response = await fetch(`${provider.url}/api/v1/auth/register`, {
            method: "POST",
            body: JSON.stringify({ email }),
            signal: AbortSignal.timeout(20_000),
          });
          const body = await response.json();
          samples.push({
            phase,
            status: response.status,
            error: body.error ?? null,
            started,
            ms: performance.now() - started,
          });
        } catch (error) {
          samples.push({ phase, status: 0, error: String(error), started, ms: performance.now() - started });
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    const health = async () => {
      const response = await fetch(`${provider.url}/healthz`, { signal: AbortSignal.timeout(20_000) });
      return { status: response.status, body: await response.json() };
    };
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await health()).status, 200);

      phase = "down";
      await cluster.stop();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const down = await health();
      assert.equal(down.status, 503);
      assert.deepEqual([down.body.ok, down.body.error], [false, "store_unavailable"]);

      await cluster.start();
      phase = "after";
      const deadline = Date.now() + 30_000;
      while ((await health()).status !== 200) {
        assert.ok(Date.now() < deadline, "the provider did not recover within 30 s");
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // Requests sent before this instant may still fail: they were waiting on the dead database.
      const recoveredAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      running = false;
      await Promise.all(workers);

      const byPhase = (p: Sample["phase"]) => samples.filter((s) => s.phase === p);
      assert.ok(byPhase("before").every((s) => s.status === 200), "all requests succeed before the outage");
      const during = byPhase("down");
      assert.ok(during.length > 0);
      for (const sample of during) {
        assert.ok(
          sample.status === 200 || (sample.status === 503 && sample.error === "store_unavailable"),
          JSON.stringify(sample),
        );
        assert.ok(sample.ms < 10_000, `a request took ${Math.round(sample.ms)} ms while the database was down`);
      }
      assert.ok(during.some((s) => s.status === 503), "the outage was seen");
      assert.ok(samples.every((s) => s.status !== 500 && s.status !== 0), "never a 500 or a dropped connection");
      const late = samples.filter((s) => s.started >= recoveredAt);
      assert.ok(
        late.length > 0 && late.every((s) => s.status === 200),
        `every request sent after recovery succeeds: ${JSON.stringify(late.filter((s) => s.status !== 200))}`,
      );
      const downMs = during.filter((s) => s.status === 503).map((s) => s.ms).sort((x, y) => x - y);
      console.error(
        `outage: ${during.length} requests while down, 503 median ${Math.round(downMs[downMs.length >> 1])} ms, ` +
          `max ${Math.round(downMs[downMs.length - 1])} ms`,
      );
    } finally {
      running = false;
      await Promise.all(workers);
      await provider.stop();
      await cluster.dispose();
    }
  },
});
