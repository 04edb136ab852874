/**
 * Store latency at scale: for each size (default 1,000 and 1,000,000 users),
 * seeds that many users and a tenth as many revocations into a throwaway
 * PostgreSQL cluster, a SQLite file and the memory store, then times what
 * users and operators do through the `Store` interface, next to a bare
 * `SELECT 1` on the same driver as the baseline (the memory store's: a
 * resolved promise). Prints one table per engine with a column per size
 * and, for the largest size, its ratio to the smallest; asserts nothing.
 *
 *   deno run -A bench/store_bench.ts [--sizes 1000,1000000] [--iterations 2000] [--engines postgres,sqlite,memory]
 *     [--rounds 3] [--pg-settings shared_buffers=512MB,…]
 *
 * Every size of an engine is seeded first; then `--rounds` rounds time
 * every operation on every size, the sizes in turn (in reverse order every
 * other round), so that a shared machine's drift and the aftermath of the
 * large bulk load weigh on all sizes alike. Each cell is the median over
 * the rounds; the last column lists each round's ratio, to show how far
 * they agree.
 *
 * `admin approve` approves a different verified, waitlisted user each time
 * (found before the clock starts); `findUserByAccountId` looks up a random
 * approved user's account, as `check` does for every user API token (on
 * SQLite and PostgreSQL the provider's read cache answers repeats; this is
 * the store itself); `waitlist page` reads 100 waitlisted
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

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import type { Store, UserCursor } from "../lib/store/store.ts";
import { PostgresStore } from "../lib/store/postgres.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { type PostgresCluster, startPostgresCluster } from "../tests/helpers/postgres_cluster.ts";
import { benchArgs } from "./_args.ts";

const values = benchArgs(
  {
    sizes: { type: "string", default: "1000,1000000" },
    iterations: { type: "string", default: "2000" },
    engines: { type: "string", default: "postgres,sqlite,memory" },
    rounds: { type: "string", default: "3" },
    "pg-settings": { type: "string", default: "" },
  },
  `usage: deno run -A bench/store_bench.ts [--sizes 1000,1000000] [--iterations 2000] [--engines postgres,sqlite,memory]
  [--rounds 3] [--pg-settings shared_buffers=512MB,…]`,
);
const SIZES = values.sizes.split(",").map(Number);
const ITERATIONS = Number(values.iterations);
const ROUNDS = Math.max(1, Number(values.rounds));

/** Timings of one operation. */
interface Timing {
  p50: number;
  p99: number;
  perSecond: number;
}

async function time(
  body: (i: number) => Promise<unknown> | unknown,
  count = ITERATIONS,
  warmup = WARMUP,
): Promise<Timing> {
  // Warm-up calls get the indices after the measured ones.
  for (let i = 0; i < warmup; i++) await body(count + i);
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
/** Approvals timed per size and round, after {@link APPROVAL_WARMUP} more: each approves a different user, and 1,000 users hold 400 that can be. */
const APPROVALS = 100;
const APPROVAL_WARMUP = 10;

/** Distinct seeded users that are verified and waitlisted (even numbers, not multiples of 10), in random order. */
function approvable(users: number, count: number): string[] {
  const available = Math.floor(users / 2) - Math.floor(users / 10);
  if (count > available) {
    throw new Error(`${users} users hold ${available} that can be approved, not ${count}: use fewer --rounds`);
  }
  const chosen = new Set<number>();
  while (chosen.size < count) {
    const i = 2 * (1 + Math.floor(Math.random() * Math.floor(users / 2)));
    if (i % 10 !== 0 && i <= users) chosen.add(i);
  }
  return [...chosen].map((i) => `user${i}@example.com`);
}

/** What an engine's figures are compared with: its driver doing nothing. */
interface Baseline {
  name: string;
  run: () => unknown;
}

/** The operations, timed through the Store interface on a store seeded with `users` users; `toApprove`: this round's users to approve. */
async function operations(
  store: Store,
  users: number,
  baseline: Baseline,
  toApprove: readonly string[],
): Promise<Map<string, Timing>> {
  const randomEmail = () => `user${1 + Math.floor(Math.random() * users)}@example.com`;
  const rows = new Map<string, Timing>();
  rows.set(`baseline: ${baseline.name}`, await time(baseline.run));
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
  rows.set(
    `admin approve (${APPROVALS} different verified, waitlisted users a round)`,
    await time(
      (i) => store.approveUser({ email: toApprove[i], accountId: crypto.randomUUID(), now: Date.now() }),
      APPROVALS,
      APPROVAL_WARMUP,
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
  // Last, so that finding the accounts warms nothing the rows above read.
  const accounts: string[] = [];
  while (accounts.length < 200) {
    const accountId =
      (await store.findUserByEmail(`user${10 * (1 + Math.floor(Math.random() * users / 10))}@example.com`))
        ?.accountId;
    if (accountId) accounts.push(accountId);
  }
  rows.set(
    "findUserByAccountId (random approved user)",
    await time((i) => store.findUserByAccountId(accounts[i % accounts.length])),
  );
  return rows;
}

/**
 * One table: per size the medians over the rounds of each operation's p50
 * and p99, then the ratio of the largest size's p50 to the smallest's, and
 * that ratio in each round.
 */
function print(title: string, bySize: Map<number, Map<string, Timing>[]>): void {
  const sizes = [...bySize.keys()];
  const first = bySize.get(sizes[0])!;
  const last = bySize.get(sizes.at(-1)!)!;
  const compared = sizes.length > 1;
  console.log(`\n${title}`);
  const ratioHeader = compared ? ` p50 ${sizes.at(-1)} ÷ ${sizes[0]} | each round |` : "";
  console.log(`| operation |${sizes.map((size) => ` p50 µs (${size}) | p99 µs (${size}) |`).join("")}${ratioHeader}`);
  console.log(`| --- |${sizes.map(() => " ---: | ---: |").join("")}${compared ? " ---: | ---: |" : ""}`);
  for (const name of first[0].keys()) {
    const p50 = (size: number) => median(bySize.get(size)!.map((round) => round.get(name)!.p50));
    const cells = sizes.map((size) =>
      ` ${micros(p50(size))} | ${micros(median(bySize.get(size)!.map((round) => round.get(name)!.p99)))} |`
    );
    const rounds = last.map((round, i) => (round.get(name)!.p50 / first[i].get(name)!.p50).toFixed(2)).join(", ");
    const ratio = compared ? ` ${(p50(sizes.at(-1)!) / p50(sizes[0])).toFixed(2)} | ${rounds} |` : "";
    console.log(`| ${name} |${cells.join("")}${ratio}`);
  }
}

/** Microseconds, with a decimal below 10 (the memory store's figures). */
function micros(value: number): string {
  return value.toFixed(value < 10 ? 1 : 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A seeded store of one size, ready to be timed. */
interface Seeded {
  users: number;
  /** One round of every operation. */
  measure(toApprove: readonly string[]): Promise<Map<string, Timing>>;
  close(): Promise<void>;
}

/**
 * Times every size of one engine: seeds them all, then runs ROUNDS rounds
 * over the sizes in turn, in reverse order every other round, each round
 * approving users of its own.
 */
async function measureSizes(seed: (users: number) => Promise<Seeded>): Promise<Map<number, Map<string, Timing>[]>> {
  const seeded: Seeded[] = [];
  try {
    for (const size of SIZES) seeded.push(await seed(size));
    const approvers = new Map(
      seeded.map((store) => [store, approvable(store.users, ROUNDS * (APPROVALS + APPROVAL_WARMUP))]),
    );
    const bySize = new Map<number, Map<string, Timing>[]>(SIZES.map((size) => [size, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? seeded : [...seeded].reverse();
      for (const store of order) {
        const per = APPROVALS + APPROVAL_WARMUP;
        const toApprove = approvers.get(store)!.slice(round * per, (round + 1) * per);
        bySize.get(store.users)!.push(await store.measure(toApprove));
      }
    }
    return bySize;
  } finally {
    for (const store of seeded) await store.close();
  }
}

const SEED_USERS = `
INSERT INTO {users} (user_id, email, verified, status, account_id, created_at, updated_at)
SELECT {uuid}, 'user' || i || '@example.com', {verified}, CASE WHEN i % 10 = 0 THEN 'approved' ELSE 'waitlisted' END,
       CASE WHEN i % 10 = 0 THEN {uuid} END, {created}, {created}
FROM {series}`;

/** Seeds a database of the cluster with `users` users. */
async function seedPostgres(cluster: PostgresCluster, users: number): Promise<Seeded> {
  const database = `bench_${users}`;
  const dsn = await cluster.createDatabase(database);
  const store = await PostgresStore.open({ dsn, poolMax: 10, connectTimeoutSeconds: 5, statementTimeoutSeconds: 600 });
  const bare = postgres(dsn, { max: 1, onnotice: () => {} });
  const close = async () => {
    await bare.end();
    await store.close();
    await cluster.dropDatabase(database);
  };
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
  } catch (error) {
    await close();
    throw error;
  }
  return {
    users,
    measure: (toApprove) =>
      operations(store, users, { name: "SELECT 1 (bare driver)", run: () => bare`SELECT 1` }, toApprove),
    close,
  };
}

/** Seeds a SQLite file of its own with `users` users. */
async function seedSqlite(users: number): Promise<Seeded> {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-bench-" });
  const path = join(dir, "bench.sqlite");
  const store = SqliteStore.open(path);
  const db = new DatabaseSync(path);
  const close = async () => {
    db.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
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
  } catch (error) {
    await close();
    throw error;
  }
  const select = db.prepare("SELECT 1");
  return {
    users,
    measure: (toApprove) =>
      operations(store, users, { name: "SELECT 1 (bare driver)", run: () => select.get() }, toApprove),
    close,
  };
}

/**
 * Seeds a memory store with `users` users through the `Store` interface,
 * as the SQL seeds do (even: verified; multiples of 10: approved), the
 * oldest first, as registrations arrive.
 */
async function seedMemory(users: number): Promise<Seeded> {
  const store = new MemoryStore();
  const seeded = performance.now();
  const start = Date.now() - users * 1000;
  const failureBudget = { max: 1_000, windowSeconds: 60 };
  for (let i = users; i >= 1; i--) {
    const email = `user${i}@example.com`;
    const now = start + (users - i) * 1000;
    await store.registerUser({ userId: crypto.randomUUID(), email, now });
    if (i % 2 !== 0) continue;
    const challengeId = crypto.randomUUID();
    await store.createOtpChallenge({
      challengeId,
      email,
      codeHash: "seed",
      now,
      expiresAt: now + 600_000,
      resendSeconds: 0,
    });
    await store.attemptOtp({ email, codeHash: "seed", now, maxAttempts: 5, failureBudget });
    await store.deleteOtpChallenge(email, challengeId);
    if (i % 10 === 0) await store.approveUser({ email, accountId: crypto.randomUUID(), now });
  }
  for (let i = 0; i < Math.ceil(users / 10); i++) {
    await store.revokeToken({ tokenId: crypto.randomUUID(), expiresAt: Date.now() + 3_600_000, now: Date.now() });
  }
  console.log(`memory: ${users} users seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  const baseline = { name: "a resolved promise", run: () => Promise.resolve(1) };
  return { users, measure: (toApprove) => operations(store, users, baseline, toApprove), close: () => store.close() };
}

console.log(
  `# store benchmark ${new Date().toISOString().slice(0, 10)}: sizes=${
    SIZES.join(",")
  } iterations=${ITERATIONS} rounds=${ROUNDS}`,
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
      print(`PostgreSQL (shared_buffers ${shown})`, await measureSizes((users) => seedPostgres(cluster, users)));
    } finally {
      await cluster.dispose();
    }
  }
}
if (engines.includes("sqlite")) print("SQLite file", await measureSizes(seedSqlite));
if (engines.includes("memory")) print("memory", await measureSizes(seedMemory));
