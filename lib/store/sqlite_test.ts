import assert from "node:assert/strict";
import { join } from "node:path";
import { insertRevocations } from "../../tests/helpers/sqlite_rows.ts";
import { mintRecord, storeConformance } from "../../tests/helpers/store_conformance.ts";
import { CachedStore } from "./cached_store.ts";
import { openStore, SQLITE_VERSION_CHECK_MS } from "./factory.ts";
import {
  MMAP_BYTES,
  PURGE_BATCH_ROWS,
  REVOKED_PAGE_IDS,
  SqliteStore,
  WAL_BACKSTOP_PAGES,
  WAL_CHECKPOINT_PAGES,
} from "./sqlite.ts";
import { StoreUnavailableError } from "../errors.ts";
import { DatabaseSync } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
import type { Store } from "./store.ts";

/** Every schema version, oldest first. */
const ALL_VERSIONS = SQLITE_MIGRATIONS.map((migration) => migration.version);

storeConformance("sqlite file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const store = SqliteStore.open(join(dir, "auth.sqlite"));
  return {
    store,
    dispose: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

// The same suite through the cache of token checks, as `serve` opens the file.
storeConformance("sqlite file with its cache", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const store = await openStore({ kind: "sqlite", path: join(dir, "auth.sqlite"), synchronous: "NORMAL" });
  assert.ok(store instanceof CachedStore);
  return {
    store,
    dispose: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

Deno.test("two processes on one SQLite file: what one commits, the other's cache shows within a millisecond", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const path = join(dir, "auth.sqlite");
  // Two stores open the file on two connections, as two provider processes would.
  const [a, b] = [
    await openStore({ kind: "sqlite", path, synchronous: "NORMAL" }),
    await openStore({ kind: "sqlite", path, synchronous: "NORMAL" }),
  ] as CachedStore[];
  const other = new DatabaseSync(path);
  try {
    const tokenId = crypto.randomUUID();
    const sessionId = crypto.randomUUID();
    const { user } = await a.registerUser({ userId: crypto.randomUUID(), email: "two@example.com", now: 1 });
    await a.createSession({ sessionId, userId: user.userId, now: 1, absoluteExpiresAt: Date.now() + 86_400_000 });
    // B reads until it answers from its cache: the first data-version check after A's writes drops what it kept.
    for (let tries = 0;; tries++) {
      assert.equal((await b.findSession(sessionId))?.revokedAt, null);
      const hits = b.cache.stats().hits;
      assert.equal(await b.isTokenRevoked(tokenId), false);
      assert.equal(await b.isTokenRevoked(tokenId), false);
      if (b.cache.stats().hits >= hits + 1) break;
      assert.ok(tries < 50, "B answers from its cache");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await a.revokeToken({ tokenId, expiresAt: Date.now() + 3_600_000, now: 1 });
    await new Promise((resolve) => setTimeout(resolve, SQLITE_VERSION_CHECK_MS + 1));
    assert.equal(await b.isTokenRevoked(tokenId), true, "A's commit is seen by B's next read a millisecond later");
    // A write by anything else on the file (the sqlite3 shell, another program) counts too.
    other.prepare("UPDATE sessions SET revoked_at = 2 WHERE session_id = ?").run(sessionId);
    await new Promise((resolve) => setTimeout(resolve, SQLITE_VERSION_CHECK_MS + 1));
    assert.equal((await b.findSession(sessionId))?.revokedAt, 2);
  } finally {
    other.close();
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the provider's own purge of expired rows keeps its cache; the list sheds the purged ids", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const store = await openStore({ kind: "sqlite", path: join(dir, "auth.sqlite"), synchronous: "NORMAL" });
  assert.ok(store instanceof CachedStore);
  try {
    const now = Date.now();
    const { user } = await store.registerUser({ userId: crypto.randomUUID(), email: "purge@example.com", now });
    const sessionId = crypto.randomUUID();
    await store.createSession({ sessionId, userId: user.userId, now, absoluteExpiresAt: now + 86_400_000 });
    await store.createSession({ sessionId: "ended", userId: user.userId, now, absoluteExpiresAt: now - 1 });
    await store.revokeToken({ tokenId: "expired", expiresAt: now - 1, now: now - 1000 });
    await store.revokeToken({ tokenId: "live", expiresAt: now + 60_000, now });
    await store.findSession(sessionId);
    while (store.cache.stats().revokedIds === null) {
      await store.isTokenRevoked("expired");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const kept = store.cache.stats();
    await store.purgeExpired(now);
    assert.notEqual(await store.findSession(sessionId), null);
    assert.equal(await store.isTokenRevoked("expired"), true, "the held list answers while the new one loads");
    await new Promise((resolve) => setTimeout(resolve, 1100)); // REVOKED_RELOAD_MS after the first load
    for (let tries = 0; await store.isTokenRevoked("expired"); tries++) {
      assert.ok(tries < 100, "the list is loaded again");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(await store.isTokenRevoked("live"), true);
    const later = store.cache.stats();
    assert.deepEqual([later.misses, later.bypassed], [kept.misses, kept.bypassed], "all from the cache");
    assert.equal(later.revokedIds, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.open creates the file 0600 in a 0700 folder, in WAL mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  try {
    const path = join(dir, "nested", "auth.sqlite");
    const store = SqliteStore.open(path);
    await store.registerUser({ userId: crypto.randomUUID(), email: "a@example.com", now: 1 });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "nested"))).mode! & 0o777, 0o700);
    assert.ok((await Deno.stat(`${path}-wal`)).isFile);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.schemaVersion tells a schema behind the code", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  try {
    const path = join(dir, "auth.sqlite");
    const store = SqliteStore.open(path);
    const latest = ALL_VERSIONS.at(-1)!;
    assert.deepEqual(await store.schemaVersion(), { current: latest, latest });
    const db = new DatabaseSync(path);
    db.exec(`DELETE FROM schema_migrations WHERE version = ${latest}`);
    db.close();
    assert.deepEqual(await store.schemaVersion(), { current: latest - 1, latest });
    assert.equal((store as Store).poolStats, undefined, "no pool to report");
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.migrate is idempotent and keeps data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  try {
    const path = join(dir, "auth.sqlite");
    const first = SqliteStore.open(path, { migrate: false });
    assert.deepEqual(first.migrate(), ALL_VERSIONS);
    assert.deepEqual(first.migrate(), []);
    await first.registerUser({ userId: crypto.randomUUID(), email: "keep@example.com", now: 1 });
    await first.close();
    const second = SqliteStore.open(path);
    assert.notEqual(await second.findUserByEmail("keep@example.com"), null);
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.open upgrades a version-1 file in place, keeping its users", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  try {
    const path = join(dir, "auth.sqlite");
    const old = new DatabaseSync(path);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    old.exec(SQLITE_MIGRATIONS[0].sql);
    old.exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 1);
      INSERT INTO users (user_id, email, verified, status, account_id, created_at, updated_at)
      VALUES ('old', 'old@example.com', 1, 'approved', 'acct-old', 1, 1)`);
    old.close();
    const store = SqliteStore.open(path, { migrate: false });
    assert.deepEqual(store.migrate(), ALL_VERSIONS.slice(1));
    assert.equal((await store.findUserByAccountId("acct-old"))?.tokensNotBefore, null);
    const rejected = await store.rejectUser({ email: "old@example.com", reason: null, now: 5 });
    assert.ok(rejected.ok);
    assert.equal(rejected.user.tokensNotBefore, 5);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore reports an unusable path as store_unavailable", () => {
  assert.throws(
    () => SqliteStore.open("/proc/bus-auth-cannot-exist/auth.sqlite"),
    (error) => error instanceof StoreUnavailableError && error.code === "store_unavailable",
  );
});

Deno.test("SqliteStore answers store_unavailable after close instead of crashing", async () => {
  const store = SqliteStore.open(":memory:");
  await store.close();
  await assert.rejects(store.ping(), StoreUnavailableError);
});

Deno.test("SqliteStore.open() reads a file through a 1 GiB memory map, and the map serves reads and writes of a reopened file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/mapped.sqlite`;
    const store = SqliteStore.open(path);
    assert.equal(MMAP_BYTES, 1024 * 1024 * 1024);
    assert.equal(store.mmapBytes(), MMAP_BYTES);
    const registered = await store.registerUser({ userId: "u-1", email: "mapped@example.com", now: 1_000 });
    assert.equal(registered.created, true);
    await store.close();
    const again = SqliteStore.open(path);
    assert.equal(again.mmapBytes(), MMAP_BYTES);
    assert.equal((await again.findUserByEmail("mapped@example.com"))?.userId, "u-1");
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.open() uses WAL with synchronous NORMAL, or FULL when asked (BUS_AUTH_SQLITE_SYNCHRONOUS), and checkpoints every 100 pages", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const normal = SqliteStore.open(`${dir}/normal.sqlite`);
    const inline = { journalMode: "wal", synchronous: "NORMAL", checkpointPages: 100, checkpoints: "inline" };
    assert.deepEqual(normal.durability(), inline);
    await normal.close();
    const full = SqliteStore.open(`${dir}/full.sqlite`, { synchronous: "FULL" });
    assert.deepEqual(full.durability(), { ...inline, synchronous: "FULL" });
    await full.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.appendAudit commits the appends of one turn together; close commits those still waiting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const path = join(dir, "auth.sqlite");
  const record = (i: number, auditId?: string) => mintRecord(i, 1_000, auditId);
  const count = () => {
    const db = new DatabaseSync(path);
    try {
      return (db.prepare("SELECT count(*) AS n FROM audit").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  try {
    const store = SqliteStore.open(path);
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.appendAudit(record(i))));
    assert.equal(count(), 300, "every append resolved after its row was committed");
    // One turn's appends share a transaction: a duplicate id fails it, and every append in it.
    const results = await Promise.allSettled([
      store.appendAudit(record(500)),
      store.appendAudit(record(501, record(0).auditId)),
    ]);
    assert.deepEqual(results.map((result) => result.status), ["rejected", "rejected"]);
    assert.equal(count(), 300);
    const pending = store.appendAudit(record(600));
    await store.close();
    await pending;
    assert.equal(count(), 301, "close committed the append still waiting");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.appendAudit commits without waiting for a timer, which would hold every audited request a millisecond or more", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const store = SqliteStore.open(join(dir, "auth.sqlite"));
  const realSetTimeout = globalThis.setTimeout;
  const timers: unknown[] = [];
  try {
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      timers.push(args[1]);
      return realSetTimeout(...args);
    }) as typeof setTimeout;
    await Promise.all([store.appendAudit(mintRecord(0, 1_000)), store.appendAudit(mintRecord(1, 1_000))]);
    globalThis.setTimeout = realSetTimeout;
    assert.deepEqual(timers, [], "no timer was set between the appends and their commit");
    const listed = await store.listAudit({
      since: null,
      actor: null,
      target: null,
      action: null,
      after: null,
      limit: 10,
    });
    assert.equal(listed.length, 2);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpointInWorker: a worker copies the log into the file while commits go on; close stops it and keeps every row", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const path = join(dir, "auth.sqlite");
  try {
    const store = SqliteStore.open(path);
    assert.equal(await store.checkpointInWorker({ intervalMs: 5 }), true);
    assert.deepEqual(store.durability(), {
      journalMode: "wal",
      synchronous: "NORMAL",
      checkpointPages: WAL_BACKSTOP_PAGES,
      checkpoints: "worker",
    });
    for (let i = 0; i < 300; i++) {
      await store.appendAudit(mintRecord(i, 1_000));
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The worker's copies: the log's frames are in the database file, read by a connection of its own.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && checkpointedFrames(path) === 0) await new Promise((r) => setTimeout(r, 10));
    assert.ok(checkpointedFrames(path) > 0, "the worker checkpointed nothing");
    const wal = Deno.statSync(`${path}-wal`).size;
    assert.ok(wal < WAL_BACKSTOP_PAGES * 4096, `the log grew to ${wal} bytes`);
    await store.close();
    const db = new DatabaseSync(path);
    try {
      assert.equal((db.prepare("SELECT count(*) AS n FROM audit").get() as { n: number }).n, 300);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpointInWorker: a worker that cannot start leaves the checkpoints in line, every 100 pages, and says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  try {
    const store = SqliteStore.open(join(dir, "auth.sqlite"));
    const failures: string[] = [];
    const missing = new URL("./no_such_worker.ts", import.meta.url).href;
    const started = await store.checkpointInWorker({
      workerUrl: missing,
      onFailure: (detail) => failures.push(detail),
    });
    assert.equal(started, false);
    assert.equal(failures.length, 1);
    assert.match(failures[0], /checkpoint worker did not start/);
    assert.equal(store.durability().checkpointPages, WAL_CHECKPOINT_PAGES);
    assert.equal(store.durability().checkpoints, "inline");
    await store.appendAudit(mintRecord(1, 1_000));
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpointInWorker: an in-memory database has no log to checkpoint", async () => {
  const store = SqliteStore.open(":memory:");
  assert.equal(await store.checkpointInWorker(), false);
  await store.close();
});

/** Frames of the log already copied into the database file, as the log's index says (read without checkpointing). */
function checkpointedFrames(path: string): number {
  const shm = Deno.readFileSync(`${path}-shm`);
  // https://sqlite.org/walformat.html: two copies of the 48-byte index header, then nBackfill (native order).
  return new DataView(shm.buffer, shm.byteOffset).getUint32(96, true);
}

Deno.test("checkpointInWorker: a worker that fails later is stopped, and the checkpoints go back in line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  try {
    const store = SqliteStore.open(join(dir, "auth.sqlite"));
    const failures: string[] = [];
    // Starts as the real worker does, then fails as a checkpoint would (a disk error, say).
    const failing = `data:text/javascript,self.onmessage = () => { self.postMessage({ kind: "ready" }); ` +
      `setTimeout(() => self.postMessage({ kind: "failed", message: "disk I/O error" }), 20); };`;
    assert.equal(await store.checkpointInWorker({ workerUrl: failing, onFailure: (d) => failures.push(d) }), true);
    assert.equal(store.durability().checkpoints, "worker");
    const deadline = Date.now() + 5_000;
    while (failures.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(failures, ["disk I/O error"]);
    assert.deepEqual([store.durability().checkpoints, store.durability().checkpointPages], ["inline", 100]);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a revocation list over the cache's bound is said once and checks ask the file for each id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const path = join(dir, "auth.sqlite");
  SqliteStore.open(path).close();
  // 100,001 live revocations, one more than the cache holds in memory.
  insertRevocations(path, 100_001, "revoked-", Date.now() + 86_400_000);
  const states: string[] = [];
  const store = await openStore({ kind: "sqlite", path, synchronous: "NORMAL" }, {
    onRevocationList: (state, limit) => states.push(`${state} ${limit}`),
  });
  try {
    assert.equal(await store.isTokenRevoked("revoked-100001"), true, "asked the file: the list is not held");
    for (let waited = 0; states.length === 0 && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(states, ["over_bound 100000"]);
    assert.equal(await store.isTokenRevoked("revoked-7"), true);
    assert.equal(await store.isTokenRevoked("never-revoked"), false);
    assert.equal(store.cacheStats?.()?.revokedIds ?? null, null, "the list is not held");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listRevokedTokenIds reads a long list in pages, the event loop free between them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const path = join(dir, "auth.sqlite");
  const store = SqliteStore.open(path);
  try {
    const count = REVOKED_PAGE_IDS * 2 + 345;
    insertRevocations(path, count, "id-", Date.now() + 86_400_000);
    await store.revokeToken({ tokenId: "", expiresAt: Date.now() + 86_400_000, now: Date.now() });
    let timerRan = false;
    setTimeout(() => timerRan = true, 0);
    const ids = await store.listRevokedTokenIds(count + 1);
    assert.ok(timerRan, "a timer due meanwhile ran before the list was read");
    assert.equal(ids?.length, count + 1);
    assert.deepEqual(new Set(ids), new Set(["", ...Array.from({ length: count }, (_, i) => `id-${i + 1}`)]));
    assert.equal(await store.listRevokedTokenIds(count), null, "one over the limit");
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("purgeExpired deletes in batches, the event loop free between them, and keeps what is live", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-sqlite-" });
  const path = join(dir, "auth.sqlite");
  const store = SqliteStore.open(path);
  try {
    const now = Date.now();
    const expired = PURGE_BATCH_ROWS * 2 + 7;
    insertRevocations(path, expired, "gone-", now - 1);
    await store.revokeToken({ tokenId: "live", expiresAt: now + 60_000, now });
    let timerRan = false;
    setTimeout(() => timerRan = true, 0);
    await store.purgeExpired(now);
    assert.ok(timerRan, "a timer due meanwhile ran during the purge");
    assert.deepEqual(await store.listRevokedTokenIds(10), ["live"]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
