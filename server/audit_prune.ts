/**
 * `bus-api-provider-auth audit prune`: deletes the audit records older than
 * `BUS_AUTH_AUDIT_RETENTION_DAYS` and says how many went. A timer or cron
 * job runs it; `serve` never prunes by itself, so that replicas never race
 * over it and no serving process needs the right to delete records.
 *
 * @module
 */

import { type Config, maskDsn } from "../lib/config/config.ts";
import { EXIT, type Io } from "../lib/program.ts";
import { describeStore } from "../lib/store/factory.ts";

const DAY_MS = 86_400_000;

/** Prunes the trail of the configured store. @returns the exit code */
export async function pruneAudit(config: Config, io: Io, now: number = Date.now()): Promise<number> {
  const where = describeStore(config.store, maskDsn);
  const days = config.auditRetentionDays;
  const before = now - days * DAY_MS;
  try {
    let pruned: number;
    switch (config.store.kind) {
      case "memory":
        io.stdout("The memory store keeps its audit trail inside the serving process: nothing to prune.\n");
        return EXIT.ok;
      case "sqlite": {
        // Opening would create an empty file; a missing one is a mistake in the environment.
        Deno.statSync(config.store.path);
        const { SqliteStore } = await import("../lib/store/sqlite.ts");
        const store = SqliteStore.open(config.store.path, { migrate: false, synchronous: config.store.synchronous });
        try {
          pruned = await store.pruneAudit(before);
        } finally {
          await store.close();
        }
        break;
      }
      case "postgres": {
        const { PostgresStore } = await import("../lib/store/postgres.ts");
        const store = await PostgresStore.open(config.store, { migrate: false });
        try {
          pruned = await store.pruneAudit(before);
        } finally {
          await store.close();
        }
        break;
      }
    }
    io.stdout(
      `Pruned ${pruned} audit record${pruned === 1 ? "" : "s"} older than ${days} days ` +
        `(before ${new Date(before).toISOString()}) from ${where}.\n`,
    );
    return EXIT.ok;
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    const hint = /no such table|does not exist/.test(reason) && !(error instanceof Deno.errors.NotFound)
      ? " (apply the schema first: bus-api-provider-auth migrate)"
      : "";
    io.stderr(`bus-api-provider-auth: cannot prune the audit trail of ${where}: ${reason}${hint}\n`);
    return EXIT.failure;
  }
}
