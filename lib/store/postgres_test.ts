/**
 * Tests of the PostgreSQL store against a throw-away server started by
 * `tests/helpers/postgres_cluster.ts` (skipped with one stderr line when
 * PostgreSQL is not installed, unless `BUS_AUTH_REQUIRE_SERVICES=1`): the
 * conformance suite on a fresh database per case, migrations under
 * concurrency, the manual schema script, failure and recovery when the server
 * goes away, statement timeouts, index use by the hot queries, and TLS modes.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { StoreUnavailableError } from "../errors.ts";
import { fakePeer, refuseTls } from "../../tests/helpers/fake_postgres_peer.ts";
import { type PostgresCluster, startPostgresCluster } from "../../tests/helpers/postgres_cluster.ts";
import { mintRecord, storeConformance, type StoreFactory } from "../../tests/helpers/store_conformance.ts";
import { startTcpProxy } from "../../tests/helpers/tcp_proxy.ts";
import { CachedStore } from "./cached_store.ts";
import type { OtpAttemptResult, Store } from "./store.ts";
import { openStore } from "./factory.ts";
import { PostgresStore, type PostgresStoreConfig } from "./postgres.ts";
import { POSTGRES_MIGRATIONS, POSTGRES_MIGRATIONS_TABLE, postgresSchemaSql } from "./postgres_schema.ts";

/** Every schema version, oldest first. */
const ALL_VERSIONS = POSTGRES_MIGRATIONS.map((migration) => migration.version);

const started = await startPostgresCluster();
const cluster: PostgresCluster | null = "skipped" in started ? null : started;
const skipped = "skipped" in started;
if ("skipped" in started) console.error(`postgres tests skipped: ${started.skipped}`);
// Backstop when the last test does not run (a filter, a crash): never leave a server behind.
if (cluster) globalThis.addEventListener("unload", () => cluster.disposeSync());

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const PASSWORD = "s3cret-Pa55word";
let databaseCount = 0;

/** Store settings for tests: short connect timeout, a real pool so that concurrent calls race. */
function storeConfig(dsn: string, overrides: Partial<PostgresStoreConfig> = {}): PostgresStoreConfig {
  return { dsn, poolMax: 10, connectTimeoutSeconds: 2, statementTimeoutSeconds: 10, ...overrides };
}

function live(): PostgresCluster {
  if (!cluster) throw new Error("No PostgreSQL test cluster");
  return cluster;
}

/** A new empty database; `dsn` carries a password (ignored by trust authentication) to catch leaks. */
async function freshDatabase(): Promise<{ name: string; dsn: string }> {
  const name = `bus_auth_t${++databaseCount}_${crypto.randomUUID().slice(0, 8)}`;
  const dsn = (await live().createDatabase(name)).replace("postgres://postgres@", `postgres://postgres:${PASSWORD}@`);
  return { name, dsn };
}

/** Registers a test that needs the cluster; it holds pools, so the sanitizers are off. */
function pgTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: skipped, sanitizeResources: false, sanitizeOps: false, fn });
}

/** Asserts that `promise` rejects with `StoreUnavailableError` without secrets, and returns the elapsed ms. */
async function assertUnavailable(promise: Promise<unknown>, dsn: string): Promise<number> {
  const start = performance.now();
  const error = await promise.then(
    () => assert.fail("expected StoreUnavailableError"),
    (error: unknown) => error,
  );
  const elapsed = performance.now() - start;
  assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${error}`);
  assert.equal(error.code, "store_unavailable");
  assertNoSecret(error.message, dsn);
  return elapsed;
}

function assertNoSecret(message: string, dsn: string): void {
  assert.ok(!message.includes(PASSWORD), `the message shows the password: ${message}`);
  assert.ok(!message.includes(dsn), `the message shows the DSN: ${message}`);
}

/** A conformance factory: a fresh database, the store `open` makes on it, the database dropped afterwards. */
function onFreshDatabase(open: (dsn: string) => Promise<Store>): StoreFactory {
  return async () => {
    const { name, dsn } = await freshDatabase();
    const store = await open(dsn);
    return {
      store,
      dispose: async () => {
        await store.close();
        await live().dropDatabase(name);
      },
    };
  };
}

storeConformance("postgres", onFreshDatabase((dsn) => PostgresStore.open(storeConfig(dsn))), { ignore: skipped });

// The same suite through the cache of token checks, once its change feed listens and trusts it,
// so every read that can be answered from memory is.
storeConformance(
  "postgres with its cache (BUS_AUTH_POSTGRES_CACHE=on)",
  onFreshDatabase(async (dsn) => {
    const store = await openStore({ kind: "postgres", ...storeConfig(dsn), cache: true });
    assert.ok(store instanceof CachedStore);
    await waitUntil(() => store.cache.trusted, "the cache to be trusted");
    return store;
  }),
  { ignore: skipped },
);

/** Polls `condition` every 10 ms, at most 10 s. */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

pgTest(
  "PostgresStore.appendAudit commits concurrent appends together, and fails every append of a failed insert",
  async () => {
    const { name, dsn } = await freshDatabase();
    const store = await PostgresStore.open(storeConfig(dsn, { poolMax: 3 }));
    try {
      const record = (i: number, auditId?: string) => mintRecord(i, T0, auditId);
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.appendAudit(record(i))));
      const rows = await live().query("SELECT count(*)::int AS n FROM bus_auth_audit", name);
      assert.equal(rows[0].n, 300, "every append resolved after its row was committed");
      // Appends queued behind running inserts share one; a duplicate id fails that insert and every append in it.
      const results = await Promise.allSettled([
        ...Array.from({ length: 6 }, (_, i) => store.appendAudit(record(1000 + i))),
        store.appendAudit(record(2000, record(0).auditId)),
      ]);
      const failed = results.filter((result) => result.status === "rejected");
      assert.ok(failed.length >= 1, "the duplicate is refused");
      const count = (await live().query("SELECT count(*)::int AS n FROM bus_auth_audit", name))[0].n as number;
      assert.equal(count, 300 + results.length - failed.length, "what resolved is committed, what failed is not");
      // Any text survives the array literals the insert is made of.
      const tricky = ['a"b\\c', "NULL", "", "{x,y}", 'comma, quote" brace}', "ä € 𝄞", "line\nbreak"];
      await Promise.all(
        tricky.map((detail, i) =>
          store.appendAudit({ ...record(3000 + i), detail, target: i % 2 === 0 ? null : detail })
        ),
      );
      const query = { since: T0 + 3000, actor: null, target: null, action: null, after: null, limit: 50 };
      const back = await store.listAudit(query);
      assert.deepEqual(back.map((r) => r.detail), tricky);
      assert.deepEqual(back.map((r) => r.target), tricky.map((detail, i) => i % 2 === 0 ? null : detail));
    } finally {
      await store.close();
      await live().dropDatabase(name);
    }
  },
);

pgTest("PostgresStore.migrate applies the schema once, then nothing, and keeps data", async () => {
  const { name, dsn } = await freshDatabase();
  const first = await PostgresStore.open(storeConfig(dsn), { migrate: false });
  try {
    assert.deepEqual(await first.migrate(), ALL_VERSIONS);
    assert.deepEqual(await first.migrate(), []);
    await first.registerUser({ userId: crypto.randomUUID(), email: "keep@example.com", now: T0 });
  } finally {
    await first.close();
  }
  const second = await PostgresStore.open(storeConfig(dsn));
  try {
    assert.deepEqual(await second.migrate(), []);
    assert.equal((await second.findUserByEmail("keep@example.com"))?.createdAt, T0);
  } finally {
    await second.close();
  }
  const rows = await live().query(`SELECT version FROM ${POSTGRES_MIGRATIONS_TABLE} ORDER BY version`, name);
  assert.deepEqual(rows.map((row) => row.version), ALL_VERSIONS);
  await live().dropDatabase(name);
});

pgTest("PostgresStore.schemaVersion tells a schema behind the code, and poolStats counts connections", async () => {
  const { name, dsn } = await freshDatabase();
  const store = await PostgresStore.open(storeConfig(dsn, { poolMax: 3 }));
  try {
    const latest = ALL_VERSIONS.at(-1)!;
    assert.deepEqual(await store.schemaVersion(), { current: latest, latest });
    const stats = store.poolStats();
    assert.equal(stats.max, 3);
    assert.ok(stats.open >= 1 && stats.open <= 3, `open connections: ${stats.open}`);
    assert.equal(stats.inFlight, 0);
    const running = Promise.all([1, 2, 3, 4].map(() => store.findUserByEmail("nobody@example.com")));
    assert.equal(store.poolStats().inFlight, 4);
    await running;
    await live().query(`DELETE FROM ${POSTGRES_MIGRATIONS_TABLE} WHERE version = ${latest}`, name);
    assert.deepEqual(await store.schemaVersion(), { current: latest - 1, latest });
  } finally {
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest("PostgresStore.migrate upgrades a version-1 database in place, keeping its users", async () => {
  const { name, dsn } = await freshDatabase();
  await live().query(
    `CREATE TABLE ${POSTGRES_MIGRATIONS_TABLE} (version integer PRIMARY KEY, description text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now());
     ${POSTGRES_MIGRATIONS[0].sql}
     INSERT INTO ${POSTGRES_MIGRATIONS_TABLE} (version, description) VALUES (1, 'v1');
     INSERT INTO bus_auth_users (user_id, email, verified, status, account_id, created_at, updated_at)
       VALUES ('old', 'old@example.com', true, 'approved', 'acct-old', now(), now())`,
    name,
  );
  const store = await PostgresStore.open(storeConfig(dsn), { migrate: false });
  try {
    assert.deepEqual(await store.migrate(), ALL_VERSIONS.slice(1));
    const old = await store.findUserByAccountId("acct-old");
    assert.equal(old?.tokensNotBefore, null);
    const rejected = await store.rejectUser({ email: "old@example.com", reason: null, now: T0 });
    assert.ok(rejected.ok);
    assert.equal(rejected.user.tokensNotBefore, T0);
  } finally {
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest("5 processes opening a fresh database at once apply the schema exactly once", async () => {
  const { name, dsn } = await freshDatabase();
  const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresStore.open(storeConfig(dsn))));
  await Promise.all(stores.map((store) => store.close()));
  const rows = await live().query(`SELECT version FROM ${POSTGRES_MIGRATIONS_TABLE} ORDER BY version`, name);
  assert.deepEqual(rows.map((row) => row.version), ALL_VERSIONS);
  await live().dropDatabase(name);

  // The same race through migrate(): exactly one caller applies the versions.
  const again = await freshDatabase();
  const unmigrated = await Promise.all(
    Array.from({ length: 5 }, () => PostgresStore.open(storeConfig(again.dsn), { migrate: false })),
  );
  try {
    const applied = await Promise.all(unmigrated.map((store) => store.migrate()));
    assert.deepEqual(applied.map((versions) => versions.join(",")).sort(), ["", "", "", "", ALL_VERSIONS.join(",")]);
  } finally {
    await Promise.all(unmigrated.map((store) => store.close()));
  }
  await live().dropDatabase(again.name);
});

pgTest(
  "postgresSchemaSql() applied by hand, even twice, gives the migrated schema and leaves nothing to apply",
  async () => {
    const manual = await freshDatabase();
    const script = postgresSchemaSql();
    const file = await Deno.makeTempFile({ suffix: ".sql" });
    try {
      await Deno.writeTextFile(file, script);
      if (await hasPsql()) {
        const output = await new Deno.Command("psql", {
          args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file, "-d", live().dsn(manual.name)],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(30_000),
        }).output();
        assert.ok(output.success, `psql failed: ${new TextDecoder().decode(output.stderr)}`);
      } else {
        await runScript(live().dsn(manual.name), script);
      }
      // A second run is harmless (here through postgres.js's simple query protocol).
      await runScript(live().dsn(manual.name), script);
    } finally {
      await Deno.remove(file);
    }
    const store = await PostgresStore.open(storeConfig(manual.dsn), { migrate: false });
    try {
      assert.deepEqual(await store.migrate(), []);
      await store.registerUser({ userId: crypto.randomUUID(), email: "manual@example.com", now: T0 });
    } finally {
      await store.close();
    }

    const migrated = await freshDatabase();
    await (await PostgresStore.open(storeConfig(migrated.dsn))).close();
    assert.deepEqual(await schemaOf(manual.name), await schemaOf(migrated.name));
    const versions = await live().query(
      `SELECT version FROM ${POSTGRES_MIGRATIONS_TABLE} ORDER BY version`,
      manual.name,
    );
    assert.deepEqual(versions.map((row) => row.version), ALL_VERSIONS);

    // On a database migrated to version 1 only, the script applies just the rest.
    const partial = await freshDatabase();
    await live().query(
      `CREATE TABLE ${POSTGRES_MIGRATIONS_TABLE} (version integer PRIMARY KEY, description text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now());
       ${POSTGRES_MIGRATIONS[0].sql}
       INSERT INTO ${POSTGRES_MIGRATIONS_TABLE} (version, description) VALUES (1, 'v1')`,
      partial.name,
    );
    await runScript(live().dsn(partial.name), script);
    assert.deepEqual(await schemaOf(partial.name), await schemaOf(migrated.name));
    await live().dropDatabase(partial.name);
    await live().dropDatabase(manual.name);
    await live().dropDatabase(migrated.name);
  },
);

pgTest("the store fails fast while the server is down and recovers by itself when it is back", async () => {
  const { name, dsn } = await freshDatabase();
  const store = await PostgresStore.open(storeConfig(dsn, { connectTimeoutSeconds: 2 }));
  let stopped = false;
  try {
    const { user } = await store.registerUser({ userId: crypto.randomUUID(), email: "down@example.com", now: T0 });
    await live().stop();
    stopped = true;
    // Generous bound: connect timeout (2 s) plus margin; a hang would take far longer.
    const bound = 10_000;
    assert.ok(await assertUnavailable(store.ping(), dsn) < bound);
    assert.ok(await assertUnavailable(store.findUserByEmail("down@example.com"), dsn) < bound);
    const start = performance.now();
    const burst = await Promise.allSettled(
      Array.from({ length: 25 }, () => store.hitRateLimit({ key: "k", limit: 5, windowSeconds: 60, now: T0 })),
    );
    assert.ok(performance.now() - start < bound);
    for (const result of burst) {
      assert.equal(result.status, "rejected");
      assert.ok(result.reason instanceof StoreUnavailableError);
    }
    await live().start();
    stopped = false;
    await store.ping();
    assert.equal((await store.findUserByEmail("down@example.com"))?.userId, user.userId);
    assert.equal((await store.hitRateLimit({ key: "k", limit: 5, windowSeconds: 60, now: T0 })).allowed, true);
  } finally {
    if (stopped) await live().start();
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest("an operation on a frozen connection ends at the client deadline, and a fresh pool takes over", async () => {
  const { name, dsn } = await freshDatabase();
  // One connection, so that without a fresh pool every later call would queue behind the frozen one.
  const store = await PostgresStore.open(
    storeConfig(`${dsn}&application_name=bus_auth_frozen`, {
      poolMax: 1,
      connectTimeoutSeconds: 1,
      statementTimeoutSeconds: 1,
    }),
  );
  let frozen: number | null = null;
  try {
    await store.ping();
    const [backend] = await live().query(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'bus_auth_frozen' AND datname = '${name}'`,
    );
    frozen = Number(backend.pid);
    // A stopped backend answers nothing, not even its own statement timeout: only the client deadline helps.
    Deno.kill(frozen, "SIGSTOP");
    const elapsed = await assertUnavailable(store.ping(), dsn);
    assert.ok(elapsed >= 2_500 && elapsed < 8_000, `elapsed ${elapsed} ms`);
    await store.ping();
    await store.registerUser({ userId: crypto.randomUUID(), email: "thawed@example.com", now: T0 });
  } finally {
    if (frozen !== null) Deno.kill(frozen, "SIGCONT");
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest("open reports an unreachable server as store_unavailable without showing the DSN", async () => {
  const { name, dsn } = await freshDatabase();
  await live().dropDatabase(name);
  // The database is gone: the server answers 3D000.
  await assertUnavailable(PostgresStore.open(storeConfig(dsn)), dsn);
  const refused = `postgres://postgres:${PASSWORD}@127.0.0.1:${closedPort()}/db?sslmode=disable`;
  const elapsed = await assertUnavailable(PostgresStore.open(storeConfig(refused)), refused);
  assert.ok(elapsed < 5_000);
});

pgTest("a statement stuck behind a lock ends at the statement timeout as store_unavailable", async () => {
  const { name, dsn } = await freshDatabase();
  const store = await PostgresStore.open(storeConfig(dsn, { statementTimeoutSeconds: 1 }));
  const holder = postgres(live().dsn(name), { max: 1, onnotice: () => {} });
  try {
    await store.registerUser({ userId: crypto.randomUUID(), email: "locked@example.com", now: T0 });
    await holder.begin(async (tx) => {
      await tx`SELECT 1 FROM bus_auth_users WHERE email = 'locked@example.com' FOR UPDATE`;
      const elapsed = await assertUnavailable(
        store.rejectUser({ email: "locked@example.com", reason: null, now: T0 }),
        dsn,
      );
      assert.ok(elapsed >= 900 && elapsed < 5_000, `elapsed ${elapsed} ms`);
    });
    // The store still works afterwards.
    assert.ok((await store.rejectUser({ email: "locked@example.com", reason: null, now: T0 })).ok);
  } finally {
    await holder.end({ timeout: 5 });
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest("programming errors propagate unchanged; a closed store answers store_unavailable", async () => {
  const { name, dsn } = await freshDatabase();
  const store = await PostgresStore.open(storeConfig(dsn));
  try {
    // A session for an unknown user violates the foreign key: a bug, not an outage.
    const error = await store.createSession({ sessionId: "s", userId: "nobody", now: T0, absoluteExpiresAt: T0 + 1 })
      .then(() => null, (error: unknown) => error);
    assert.ok(error instanceof postgres.PostgresError, `got ${error}`);
    assert.equal(error.code, "23503");
    assert.ok(!(error instanceof StoreUnavailableError));
  } finally {
    await store.close();
  }
  await assertUnavailable(store.ping(), dsn);
  await live().dropDatabase(name);
});

pgTest("attemptOtp that waited for another attempt's lock counts the failure that attempt added", async () => {
  const { name, dsn } = await freshDatabase();
  const store = await PostgresStore.open(storeConfig(`${dsn}&application_name=bus_auth_waiting`));
  const other = postgres(dsn, { max: 1, onnotice: () => {} });
  const email = "waited@example.com";
  const budget = { max: 2, windowSeconds: 900 };
  let right: Promise<OtpAttemptResult> | undefined;
  try {
    await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 });
    const hash = "c".repeat(64);
    const challenge = { challengeId: crypto.randomUUID(), email, codeHash: hash, now: T0, expiresAt: T0 + 600_000 };
    assert.deepEqual(await store.createOtpChallenge({ ...challenge, resendSeconds: 60 }), { ok: true });
    const wrong = { email, codeHash: "d".repeat(64), maxAttempts: 5, failureBudget: budget };
    assert.equal((await store.attemptOtp({ ...wrong, now: T0 + 1000 })).ok, false); // one failure of two
    // Another replica's wrong guess, caught holding the row lock before it commits the second failure.
    await other.begin(async (tx) => {
      await tx`SELECT 1 FROM bus_auth_otp_challenges WHERE email = ${email} FOR UPDATE`;
      await tx`UPDATE bus_auth_otp_challenges SET attempts = attempts + 1 WHERE email = ${email}`;
      await tx`INSERT INTO bus_auth_otp_failures (email, failed_at) VALUES (${email}, ${new Date(T0 + 2000)})`;
      // The right code, asked meanwhile: its statement starts, then waits for the lock.
      right = store.attemptOtp({ email, codeHash: hash, now: T0 + 3000, maxAttempts: 5, failureBudget: budget });
      let waiting = false;
      for (let tries = 0; tries < 500 && !waiting; tries++) {
        const rows = await live().query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'bus_auth_waiting' AND wait_event_type = 'Lock'`,
        );
        waiting = rows.length > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(waiting, "the attempt never waited for the row lock");
    }); // The commit releases the lock.
    const result = await right;
    // The budget is spent: even the right code is refused, and it consumed nothing.
    assert.deepEqual(result, { ok: false, reason: "locked", retryAfterSeconds: 898 });
    const [row] = await other`SELECT consumed_at FROM bus_auth_otp_challenges WHERE email = ${email}`;
    assert.equal(row.consumed_at, null);
  } finally {
    await other.end();
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest(
  "a code request is one round trip, a right or wrong code four (BEGIN, the read, the write, COMMIT)",
  async () => {
    const { name, dsn } = await freshDatabase();
    const proxy = startTcpProxy(live().port);
    const port = `:${live().port}/`;
    const store = await PostgresStore.open(storeConfig(dsn.replace(port, `:${proxy.port}/`), { poolMax: 1 }));
    const budget = { max: 10, windowSeconds: 900 };
    try {
      const trips: number[][] = [];
      for (let i = 0; i < 2; i++) { // the first prepares the statements on the connection
        const email = `trips${i}@example.com`;
        const counts = [proxy.clientReads];
        const asked = await store.createOtpChallenge({
          challengeId: crypto.randomUUID(),
          email,
          codeHash: "a".repeat(64),
          now: T0,
          expiresAt: T0 + 600_000,
          resendSeconds: 60,
          failureBudget: budget,
          newUserId: crypto.randomUUID(),
        });
        assert.deepEqual(asked, { ok: true });
        counts.push(proxy.clientReads);
        const attempt = { email, now: T0 + 1, maxAttempts: 5, failureBudget: budget };
        assert.equal((await store.attemptOtp({ ...attempt, codeHash: "b".repeat(64) })).ok, false);
        counts.push(proxy.clientReads);
        const session = { sessionId: crypto.randomUUID(), absoluteExpiresAt: T0 + 86_400_000 };
        assert.equal((await store.attemptOtp({ ...attempt, codeHash: "a".repeat(64), session })).ok, true);
        counts.push(proxy.clientReads);
        trips.push(counts.slice(1).map((count, index) => count - counts[index]));
      }
      assert.deepEqual(trips[1], [1, 4, 4]);
    } finally {
      await store.close();
      await proxy.close();
    }
    await live().dropDatabase(name);
  },
);

pgTest("waitlist pages and user lookups run on their indexes, not on sequential scans", async () => {
  const { name, dsn } = await freshDatabase();
  // auto_explain logs the plan of every statement of the store's own sessions, as they really run.
  const explain = "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0";
  const store = await PostgresStore.open(storeConfig(`${dsn}&options=${encodeURIComponent(explain)}`));
  try {
    await live().query(
      `INSERT INTO bus_auth_users (user_id, email, verified, status, account_id, created_at, updated_at)
       SELECT 'u' || lpad(i::text, 6, '0'), 'user' || i || '@example.com', true,
         CASE WHEN i % 10 = 0 THEN 'waitlisted' WHEN i % 10 = 1 THEN 'rejected' ELSE 'approved' END,
         CASE WHEN i % 10 > 1 THEN 'acct-' || i END,
         timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', now()
       FROM generate_series(1, 20000) AS i;
       ANALYZE bus_auth_users`,
      name,
    );
    const first = await store.listUsers({ status: "waitlisted", limit: 50, after: null });
    assert.equal(first.length, 50);
    const last = first[first.length - 1];
    const next = await store.listUsers({ status: "waitlisted", limit: 50, after: last });
    assert.equal(next.length, 50);
    assert.ok(next[0].createdAt > last.createdAt);
    await store.listUsers({ status: null, limit: 50, after: last });
    assert.equal((await store.findUserByEmail("user123@example.com"))?.userId, "u000123");
    assert.equal((await store.findUserByAccountId("acct-124"))?.userId, "u000124");

    const plans = await loggedPlans(live().dir);
    assertIndexPlan(plans, (text) => text.includes("status =") && text.includes("(created_at, user_id) >"), [
      "bus_auth_users_status_page",
    ]);
    assertIndexPlan(plans, (text) => text.includes("status =") && !text.includes("(created_at, user_id) >"), [
      "bus_auth_users_status_page",
    ]);
    assertIndexPlan(plans, (text) => !text.includes("status =") && text.includes("(created_at, user_id) >"), [
      "bus_auth_users_page",
    ]);
    assertIndexPlan(plans, (text) => /WHERE\s+"email"\s*=/.test(text), ["bus_auth_users_email"]);
    assertIndexPlan(plans, (text) => /WHERE\s+"account_id"\s*=/.test(text), ["bus_auth_users_account"]);
  } finally {
    await store.close();
  }
  await live().dropDatabase(name);
});

pgTest("sslmode, sslrootcert, sslcert, sslkey and host behave as libpq's", async () => {
  const tls = await startPostgresCluster();
  if ("skipped" in tls) throw new Error(tls.skipped);
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-pg-tls-" });
  try {
    const files = {
      ca: `${dir}/ca.crt`,
      clientCert: `${dir}/client.crt`,
      clientKey: `${dir}/client.key`,
      serverCert: `${dir}/server.crt`,
    };
    await Deno.writeTextFile(files.ca, TEST_CA);
    await Deno.writeTextFile(files.clientCert, TEST_CLIENT_CERT);
    await Deno.writeTextFile(files.clientKey, TEST_CLIENT_KEY);
    await Deno.writeTextFile(files.serverCert, TEST_SERVER_CERT);
    await tls.createDatabase("certonly");
    await tls.enableTls({
      cert: TEST_SERVER_CERT,
      key: TEST_SERVER_KEY,
      ca: TEST_CA,
      clientCertDatabases: ["certonly"],
    });
    const ip = `postgres://postgres:${PASSWORD}@127.0.0.1:${tls.port}/postgres`;
    const host = `postgres://postgres:${PASSWORD}@localhost:${tls.port}/postgres`;
    const client = `sslcert=${files.clientCert}&sslkey=${files.clientKey}`;

    const connect = (dsn: string, server: PostgresCluster = tls) => tlsOfConnection(dsn, server);

    assert.equal(await connect(`${ip}?sslmode=disable`), false);
    // libpq's default is prefer: TLS when the server offers it.
    assert.equal(await connect(ip), true);
    assert.equal(await connect(`${ip}?sslmode=allow`), true);
    assert.equal(await connect(`${ip}?sslmode=prefer`), true);
    // require encrypts without checking the certificate (the CA is unknown here)...
    assert.equal(await connect(`${ip}?sslmode=require`), true);
    // ...unless a root certificate is given: then it checks the chain, like verify-ca.
    assert.equal(await connect(`${ip}?sslmode=require&sslrootcert=${files.ca}`), true);
    assert.ok(await connect(`${ip}?sslmode=require&sslrootcert=${files.serverCert}`) instanceof StoreUnavailableError);
    // verify-ca checks the chain only: the certificate names localhost, not 127.0.0.1.
    assert.equal(await connect(`${ip}?sslmode=verify-ca&sslrootcert=${files.ca}`), true);
    assert.ok(await connect(`${ip}?sslmode=verify-ca`) instanceof StoreUnavailableError);
    // verify-full checks the host name too, also for an IP address.
    assert.equal(await connect(`${host}?sslmode=verify-full&sslrootcert=${files.ca}`), true);
    const mismatch = await connect(`${ip}?sslmode=verify-full&sslrootcert=${files.ca}`);
    assert.ok(mismatch instanceof StoreUnavailableError);
    assert.match(mismatch.message, /TLS/);
    assert.ok(await connect(`${host}?sslmode=verify-full`) instanceof StoreUnavailableError);
    // A database that demands a client certificate.
    const certOnly = `postgres://postgres:${PASSWORD}@localhost:${tls.port}/certonly`;
    assert.ok(
      await connect(`${certOnly}?sslmode=verify-full&sslrootcert=${files.ca}`) instanceof StoreUnavailableError,
    );
    assert.equal(await connect(`${certOnly}?sslmode=verify-full&sslrootcert=${files.ca}&${client}`), true);

    // libpq's host=/folder names a Unix socket folder, where TLS is never used, whatever the sslmode.
    const socketDsn = `postgres://postgres:${PASSWORD}@localhost/postgres?host=${tls.dir}&port=${tls.port}`;
    assert.equal(await connect(`${socketDsn}&sslmode=require`), false);

    // A server without TLS: prefer falls back to plain TCP; require, verify-ca and verify-full fail, saying why
    // in libpq's words rather than "connection reset".
    assert.equal(await connect(live().dsn().replace("sslmode=disable", "sslmode=prefer"), live()), false);
    for (const mode of ["require", "verify-ca", `verify-ca&sslrootcert=${files.ca}`, "verify-full"]) {
      const refused = await connect(live().dsn().replace("sslmode=disable", `sslmode=${mode}`), live());
      assert.ok(refused instanceof StoreUnavailableError, `${mode}: ${refused}`);
      assert.equal(
        refused.message,
        "Cannot open the PostgreSQL store: server does not support SSL, but SSL was required",
        mode,
      );
    }

    // A server that stops offering TLS while the store runs: each operation fails (HTTP 503) with the same reason.
    await tls.createDatabase("midrun");
    let offerTls = true;
    const proxy = await fakePeer((conn) => {
      if (offerTls) void pipeTo(conn, tls.port);
      else void refuseTls(conn);
    });
    const midrunDsn = `postgres://postgres:${PASSWORD}@127.0.0.1:${proxy.port}/midrun?sslmode=require`;
    const midrun = await PostgresStore.open(storeConfig(midrunDsn, { poolMax: 1 }));
    try {
      await midrun.registerUser({ userId: crypto.randomUUID(), email: "tls@example.com", now: T0 });
      offerTls = false;
      proxy.closeConnections();
      let reason = "";
      for (let attempt = 0; attempt < 5 && !reason.includes("SSL"); attempt++) {
        const error = await midrun.findUserByEmail("tls@example.com").then(() => null, (error: unknown) => error);
        assert.ok(error instanceof StoreUnavailableError, `got ${error}`);
        assertNoSecret(error.message, midrunDsn);
        reason = error.message;
      }
      assert.equal(
        reason,
        "The PostgreSQL store is unavailable: server does not support SSL, but SSL was required",
      );
    } finally {
      await midrun.close();
      proxy.close();
    }

    // Configuration mistakes are plain errors that do not show the DSN either.
    for (const bad of [`${ip}?sslmode=sometimes`, `${ip}?sslrootcert=${dir}/missing.crt&sslmode=verify-ca`]) {
      const error = await PostgresStore.open(storeConfig(bad)).then(() => null, (error: unknown) => error);
      assert.ok(error instanceof Error && !(error instanceof StoreUnavailableError), `got ${error}`);
      assertNoSecret(error.message, bad);
    }
  } finally {
    await tls.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a peer that hangs up or never answers fails fast as store_unavailable",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Accepts and closes at once, like a proxy whose database is gone (postgres.js alone would retry forever).
    const hangUp = await fakePeer((conn) => conn.close());
    // Accepts and stays silent.
    const silent = await fakePeer(() => {});
    try {
      for (const [peer, sslmode] of [[hangUp, "disable"], [hangUp, "prefer"], [silent, "disable"]] as const) {
        const dsn = `postgres://postgres:${PASSWORD}@127.0.0.1:${peer.port}/db?sslmode=${sslmode}`;
        const elapsed = await assertUnavailable(
          PostgresStore.open(storeConfig(dsn, { connectTimeoutSeconds: 1 }), { migrate: false }),
          dsn,
        );
        assert.ok(elapsed < 5_000, `elapsed ${elapsed} ms`);
      }
    } finally {
      hangUp.close();
      silent.close();
    }
  },
});

Deno.test({
  name: "open refuses an invalid DSN without showing it",
  fn: async () => {
    const dsn = `postgres://postgres:${PASSWORD}@[not-a-host/db`;
    const error = await PostgresStore.open(storeConfig(dsn)).then(() => null, (error: unknown) => error);
    assert.ok(error instanceof Error, `got ${error}`);
    assertNoSecret(error.message, dsn);
  },
});

pgTest("the PostgreSQL test cluster shuts down and leaves nothing behind", async () => {
  const { dir } = live();
  await live().dispose();
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
});

/** TEST-ONLY CA (P-256, 100 years) that signed the certificates below; its key was deleted. */
const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBujCCAV+gAwIBAgIUc+jCHClkqH8OPvx5B/nYRtymwsswCgYIKoZIzj0EAwIw
KTEnMCUGA1UEAwweYnVzLWF1dGggcG9zdGdyZXMgdGVzdC1vbmx5IENBMCAXDTI2
MTEyMzIxMjAwNloYDzIxMjYxMDMwMjEyMDA2WjApMScwJQYDVQQDDB5idXMtYXV0
aCBwb3N0Z3JlcyB0ZXN0LW9ubHkgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQBk6FTK5rhOB6l3+gzWWxirhbFoxe+YDhOZ8BMPuAmDJjCqR8BHJI5rX8Iw/sY
aZFByLxXYZHPfgxrPTvEbgPxo2MwYTAdBgNVHQ4EFgQUsiot/Dh0qHYf1h5J+5L2
p6m1eFMwHwYDVR0jBBgwFoAUsiot/Dh0qHYf1h5J+5L2p6m1eFMwDwYDVR0TAQH/
BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwIDSQAwRgIhAMT5u+mm
CLAmOH4QwkPmjv8O4Uee3Sz8MjWuFAdpL2CdAiEA2E/WCrRCLxCSPd9YCSQmYsFU
nrC5cRxbvsZ0A18TqwU=
-----END CERTIFICATE-----
`;

/** TEST-ONLY server certificate: CN=localhost, SAN DNS:localhost only (no IP address), serverAuth. */
const TEST_SERVER_CERT = `-----BEGIN CERTIFICATE-----
MIIBzTCCAXSgAwIBAgIUIsaGk7aSy9HbLk01NkWBZKASqzgwCgYIKoZIzj0EAwIw
KTEnMCUGA1UEAwweYnVzLWF1dGggcG9zdGdyZXMgdGVzdC1vbmx5IENBMCAXDTI2
MTEyMzIxMjAwNloYDzIxMjYxMDMwMjEyMDA2WjAUMRIwEAYDVQQDDAlsb2NhbGhv
c3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASTfqVhzl1XdsyLCA4zBmSryOEG
P2tA3b8ANrFnoXAxoAy6k5Kv2rHC9RI04eKMxEqRyPXeNRgM9AMFZUdnxgeVo4GM
MIGJMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsG
AQUFBwMBMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAdBgNVHQ4EFgQUEkpET6+jACRN
Xyt6Ti01HX1DuOIwHwYDVR0jBBgwFoAUsiot/Dh0qHYf1h5J+5L2p6m1eFMwCgYI
KoZIzj0EAwIDRwAwRAIgVwjClgXmQrsrMFdaiyQUaIe2mg1qrUcnUT8eVD8G1akC
IErKq2iPHVOQ7b+qG+YFsN4vDxXIzegW/BQ5W3lRkT85
-----END CERTIFICATE-----
`;

/** TEST-ONLY key of {@link TEST_SERVER_CERT}. Publicly known: never use it outside tests. */
const TEST_SERVER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyDCBeWPShlncYyHg
XEKQpM0KXBIc4WlU59jycUlUDyWhRANCAASTfqVhzl1XdsyLCA4zBmSryOEGP2tA
3b8ANrFnoXAxoAy6k5Kv2rHC9RI04eKMxEqRyPXeNRgM9AMFZUdnxgeV
-----END PRIVATE KEY-----
`;

/** TEST-ONLY client certificate: CN=postgres, clientAuth. */
const TEST_CLIENT_CERT = `-----BEGIN CERTIFICATE-----
MIIBtjCCAVugAwIBAgIUIsaGk7aSy9HbLk01NkWBZKASqzowCgYIKoZIzj0EAwIw
KTEnMCUGA1UEAwweYnVzLWF1dGggcG9zdGdyZXMgdGVzdC1vbmx5IENBMCAXDTI2
MTEyMzIxMjE1NFoYDzIxMjYxMDMwMjEyMTU0WjATMREwDwYDVQQDDAhwb3N0Z3Jl
czBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDpl6iopGWwZ2VkFBw+2B/HPMdGm
n7f6u0RTd844wk4Ti9oQQoqo4vbmTpsOwiFPTcPjxoXx+bCiDU9Z0jPnLfGjdTBz
MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUF
BwMCMB0GA1UdDgQWBBRecyuUeA3+5OwGuObuEeEbOEXjPDAfBgNVHSMEGDAWgBSy
Ki38OHSodh/WHkn7kvanqbV4UzAKBggqhkjOPQQDAgNJADBGAiEAiPmyek5MeprO
peIq/DUHaiNImgjyEWXp0fFlislyuHcCIQCSlpKFxxTaF7mZRPfL3MJes7FEXbAV
J5t0CdeCCGPcUw==
-----END CERTIFICATE-----
`;

/** TEST-ONLY key of {@link TEST_CLIENT_CERT}. Publicly known: never use it outside tests. */
const TEST_CLIENT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwXmQ64DHLq8doNVu
MC6rSfa7L4bOnmJtRnpIY5YjsXihRANCAAQ6ZeoqKRlsGdlZBQcPtgfxzzHRpp+3
+rtEU3fOOMJOE4vaEEKKqOL25k6bDsIhT03D48aF8fmwog1PWdIz5y3x
-----END PRIVATE KEY-----
`;

/** Opens a store on `server` and reports whether its connection uses TLS, or the `StoreUnavailableError`. */
async function tlsOfConnection(dsn: string, server: PostgresCluster): Promise<boolean | StoreUnavailableError> {
  const application = `bus_auth_tls_${crypto.randomUUID().slice(0, 8)}`;
  const separator = dsn.includes("?") ? "&" : "?";
  let store: PostgresStore;
  try {
    store = await PostgresStore.open(storeConfig(`${dsn}${separator}application_name=${application}`), {
      migrate: false,
    });
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      assertNoSecret(error.message, dsn);
      return error;
    }
    throw error;
  }
  try {
    const rows = await server.query(
      `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '${application}'`,
    );
    assert.equal(rows.length, 1);
    return rows[0].ssl as boolean;
  } finally {
    await store.close();
  }
}

async function hasPsql(): Promise<boolean> {
  try {
    const output = await new Deno.Command("psql", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return output.success;
  } catch {
    return false;
  }
}

/** Runs a multi-statement script (with its own BEGIN and COMMIT) on one connection. */
async function runScript(dsn: string, script: string): Promise<void> {
  const sql = postgres(dsn, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(script);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Columns, constraints and indexes of the bus_auth_* tables, comparable across databases. */
async function schemaOf(database: string): Promise<unknown> {
  const columns = await live().query(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name LIKE 'bus\\_auth\\_%' AND table_name <> '${POSTGRES_MIGRATIONS_TABLE}'
     ORDER BY table_name, ordinal_position`,
    database,
  );
  const indexes = await live().query(
    `SELECT tablename, indexname, indexdef FROM pg_indexes
     WHERE schemaname = 'public' AND tablename LIKE 'bus\\_auth\\_%' ORDER BY tablename, indexname`,
    database,
  );
  const constraints = await live().query(
    `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
     FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
    database,
  );
  return { columns, indexes, constraints };
}

/** The auto_explain entries of the cluster log: query text and plan. */
async function loggedPlans(dir: string): Promise<{ text: string; plan: string }[]> {
  const log = await Deno.readTextFile(`${dir}/postgres.log`);
  const entries = log.split(/\n(?=\S)/).filter((entry) => /LOG:\s+duration: .* plan:/.test(entry));
  return entries.map((entry) => {
    const match = /Query Text: ([\s\S]*?)\n\t(?=[A-Z][a-z]+[ A-Za-z]*\s\s\(cost)/.exec(entry);
    return { text: match ? match[1] : entry, plan: match ? entry.slice(match.index + match[0].length) : entry };
  });
}

function assertIndexPlan(
  plans: { text: string; plan: string }[],
  matches: (text: string) => boolean,
  indexes: string[],
): void {
  const found = plans.filter((entry) => matches(entry.text) && entry.text.includes("bus_auth_users"));
  assert.ok(found.length > 0, "no logged plan for the query");
  for (const { text, plan } of found) {
    assert.ok(!/Seq Scan/.test(plan), `sequential scan for:\n${text}\n${plan}`);
    assert.ok(
      indexes.some((index) => new RegExp(`Index (Only )?Scan using ${index}\\b`).test(plan)),
      `expected an index scan on ${indexes.join(" or ")} for:\n${text}\n${plan}`,
    );
  }
}

/** Forwards a connection to a local port, both ways, until either side closes. */
async function pipeTo(conn: Deno.Conn, port: number): Promise<void> {
  try {
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
    await Promise.allSettled([conn.readable.pipeTo(upstream.writable), upstream.readable.pipeTo(conn.writable)]);
  } catch {
    // Either side went away.
  }
}

/** A loopback port with nothing listening. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
