/**
 * Fresh stores of every backend for tests that must behave the same on each:
 * memory, a SQLite file in a temporary folder, and a new database of a
 * throw-away PostgreSQL cluster (`postgres_cluster.ts`). PostgreSQL is
 * reported as skipped, with the reason, when its binaries are missing and
 * `BUS_AUTH_REQUIRE_SERVICES` is not `1`.
 *
 * @module
 */

import { join } from "node:path";
import { MemoryStore } from "../../lib/store/memory.ts";
import { PostgresStore } from "../../lib/store/postgres.ts";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import type { Store } from "../../lib/store/store.ts";
import { type PostgresCluster, startPostgresCluster } from "./postgres_cluster.ts";

/** A fresh, empty store and how to release it. */
export interface FreshStore {
  store: Store;
  dispose(): Promise<void>;
}

/** One backend: its name and a factory of fresh stores. */
export interface StoreBackend {
  kind: "memory" | "sqlite" | "postgres";
  fresh(): Promise<FreshStore>;
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
 * Starts what the backends need (a PostgreSQL cluster, about a second or
 * two) and returns them. Call once per test module; `label` prefixes the
 * database names.
 */
export async function everyStore(label: string): Promise<EveryStore> {
  const started = await startPostgresCluster();
  const cluster: PostgresCluster | null = "skipped" in started ? null : started;
  const postgresSkipped = "skipped" in started ? started.skipped : null;
  if (postgresSkipped !== null) console.error(`${label}: PostgreSQL skipped: ${postgresSkipped}`);
  // Backstop when the last test does not run (a filter, a crash): never leave a server behind.
  if (cluster) globalThis.addEventListener("unload", () => cluster.disposeSync());
  const backends: StoreBackend[] = [
    { kind: "memory", fresh: () => Promise.resolve({ store: new MemoryStore(), dispose: () => Promise.resolve() }) },
    {
      kind: "sqlite",
      fresh: async () => {
        const dir = await Deno.makeTempDir({ prefix: `bus-auth-${label}-` });
        const store = SqliteStore.open(join(dir, "auth.sqlite"));
        return {
          store,
          dispose: async () => {
            await store.close();
            await Deno.remove(dir, { recursive: true });
          },
        };
      },
    },
  ];
  if (cluster) {
    backends.push({
      kind: "postgres",
      fresh: async () => {
        const name = `${label}_${++databases}_${crypto.randomUUID().slice(0, 8)}`;
        const dsn = await cluster.createDatabase(name);
        const store = await PostgresStore.open({
          dsn,
          poolMax: 5,
          connectTimeoutSeconds: 2,
          statementTimeoutSeconds: 10,
        });
        return {
          store,
          dispose: async () => {
            await store.close();
            await cluster.dropDatabase(name);
          },
        };
      },
    });
  }
  return { backends, postgresSkipped, dispose: async () => await cluster?.dispose() };
}
