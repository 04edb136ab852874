import assert from "node:assert/strict";
import { join } from "node:path";
import { storeConformance } from "../../tests/helpers/store_conformance.ts";
import { SqliteStore } from "./sqlite.ts";
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

Deno.test("SqliteStore.open() uses WAL with synchronous NORMAL, or FULL when asked (BUS_AUTH_SQLITE_SYNCHRONOUS)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const normal = SqliteStore.open(`${dir}/normal.sqlite`);
    assert.deepEqual(normal.durability(), { journalMode: "wal", synchronous: "NORMAL" });
    await normal.close();
    const full = SqliteStore.open(`${dir}/full.sqlite`, { synchronous: "FULL" });
    assert.deepEqual(full.durability(), { journalMode: "wal", synchronous: "FULL" });
    await full.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
