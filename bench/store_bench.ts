/**
 * Store latency at scale: for each size (default 1,000 and 1,000,000 users),
 * seeds that many users and a tenth as many revocations into a throwaway
 * PostgreSQL cluster and a SQLite file, then times what users and operators
 * do through the `Store` interface, next to a bare `SELECT 1` on the same
 * driver as the baseline. Prints one table per engine with a column per size
 * and, for the largest size, its ratio to the smallest; asserts nothing.
 *
 *   deno run -A bench/store_bench.ts [--sizes 1000,1000000] [--iterations 2000] [--engines postgres,sqlite]
 *     [--pg-settings shared_buffers=512MB,…]
 *
 * `admin approve` approves a different verified, waitlisted user each time
 * (found before the clock starts); `waitlist page` reads 100 waitlisted
 * users after a keyset cursor at a random depth, as the operator CLI pages.
 * `--pg-settings` sets server parameters of the throwaway cluster
 * (`ALTER SYSTEM`, then a restart), such as a `shared_buffers` that holds a
 * million users' tables and indexes (the default is 128 MB). Each size is
 * measured in steady state: after its bulk load the database
 * is vacuumed, analysed and checkpointed (PostgreSQL) or checkpointed
 * (SQLite's WAL).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import type { Store, UserCursor } from "../lib/store/store.ts";
import { PostgresStore } from "../lib/store/postgres.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { type PostgresCluster, startPostgresCluster } from "../tests/helpers/postgres_cluster.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "1000,1000000" },
    iterations: { type: "string", default: "2000" },
    engines: { type: "string", default: "postgres,sqlite" },
    "pg-settings": { type: "string", default: "" },
  },
});
const SIZES = values.sizes.split(",").map(Number);
const ITERATIONS = Number(values.iterations);

/** Timings of one operation. */
interface Timing {
  p50: number;
  p99: number;
  perSecond: number;
}

async function time(body: (i: number) => Promise<unknown> | unknown, count = ITERATIONS): Promise<Timing> {
  // Warm-up calls get the indices after the measured ones.
  for (let i = 0; i < WARMUP; i++) await body(count + i);
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await body(i);
    samples.push(performance.now() - t);
  }
  const total = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    p50: samples[Math.floor(samples.length * 0.5)] * 1000,
    p99: samples[Math.floor(samples.length * 0.99)] * 1000,
    perSecond: count / (total / 1000),
  };
}

const WARMUP = 50;
/** Approvals timed per size: each approves a different user, and 1,000 users hold 400 that can be. */
const APPROVALS = 300;

/** Distinct seeded users that are verified and waitlisted (even numbers, not multiples of 10), in random order. */
function approvable(users: number, count: number): string[] {
  const chosen = new Set<number>();
  while (chosen.size < count) {
    const i = 2 * (1 + Math.floor(Math.random() * Math.floor(users / 2)));
    if (i % 10 !== 0 && i <= users) chosen.add(i);
  }
  return [...chosen].map((i) => `user${i}@example.com`);
}

/** The operations, timed through the Store interface on a store seeded with `users` users. */
async function operations(store: Store, users: number, baseline: () => unknown): Promise<Map<string, Timing>> {
  const randomEmail = () => `user${1 + Math.floor(Math.random() * users)}@example.com`;
  const rows = new Map<string, Timing>();
  rows.set("baseline: SELECT 1 (bare driver)", await time(baseline));
  rows.set("findUserByEmail (random user)", await time(() => store.findUserByEmail(randomEmail())));
  rows.set("isTokenRevoked (random token id)", await time(() => store.isTokenRevoked(crypto.randomUUID())));
  // Cursors at random depths and users to approve, found before the clock starts.
  const cursors: UserCursor[] = [];
  while (cursors.length < 200) {
    const user = await store.findUserByEmail(randomEmail());
    if (user !== null) cursors.push({ createdAt: user.createdAt, userId: user.userId });
  }
  rows.set(
    "waitlist page: 100 waitlisted users after a keyset cursor at a random depth",
    await time((i) => store.listUsers({ status: "waitlisted", limit: 100, after: cursors[i % cursors.length] })),
  );
  const toApprove = approvable(users, APPROVALS + WARMUP);
  rows.set(
    `admin approve (${APPROVALS} different verified, waitlisted users)`,
    await time(
      (i) => store.approveUser({ email: toApprove[i], accountId: crypto.randomUUID(), now: Date.now() }),
      APPROVALS,
    ),
  );
  rows.set(
    "registerUser (new email)",
    await time((i) =>
      store.registerUser({
        userId: crypto.randomUUID(),
        email: `new${i}-${crypto.randomUUID()}@example.com`,
        now: Date.now(),
      })
    ),
  );
  rows.set(
    "hitRateLimit (one key per client)",
    await time((i) =>
      store.hitRateLimit({ key: `ip:10.0.${i % 250}.1`, limit: 1_000_000, windowSeconds: 300, now: Date.now() })
    ),
  );
  return rows;
}

function print(title: string, bySize: Map<number, Map<string, Timing>>): void {
  const sizes = [...bySize.keys()];
  const first = bySize.get(sizes[0])!;
  const last = bySize.get(sizes.at(-1)!)!;
  console.log(`\n${title}`);
  const ratioHeader = sizes.length > 1 ? ` p50 ${sizes.at(-1)} ÷ ${sizes[0]} |` : "";
  console.log(`| operation |${sizes.map((size) => ` p50 µs (${size}) | p99 µs (${size}) |`).join("")}${ratioHeader}`);
  console.log(`| --- |${sizes.map(() => " ---: | ---: |").join("")}${sizes.length > 1 ? " ---: |" : ""}`);
  for (const name of first.keys()) {
    const cells = sizes.map((size) => {
      const timing = bySize.get(size)!.get(name)!;
      return ` ${timing.p50.toFixed(0)} | ${timing.p99.toFixed(0)} |`;
    });
    const ratio = sizes.length > 1 ? ` ${(last.get(name)!.p50 / first.get(name)!.p50).toFixed(2)} |` : "";
    console.log(`| ${name} |${cells.join("")}${ratio}`);
  }
}

const SEED_USERS = `
INSERT INTO {users} (user_id, email, verified, status, account_id, created_at, updated_at)
SELECT {uuid}, 'user' || i || '@example.com', {verified}, CASE WHEN i % 10 = 0 THEN 'approved' ELSE 'waitlisted' END,
       CASE WHEN i % 10 = 0 THEN {uuid} END, {created}, {created}
FROM {series}`;

async function postgresSize(cluster: PostgresCluster, users: number): Promise<Map<string, Timing>> {
  const database = `bench_${users}`;
  const dsn = await cluster.createDatabase(database);
  const store = await PostgresStore.open({ dsn, poolMax: 10, connectTimeoutSeconds: 5, statementTimeoutSeconds: 600 });
  try {
    const seeded = performance.now();
    await cluster.query(
      SEED_USERS.replace("{users}", "bus_auth_users").replaceAll("{uuid}", "gen_random_uuid()::text")
        .replace("{verified}", "i % 2 = 0").replaceAll("{created}", "now() - make_interval(secs => i)")
        .replace("{series}", `generate_series(1, ${users}) AS i`),
      database,
    );
    await cluster.query(
      `INSERT INTO bus_auth_revoked_tokens SELECT gen_random_uuid()::text, now() + interval '1 hour'
       FROM generate_series(1, ${Math.ceil(users / 10)})`,
      database,
    );
    // Measured in steady state, not during the aftermath of a bulk load: vacuumed, analysed, checkpointed.
    await cluster.query("VACUUM (ANALYZE)", database);
    await cluster.query("CHECKPOINT", database);
    console.log(`PostgreSQL: ${users} users seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
    const bare = postgres(dsn, { max: 1, onnotice: () => {} });
    try {
      return await operations(store, users, () => bare`SELECT 1`);
    } finally {
      await bare.end();
    }
  } finally {
    await store.close();
    await cluster.dropDatabase(database);
  }
}

async function sqliteSize(users: number): Promise<Map<string, Timing>> {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-bench-" });
  try {
    const path = join(dir, "bench.sqlite");
    const store = SqliteStore.open(path);
    const db = new DatabaseSync(path);
    const seeded = performance.now();
    db.exec(
      `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${users}) ` +
        SEED_USERS.replace("{users}", "users").replaceAll("{uuid}", "lower(hex(randomblob(16)))")
          .replace("{verified}", "i % 2").replaceAll("{created}", `(${Date.now()} - i * 1000)`)
          .replace("{series}", "s"),
    );
    db.exec(
      `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${Math.ceil(users / 10)})
       INSERT INTO revoked_tokens SELECT lower(hex(randomblob(16))), ${Date.now() + 3_600_000} FROM s; ANALYZE;`,
    );
    // Measured in steady state: the bulk load's pages moved from the WAL into the file.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    console.log(`SQLite: ${users} users seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
    const select = db.prepare("SELECT 1");
    try {
      return await operations(store, users, () => select.get());
    } finally {
      db.close();
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(
  `# store benchmark ${new Date().toISOString().slice(0, 10)}: sizes=${SIZES.join(",")} iterations=${ITERATIONS}`,
);
const engines = values.engines.split(",");
if (engines.includes("postgres")) {
  const cluster = await startPostgresCluster();
  if ("skipped" in cluster) {
    console.log(`PostgreSQL skipped: ${cluster.skipped}`);
  } else {
    try {
      const settings = values["pg-settings"].split(",").filter((setting) => setting !== "");
      for (const setting of settings) {
        const [name, value] = setting.split("=");
        if (!/^[a-z_]+$/.test(name) || value === undefined) throw new Error(`--pg-settings: cannot read "${setting}"`);
        await cluster.query(`ALTER SYSTEM SET ${name} = '${value.replace(/'/g, "''")}'`);
      }
      if (settings.length > 0) {
        await cluster.stop();
        await cluster.start();
      }
      const shown = (await cluster.query("SHOW shared_buffers"))[0].shared_buffers;
      const bySize = new Map<number, Map<string, Timing>>();
      for (const size of SIZES) bySize.set(size, await postgresSize(cluster, size));
      print(`PostgreSQL (shared_buffers ${shown})`, bySize);
    } finally {
      await cluster.dispose();
    }
  }
}
if (engines.includes("sqlite")) {
  const bySize = new Map<number, Map<string, Timing>>();
  for (const size of SIZES) bySize.set(size, await sqliteSize(size));
  print("SQLite file", bySize);
}
