/**
 * Picks the store backend from the configuration. Drivers are imported
 * lazily, so programs that never touch a database start fast.
 *
 * @module
 */

import type { StoreConfig } from "../config/config.ts";
import type { Store } from "./store.ts";
import type { ReadCacheOptions } from "./read_cache.ts";

/**
 * How long a SQLite store answers from its cache without reading the file's
 * data version again: the longest a commit of another process on the same
 * file goes unseen.
 */
export const SQLITE_VERSION_CHECK_MS = 1;

/** What {@link openStore} reports. */
export interface OpenStoreOptions {
  /** The PostgreSQL change feed started or stopped listening (`BUS_AUTH_POSTGRES_CACHE=on`). */
  onCacheState?: (state: "listening" | "lost", detail?: string) => void;
  /**
   * SQLite: checkpoint the write-ahead log in a worker thread, off the event
   * loop (`SqliteStore.checkpointInWorker`); the server asks for it, a
   * command-line program does not need it.
   */
  checkpointInWorker?: boolean;
  /** SQLite: checkpoints run in line after all, because the worker did not start or failed; `detail` says why. */
  onCheckpointsInline?: (detail: string) => void;
  /** Memory: the audit trail holds its newest `limit` records and has dropped its oldest for the first time. */
  onMemoryAuditFull?: (limit: number) => void;
  /**
   * SQLite, and PostgreSQL with its cache: the revocation list went over the
   * bound the cache holds in memory, or is held again (`read_cache.ts`).
   */
  onRevocationList?: ReadCacheOptions["onRevocationList"];
  /** SQLite, and PostgreSQL with its cache: most values kept of each kind (`BUS_AUTH_CACHE_ENTRIES`; default 10,000). */
  cacheEntries?: number;
}

/**
 * A store, opened and migrated. A SQLite file or PostgreSQL (with
 * `BUS_AUTH_POSTGRES_CACHE=on`) answers the reads of token checks from
 * memory while that memory is known current (`cached_store.ts`): SQLite
 * reads its data version at most once per {@link SQLITE_VERSION_CHECK_MS},
 * PostgreSQL's change feed proves it (`postgres_changes.ts`).
 */
export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  switch (config.kind) {
    case "memory": {
      const { MemoryStore } = await import("./memory.ts");
      return new MemoryStore({ audit: { onFirstDrop: options.onMemoryAuditFull } });
    }
    case "sqlite": {
      const [{ SqliteStore }, { CachedStore }, { ReadCache }] = await Promise.all([
        import("./sqlite.ts"),
        import("./cached_store.ts"),
        import("./read_cache.ts"),
      ]);
      const store = SqliteStore.open(config.path, { synchronous: config.synchronous });
      if (options.checkpointInWorker) await store.checkpointInWorker({ onFailure: options.onCheckpointsInline });
      // One connection, so its own writes are dropped by the cache as they return. A commit of any
      // other connection (another process on the file) changes data_version, and then everything
      // goes; reading it costs what a lookup costs, so it is read at most once per millisecond.
      const cache = new ReadCache({ maxEntries: options.cacheEntries, onRevocationList: options.onRevocationList });
      cache.trustUntil(Infinity);
      let seen = store.dataVersion();
      let checkedAt = performance.now();
      return new CachedStore(store, cache, {
        beforeRead: () => {
          const now = performance.now();
          if (now - checkedAt < SQLITE_VERSION_CHECK_MS) return;
          checkedAt = now;
          const version = store.dataVersion();
          if (version !== seen) {
            seen = version;
            cache.clear();
          }
        },
      });
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
      const cache = new ReadCache({ maxEntries: options.cacheEntries, onRevocationList: options.onRevocationList });
      const cached = new CachedStore(store, cache, {
        beforeClose: () => feed?.close() ?? Promise.resolve(),
      });
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
