/**
 * Fresh stores of every backend for tests that must behave the same on each:
 * memory, a SQLite file in a temporary folder, and a new database of a
 * throw-away PostgreSQL cluster (`postgres_cluster.ts`). PostgreSQL is
 * reported as skipped, with the reason, when its binaries are missing and
 * `BUS_AUTH_REQUIRE_SERVICES` is not `1`.
 *
 * Each backend gives a store for `app.request()` tests, or the environment
 * of a provider process on a fresh store; both count the rows of every table
 * (SQLite and PostgreSQL), so a test can tell that nothing was written.
 *
 * @module
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MemoryStore } from "../../lib/store/memory.ts";
import { PostgresStore } from "../../lib/store/postgres.ts";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import type { Store } from "../../lib/store/store.ts";
import { type PostgresCluster, startPostgresCluster } from "./postgres_cluster.ts";

/** Rows per table; empty for the memory store, whose state is private. */
export type TableCounts = Record<string, number>;

/** A fresh, empty store and how to release it. */
export interface FreshStore {
  store: Store;
  tableCounts(): Promise<TableCounts>;
  /** Runs SQL on the store's database through a connection of its own; absent for the memory store. */
  exec?(sql: string): Promise<void>;
  dispose(): Promise<void>;
}

/** The environment of a provider process on a fresh, empty store. */
export interface FreshProcessStore {
  env: Record<string, string>;
  tableCounts(): Promise<TableCounts>;
  dispose(): Promise<void>;
}

/** One backend: its name and factories of fresh stores. */
export interface StoreBackend {
  kind: "memory" | "sqlite" | "postgres";
  fresh(): Promise<FreshStore>;
  freshForProcess(): Promise<FreshProcessStore>;
}

/** The backends available here. */
export interface EveryStore {
  backends: StoreBackend[];
  /** Why PostgreSQL is missing from {@link backends}, or `null`. */
  postgresSkipped: string | null;
  /** Stops the PostgreSQL cluster; safe to call twice. */
  dispose(): Promise<void>;
}

let databases = 0;

/**
 * Starts what the backends need (a PostgreSQL cluster, a second or two) and
 * returns them. Call once per test module; `label` names the temporary
 * folders and databases (lowercase letters, digits and `_`).
 */
export async function everyStore(label: string): Promise<EveryStore> {
  const started = await startPostgresCluster();
  const cluster: PostgresCluster | null = "skipped" in started ? null : started;
  const postgresSkipped = "skipped" in started ? started.skipped : null;
  if (postgresSkipped !== null) console.error(`${label}: PostgreSQL skipped: ${postgresSkipped}`);
  // Backstop when the last test does not run (a filter, a crash): never leave a server behind.
  if (cluster) globalThis.addEventListener("unload", () => cluster.disposeSync());
  const backends: StoreBackend[] = [memoryBackend(), sqliteBackend(label)];
  if (cluster) backends.push(postgresBackend(label, cluster));
  return { backends, postgresSkipped, dispose: async () => await cluster?.dispose() };
}

function memoryBackend(): StoreBackend {
  const none = () => Promise.resolve({});
  return {
    kind: "memory",
    fresh: () => Promise.resolve({ store: new MemoryStore(), tableCounts: none, dispose: () => Promise.resolve() }),
    freshForProcess: () => Promise.resolve({ env: {}, tableCounts: none, dispose: () => Promise.resolve() }),
  };
}

function sqliteBackend(label: string): StoreBackend {
  const file = async () => {
    const dir = await Deno.makeTempDir({ prefix: `bus-auth-${label}-` });
    return { dir, path: join(dir, "auth.sqlite") };
  };
  return {
    kind: "sqlite",
    fresh: async () => {
      const { dir, path } = await file();
      const store = SqliteStore.open(path);
      return {
        store,
        tableCounts: () => Promise.resolve(sqliteTableCounts(path)),
        exec: (sql) => {
          const db = new DatabaseSync(path);
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
          return Promise.resolve();
        },
        dispose: async () => {
          await store.close();
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
    freshForProcess: async () => {
      const { dir, path } = await file();
      return {
        env: { BUS_AUTH_STORE_PATH: path },
        tableCounts: () => Promise.resolve(sqliteTableCounts(path)),
        dispose: () => Deno.remove(dir, { recursive: true }),
      };
    },
  };
}

function postgresBackend(label: string, cluster: PostgresCluster): StoreBackend {
  const database = async () => {
    const name = `${label}_${++databases}_${crypto.randomUUID().slice(0, 8)}`;
    return { name, dsn: await cluster.createDatabase(name) };
  };
  return {
    kind: "postgres",
    fresh: async () => {
      const { name, dsn } = await database();
      const store = await PostgresStore.open({
        dsn,
        poolMax: 5,
        connectTimeoutSeconds: 2,
        statementTimeoutSeconds: 10,
      });
      return {
        store,
        tableCounts: () => postgresTableCounts(cluster, name),
        exec: async (sql) => void await cluster.query(sql, name),
        dispose: async () => {
          await store.close();
          await cluster.dropDatabase(name);
        },
      };
    },
    freshForProcess: async () => {
      const { name, dsn } = await database();
      return {
        env: { BUS_AUTH_POSTGRES_DSN: dsn },
        tableCounts: () => postgresTableCounts(cluster, name),
        dispose: () => cluster.dropDatabase(name),
      };
    },
  };
}

/** Rows of every table of a SQLite file, read through a connection of its own. */
function sqliteTableCounts(path: string): TableCounts {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    return Object.fromEntries(
      tables.map((
        { name },
      ) => [name, Number((db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n)]),
    );
  } finally {
    db.close();
  }
}

/** Rows of every table in the `public` schema of a database of the cluster. */
async function postgresTableCounts(cluster: PostgresCluster, database: string): Promise<TableCounts> {
  const tables = await cluster.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    database,
  );
  if (tables.length === 0) return {};
  const counts = await cluster.query(
    tables.map(({ table_name }) => `SELECT '${table_name}' AS name, count(*)::int AS n FROM "${table_name}"`)
      .join(" UNION ALL "),
    database,
  );
  return Object.fromEntries(counts.map(({ name, n }) => [String(name), Number(n)]));
}
