/**
 * The PostgreSQL cache of token checks across replicas, against a throw-away
 * server (`tests/helpers/postgres_cluster.ts`; skipped when PostgreSQL is not
 * installed, unless `BUS_AUTH_REQUIRE_SERVICES=1`): a change one replica
 * makes reaches the other's cache, rule by rule, with the delay measured;
 * and when the change feed breaks (a killed connection, a silent one, a
 * restart of the database) no replica answers from what it kept beyond the
 * stated bound, and each catches up by itself.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type PostgresCluster, startPostgresCluster } from "../../tests/helpers/postgres_cluster.ts";
import { startTcpProxy } from "../../tests/helpers/tcp_proxy.ts";
import { StoreUnavailableError } from "../errors.ts";
import { CachedStore } from "./cached_store.ts";
import { openStore } from "./factory.ts";
import { PostgresStore, type PostgresStoreConfig } from "./postgres.ts";
import { FEED_APPLICATION_NAME, HEARTBEAT_MS, LEASE_MS, PostgresChangeFeed } from "./postgres_changes.ts";
import { clientArguments } from "./postgres_connection.ts";
import { ReadCache } from "./read_cache.ts";
import type { Store, UserRecord } from "./store.ts";

const started = await startPostgresCluster();
const cluster: PostgresCluster | null = "skipped" in started ? null : started;
if ("skipped" in started) console.error(`postgres change feed tests skipped: ${started.skipped}`);
if (cluster) globalThis.addEventListener("unload", () => cluster.disposeSync());

const T0 = Date.now();
/** The longest a change may take to reach another replica's cache: a lapsed lease, after the last heartbeat. */
const BOUND_MS = LEASE_MS + HEARTBEAT_MS;
let databases = 0;

function pgTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: cluster === null, sanitizeResources: false, sanitizeOps: false, fn });
}

function live(): PostgresCluster {
  if (!cluster) throw new Error("No PostgreSQL test cluster");
  return cluster;
}

function config(dsn: string): PostgresStoreConfig {
  return { dsn, poolMax: 4, connectTimeoutSeconds: 2, statementTimeoutSeconds: 10 };
}

async function database(): Promise<{ name: string; dsn: string }> {
  const name = `bus_auth_feed${++databases}_${crypto.randomUUID().slice(0, 8)}`;
  return { name, dsn: await live().createDatabase(name) };
}

/** A replica's store as `serve` opens it: PostgreSQL with its cache, once trusted. */
async function replica(dsn: string): Promise<CachedStore> {
  const store = await openStore({ kind: "postgres", ...config(dsn), cache: true });
  assert.ok(store instanceof CachedStore);
  await until(() => store.cache.trusted, "the cache to be trusted");
  return store;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  while (!await condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return performance.now() - started;
}

/**
 * Reads until a read is answered from the cache (notifications of earlier
 * writes may still drop what the first read kept), so the value is really
 * kept; at most 2 s.
 */
async function warm<T>(store: CachedStore, read: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + 2000;
  while (true) {
    await read();
    const hits = store.cache.stats().hits;
    const value = await read();
    if (store.cache.stats().hits === hits + 1) return value;
    if (performance.now() > deadline) {
      assert.fail(`never answered from the cache: ${JSON.stringify(store.cache.stats())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function approvedUser(store: Store, email: string): Promise<UserRecord & { accountId: string }> {
  await store.registerUser({ userId: crypto.randomUUID(), email, now: T0 });
  await store.createOtpChallenge({
    challengeId: crypto.randomUUID(),
    email,
    codeHash: "a".repeat(64),
    now: T0,
    expiresAt: T0 + 600_000,
    resendSeconds: 0,
  });
  const verified = await store.attemptOtp({
    email,
    codeHash: "a".repeat(64),
    now: T0,
    maxAttempts: 5,
    failureBudget: { max: 100, windowSeconds: 86400 },
  });
  assert.ok(verified.ok);
  const approved = await store.approveUser({ email, accountId: crypto.randomUUID(), now: T0 });
  assert.ok(approved.ok);
  return approved.user as UserRecord & { accountId: string };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

pgTest("a change on one replica reaches the other's cache, rule by rule, within the bound (measured)", async () => {
  const { name, dsn } = await database();
  const a = await replica(dsn);
  const b = await replica(dsn);
  try {
    const user = await approvedUser(a, "rules@example.com");
    const sessionId = crypto.randomUUID();
    await a.createSession({ sessionId, userId: user.userId, now: T0, absoluteExpiresAt: T0 + 86_400_000 });
    const clientId = crypto.randomUUID();
    const key = () => ({ keyId: crypto.randomUUID(), prefix: "bsk_rule", hash: "c".repeat(64) });
    await a.createClient({
      clientId,
      name: "rules-worker",
      audience: "ai.hg.fi/api",
      scopes: ["billing:read"],
      maxTtlSeconds: 600,
      key: key(),
      now: T0,
    });
    const rules: [string, () => Promise<unknown>, () => Promise<boolean>][] = [
      ["refresh or admin revocation of a token id", async () => {
        await a.revokeToken({ tokenId: user.userId, expiresAt: T0 + 3_600_000, now: T0 });
      }, () => b.isTokenRevoked(user.userId)],
      [
        "logout",
        () => a.revokeSession(sessionId, T0 + 1),
        async () => (await b.findSession(sessionId))?.revokedAt !== null,
      ],
      [
        "a narrowed scope policy",
        () => a.setScopePolicy({ accountId: user.accountId, scopes: ["llm:proxy"], now: T0 + 2 }),
        async () => (await b.findUserByAccountId(user.accountId))?.scopePolicy?.join(" ") === "llm:proxy",
      ],
      [
        "reject (status and not-before instant)",
        () => a.rejectUser({ email: "rules@example.com", reason: null, now: T0 + 3 }),
        async () => {
          const seen = await b.findUserByAccountId(user.accountId);
          return seen?.status === "rejected" && seen.tokensNotBefore === T0 + 3 &&
            (await b.findUserById(user.userId))?.status === "rejected";
        },
      ],
      [
        "a rotated client key",
        () => a.rotateClientKey({ clientId, key: key(), retireOthersAt: T0 + 4, now: T0 + 4 }),
        async () => (await b.findClientById(clientId))?.keys.length === 2,
      ],
      [
        "a revoked client",
        () => a.revokeClient({ clientId, now: T0 + 5 }),
        async () => (await b.findClientById(clientId))?.revokedAt === T0 + 5,
      ],
    ];
    for (const [rule, change, seen] of rules) {
      assert.equal(await warm(b, seen), false, `${rule}: not yet`);
      await change();
      const delay = await until(seen, rule, BOUND_MS);
      assert.ok(delay <= BOUND_MS, `${rule}: seen after ${delay.toFixed(1)} ms`);
    }

    // The delay itself: 200 revocations on A, each polled on B (warm) every millisecond until refused.
    const delays: number[] = [];
    for (let i = 0; i < 200; i++) {
      const tokenId = crypto.randomUUID();
      await warm(b, () => b.isTokenRevoked(tokenId));
      await a.revokeToken({ tokenId, expiresAt: T0 + 3_600_000, now: T0 });
      delays.push(await until(() => b.isTokenRevoked(tokenId), "the revocation on B", BOUND_MS));
    }
    delays.sort((x, y) => x - y);
    console.log(
      `revocation on A refused on B after: p50 ${percentile(delays, 0.5).toFixed(1)} ms, p99 ${
        percentile(delays, 0.99).toFixed(1)
      } ms, max ${delays.at(-1)!.toFixed(1)} ms (200 revocations; bound ${BOUND_MS} ms)`,
    );
  } finally {
    await a.close();
    await b.close();
    await live().dropDatabase(name);
  }
});

pgTest(
  "a replica answers every token id from the whole revocation list, kept current by the other's revocations",
  async () => {
    const { name, dsn } = await database();
    const a = await replica(dsn);
    const b = await replica(dsn);
    try {
      const before = crypto.randomUUID();
      await a.revokeToken({ tokenId: before, expiresAt: T0 + 3_600_000, now: T0 });
      // The first reads start B's load of the list; once it is held, no id is asked of the database.
      await until(async () => await b.isTokenRevoked(before), "B to see the revocation made before its list");
      await until(
        async () => {
          const { misses } = b.cache.stats();
          await b.isTokenRevoked(crypto.randomUUID());
          return b.cache.stats().misses === misses;
        },
        "B to hold the list",
        5000,
      );
      const { misses, hits } = b.cache.stats();
      for (let i = 0; i < 300; i++) assert.equal(await b.isTokenRevoked(crypto.randomUUID()), false);
      assert.equal(await b.isTokenRevoked(before), true);
      assert.deepEqual([b.cache.stats().misses, b.cache.stats().hits], [misses, hits + 301], "every id from the list");
      const after = crypto.randomUUID();
      await a.revokeToken({ tokenId: after, expiresAt: T0 + 3_600_000, now: T0 });
      const delay = await until(() => b.isTokenRevoked(after), "the revocation on B", BOUND_MS);
      console.log(`a revocation on A in B's whole list after ${delay.toFixed(1)} ms`);
      // B's own revocation is in its list as the write returns.
      const own = crypto.randomUUID();
      await b.revokeToken({ tokenId: own, expiresAt: T0 + 3_600_000, now: T0 });
      assert.equal(await b.isTokenRevoked(own), true);
      // A purge of expired rows on A drops nothing on B: what B kept stays, and its list sheds the expired ids
      // in the background, answering meanwhile.
      const now = Date.now();
      const expired = crypto.randomUUID();
      await a.revokeToken({ tokenId: expired, expiresAt: now - 1000, now: now - 2000 });
      await until(() => b.isTokenRevoked(expired), "B to hold the expired revocation", BOUND_MS);
      const user = await approvedUser(a, "purge@example.com");
      const sessionId = crypto.randomUUID();
      await a.createSession({ sessionId, userId: user.userId, now, absoluteExpiresAt: now + 86_400_000 });
      await a.createSession({ sessionId: crypto.randomUUID(), userId: user.userId, now, absoluteExpiresAt: now - 1 });
      await warm(b, () => b.findSession(sessionId));
      const kept = b.cache.stats();
      await a.purgeExpired(Date.now());
      await until(async () => !(await b.isTokenRevoked(expired)), "B's list to shed the purged id", BOUND_MS);
      assert.notEqual(await b.findSession(sessionId), null);
      assert.equal(await b.isTokenRevoked(after), true);
      const later = b.cache.stats();
      assert.deepEqual([later.misses, later.bypassed], [kept.misses, kept.bypassed], "all from the cache");
      assert.ok(later.size >= kept.size, `nothing dropped: ${later.size} values kept, ${kept.size} before`);
      // Any other deletion drops everything on B: here, a revocation that had not expired.
      await live().query(`DELETE FROM bus_auth_revoked_tokens WHERE token_id = '${after}'`, name);
      await until(async () => !(await b.isTokenRevoked(after)), "B to drop everything", BOUND_MS);
    } finally {
      await a.close();
      await b.close();
      await live().dropDatabase(name);
    }
  },
);

pgTest(
  "a killed change feed connection ends the trust at once; reads ask the database until it listens again",
  async () => {
    const { name, dsn } = await database();
    const b = await replica(dsn);
    const writer = await PostgresStore.open(config(dsn));
    try {
      const user = await approvedUser(writer, "killed@example.com");
      const sessionId = crypto.randomUUID();
      await writer.createSession({ sessionId, userId: user.userId, now: T0, absoluteExpiresAt: T0 + 86_400_000 });
      assert.equal((await warm(b, () => b.findSession(sessionId)))?.revokedAt, null);
      const [{ killed }] = await live().query(
        `SELECT count(pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity
       WHERE application_name = '${FEED_APPLICATION_NAME}' AND datname = '${name}'`,
      );
      assert.equal(killed, 1);
      await until(() => !b.cache.trusted, "the trust to end", 2000);
      // Revoked while nothing listens: no notification will ever reach B for it.
      await live().query(`UPDATE bus_auth_sessions SET revoked_at = now() WHERE session_id = '${sessionId}'`, name);
      assert.notEqual((await b.findSession(sessionId))?.revokedAt, null, "asked the database, not the cache");
      assert.ok(b.cache.stats().bypassed > 0);
      await until(() => b.cache.trusted, "the feed to listen again and be proven");
      assert.notEqual((await b.findSession(sessionId))?.revokedAt, null, "the cache restarted empty");
      const tokenId = crypto.randomUUID();
      await warm(b, () => b.isTokenRevoked(tokenId));
      await writer.revokeToken({ tokenId, expiresAt: T0 + 3_600_000, now: T0 });
      await until(() => b.isTokenRevoked(tokenId), "changes to arrive again", BOUND_MS);
    } finally {
      await b.close();
      await writer.close();
      await live().dropDatabase(name);
    }
  },
);

pgTest("the feed reports a lost connection and listening again, and its own close as no loss", async () => {
  const { name, dsn } = await database();
  const inner = await PostgresStore.open(config(dsn));
  const states: string[] = [];
  const feeds: PostgresChangeFeed[] = [];
  const b = new CachedStore(inner, new ReadCache(), { beforeClose: () => feeds[0].close() });
  feeds.push(
    new PostgresChangeFeed(b, clientArguments(config(dsn)), {
      onState: (state, detail) => states.push(detail === undefined ? state : `${state}: ${detail}`),
    }),
  );
  feeds[0].start();
  try {
    await until(() => feeds[0].listening, "the feed to listen");
    await live().query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = '${FEED_APPLICATION_NAME}' AND datname = '${name}'`,
    );
    await until(() => states.length === 3, "the loss and the feed listening again");
    assert.deepEqual(states, ["listening", "lost: the listening connection closed", "listening"]);
  } finally {
    await b.close();
    await live().dropDatabase(name);
  }
  // A stopping provider closes its feed: the log would warn of a lost feed at every stop.
  assert.deepEqual(states, ["listening", "lost: the listening connection closed", "listening"]);
});

pgTest("a silent change feed connection: within the lease the cache is no longer used, and it catches up", async () => {
  const { name, dsn } = await database();
  const proxy = startTcpProxy(live().port);
  // B's pool goes straight to the database, its change feed through a proxy that can go silent.
  const inner = await PostgresStore.open(config(dsn));
  const feedDsn = dsn.replace(`127.0.0.1:${live().port}`, `127.0.0.1:${proxy.port}`);
  assert.notEqual(feedDsn, dsn);
  const feeds: PostgresChangeFeed[] = [];
  const b = new CachedStore(inner, new ReadCache(), { beforeClose: () => feeds[0].close() });
  feeds.push(new PostgresChangeFeed(b, clientArguments(config(feedDsn))));
  feeds[0].start();
  const writer = await PostgresStore.open(config(dsn));
  try {
    await until(() => b.cache.trusted, "the cache to be trusted");
    const tokenId = crypto.randomUUID();
    assert.equal(await warm(b, () => b.isTokenRevoked(tokenId)), false);
    proxy.freeze();
    const frozenAt = performance.now();
    await writer.revokeToken({ tokenId, expiresAt: T0 + 3_600_000, now: T0 });
    // The notification cannot arrive: B may answer from what it kept only until its lease lapses.
    const refusedAfter = await until(() => b.isTokenRevoked(tokenId), "the revocation on B", BOUND_MS + 500);
    const untrustedAfter = performance.now() - frozenAt;
    assert.equal(b.cache.trusted, false);
    assert.ok(untrustedAfter <= BOUND_MS + 100, `trust ended ${untrustedAfter.toFixed(0)} ms after the silence`);
    console.log(
      `silent feed: revocation refused on B after ${refusedAfter.toFixed(0)} ms (bound ${BOUND_MS} ms)`,
    );
    const other = crypto.randomUUID();
    await writer.revokeToken({ tokenId: other, expiresAt: T0 + 3_600_000, now: T0 });
    assert.equal(await b.isTokenRevoked(other), true, "while silent, reads ask the database");
    proxy.thaw();
    await until(() => b.cache.trusted, "the feed to be proven again");
    assert.equal(await warm(b, () => b.isTokenRevoked(other)), true);
  } finally {
    await b.close();
    await writer.close();
    await proxy.close();
    await live().dropDatabase(name);
  }
});

pgTest(
  "a restart of the database: no answer from the cache while it is down, and changes after it arrive",
  async () => {
    const { name, dsn } = await database();
    const b = await replica(dsn);
    const writer = await PostgresStore.open(config(dsn));
    try {
      const user = await approvedUser(writer, "restart@example.com");
      assert.equal((await warm(b, () => b.findUserByAccountId(user.accountId)))?.status, "approved");
      await live().stop();
      await until(() => !b.cache.trusted, "the trust to end", 2000);
      await assert.rejects(b.findUserByAccountId(user.accountId), StoreUnavailableError);
      await live().start();
      await until(() => b.cache.trusted, "the feed to listen again after the restart", 20_000);
      assert.equal((await warm(b, () => b.findUserByAccountId(user.accountId)))?.status, "approved");
      await writer.rejectUser({ email: "restart@example.com", reason: null, now: T0 + 1 });
      await until(
        async () => (await b.findUserByAccountId(user.accountId))?.status === "rejected",
        "the reject on B",
        BOUND_MS,
      );
    } finally {
      await b.close();
      await writer.close();
      await live().dropDatabase(name);
    }
  },
);

pgTest("stopping the last test's cluster", async () => {
  await live().dispose();
});
