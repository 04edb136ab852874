/**
 * Picks the store backend from the configuration. Drivers are imported
 * lazily, so programs that never touch a database start fast.
 *
 * @module
 */

import type { StoreConfig } from "../config/config.ts";
import type { Store } from "./store.ts";

/** A store, opened and migrated. */
export async function openStore(config: StoreConfig): Promise<Store> {
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
      return await PostgresStore.open(config);
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
