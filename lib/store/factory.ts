/**
 * Picks the store backend from the configuration. Drivers are imported
 * lazily, so programs that never touch a database start fast.
 *
 * @module
 */

import type { StoreConfig } from "../config/config.ts";
import type { Store } from "./store.ts";

/** What {@link openStore} reports. */
export interface OpenStoreOptions {
  /** The PostgreSQL change feed started or stopped listening (`BUS_AUTH_POSTGRES_CACHE=on`). */
  onCacheState?: (state: "listening" | "lost", detail?: string) => void;
}

/**
 * A store, opened and migrated. On PostgreSQL with the cache on, the
 * store answers the reads of token checks from memory while its change
 * feed proves that memory current (`cached_store.ts`, `postgres_changes.ts`).
 */
export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  switch (config.kind) {
    case "memory": {
      const { MemoryStore } = await import("./memory.ts");
      return new MemoryStore();
    }
    case "sqlite": {
      const { SqliteStore } = await import("./sqlite.ts");
      return SqliteStore.open(config.path, { synchronous: config.synchronous });
    }
    case "postgres": {
      const { PostgresStore } = await import("./postgres.ts");
      const store = await PostgresStore.open(config);
      if (!config.cache) return store;
      const [{ CachedStore }, { ReadCache }, { PostgresChangeFeed }, { clientArguments }] = await Promise.all([
        import("./cached_store.ts"),
        import("./read_cache.ts"),
        import("./postgres_changes.ts"),
        import("./postgres_connection.ts"),
      ]);
      let feed: { close(): Promise<void> } | null = null;
      const cached = new CachedStore(store, new ReadCache(), { beforeClose: () => feed?.close() ?? Promise.resolve() });
      const changes = new PostgresChangeFeed(cached, clientArguments(config), { onState: options.onCacheState });
      feed = changes;
      changes.start();
      return cached;
    }
  }
}

/** Where the store keeps its data, for start-up lines; never shows a password. */
export function describeStore(config: StoreConfig, maskDsn: (dsn: string) => string): string {
  switch (config.kind) {
    case "memory":
      return "memory (lost on restart)";
    case "sqlite":
      return `sqlite ${config.path}`;
    case "postgres":
      return `postgres ${maskDsn(config.dsn)}`;
  }
}
