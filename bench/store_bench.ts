/**
 * Store latency at scale: seeds N users (default 1,000,000) and N/10
 * revocations into a throwaway PostgreSQL cluster and a SQLite file, then
 * times what users do through the `Store` interface, next to a bare
 * `SELECT 1` on the same driver as the baseline. Prints tables; asserts
 * nothing.
 *
 *   deno run -A bench/store_bench.ts [--users 1000000] [--iterations 2000]
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import type { Store, UserCursor } from "../lib/store/store.ts";
import { PostgresStore } from "../lib/store/postgres.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { startPostgresCluster } from "../tests/helpers/postgres_cluster.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { users: { type: "string", default: "1000000" }, iterations: { type: "string", default: "2000" } },
});
const USERS = Number(values.users);
const ITERATIONS = Number(values.iterations);

interface Row {
  name: string;
  p50: number;
  p99: number;
  perSecond: number;
}

async function time(name: string, body: (i: number) => Promise<unknown> | unknown): Promise<Row> {
  for (let i = 0; i < 50; i++) await body(i);
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now();
    await body(i);
    samples.push(performance.now() - t);
  }
  const total = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    name,
    p50: samples[Math.floor(samples.length * 0.5)] * 1000,
    p99: samples[Math.floor(samples.length * 0.99)] * 1000,
    perSecond: ITERATIONS / (total / 1000),
  };
}

const randomEmail = () => `user${1 + Math.floor(Math.random() * USERS)}@example.com`;

/** The user operations, timed through the Store interface. */
async function userOperations(store: Store): Promise<Row[]> {
  const page = await store.listUsers({ status: "waitlisted", limit: 1, after: null });
  const rows: Row[] = [];
  rows.push(await time("findUserByEmail (random user)", () => store.findUserByEmail(randomEmail())));
  rows.push(await time("isTokenRevoked (random token id)", () => store.isTokenRevoked(crypto.randomUUID())));
  // Cursors at random depths, found before the clock starts.
  const cursors: UserCursor[] = [];
  for (let i = 0; i < 200; i++) {
    const user = await store.findUserByEmail(randomEmail());
    cursors.push(
      user ? { createdAt: user.createdAt, userId: user.userId } : { createdAt: page[0].createdAt, userId: "" },
    );
  }
  rows.push(
    await time(
      "listUsers waitlisted, 100 rows, deep keyset cursor",
      (i) => store.listUsers({ status: "waitlisted", limit: 100, after: cursors[i % cursors.length] }),
    ),
  );
  rows.push(
    await time(
      "registerUser (new email)",
      (i) =>
        store.registerUser({
          userId: crypto.randomUUID(),
          email: `new${i}-${crypto.randomUUID()}@example.com`,
          now: Date.now(),
        }),
    ),
  );
  rows.push(
    await time(
      "hitRateLimit (one key per client)",
      (i) => store.hitRateLimit({ key: `ip:10.0.${i % 250}.1`, limit: 1_000_000, windowSeconds: 300, now: Date.now() }),
    ),
  );
  return rows;
}

function print(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log("| operation | p50 µs | p99 µs | ops/s (sequential) |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const row of rows) {
    console.log(`| ${row.name} | ${row.p50.toFixed(0)} | ${row.p99.toFixed(0)} | ${row.perSecond.toFixed(0)} |`);
  }
}

const SEED_USERS = `
INSERT INTO {users} (user_id, email, verified, status, account_id, created_at, updated_at)
SELECT {uuid}, 'user' || i || '@example.com', {verified}, CASE WHEN i % 10 = 0 THEN 'approved' ELSE 'waitlisted' END,
       CASE WHEN i % 10 = 0 THEN {uuid} END, {created}, {created}
FROM {series}`;

console.log(`users=${USERS} iterations=${ITERATIONS}`);

// PostgreSQL
const cluster = await startPostgresCluster();
if ("skipped" in cluster) {
  console.log(`PostgreSQL skipped: ${cluster.skipped}`);
} else {
  try {
    const dsn = await cluster.createDatabase("bench");
    const store = await PostgresStore.open({
      dsn,
      poolMax: 10,
      connectTimeoutSeconds: 5,
      statementTimeoutSeconds: 600,
    });
    const seeded = performance.now();
    await cluster.query(
      SEED_USERS.replace("{users}", "bus_auth_users").replaceAll("{uuid}", "gen_random_uuid()::text")
        .replace("{verified}", "i % 2 = 0").replaceAll("{created}", "now() - make_interval(secs => i)")
        .replace("{series}", `generate_series(1, ${USERS}) AS i`),
      "bench",
    );
    await cluster.query(
      `INSERT INTO bus_auth_revoked_tokens SELECT gen_random_uuid()::text, now() + interval '1 hour'
       FROM generate_series(1, ${Math.ceil(USERS / 10)}); ANALYZE;`,
      "bench",
    );
    console.log(`PostgreSQL seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
    const bare = postgres(dsn, { max: 1, onnotice: () => {} });
    const rows = [await time("baseline: SELECT 1 (bare postgres.js)", () => bare`SELECT 1`)];
    rows.push(...await userOperations(store));
    print(`PostgreSQL ${USERS} users`, rows);
    await bare.end();
    await store.close();
  } finally {
    await cluster.dispose();
  }
}

// SQLite file
const dir = await Deno.makeTempDir({ prefix: "bus-auth-bench-" });
try {
  const path = join(dir, "bench.sqlite");
  const store = SqliteStore.open(path);
  const db = new DatabaseSync(path);
  const seeded = performance.now();
  db.exec(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${USERS}) ` +
      SEED_USERS.replace("{users}", "users").replaceAll("{uuid}", "lower(hex(randomblob(16)))")
        .replace("{verified}", "i % 2").replaceAll("{created}", `(${Date.now()} - i * 1000)`)
        .replace("{series}", "s"),
  );
  db.exec(
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${Math.ceil(USERS / 10)})
     INSERT INTO revoked_tokens SELECT lower(hex(randomblob(16))), ${Date.now() + 3_600_000} FROM s; ANALYZE;`,
  );
  console.log(`\nSQLite seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  const select = db.prepare("SELECT 1");
  const rows = [await time("baseline: SELECT 1 (bare node:sqlite)", () => select.get())];
  rows.push(...await userOperations(store));
  print(`SQLite file ${USERS} users`, rows);
  db.close();
  await store.close();
} finally {
  await Deno.remove(dir, { recursive: true });
}
