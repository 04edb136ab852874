/**
 * The audit trail is append-only below the store interface too: on SQLite
 * triggers refuse UPDATE, and DELETE outside a prune; on PostgreSQL the
 * provider's role (the owner that ran the migrations, not a superuser) can
 * insert and select `bus_auth_audit` but not update, delete or truncate it,
 * and only `pruneAudit` deletes, by age. The PostgreSQL cases run on a
 * throw-away cluster (skipped with a line on stderr when PostgreSQL is
 * missing, unless `BUS_AUTH_REQUIRE_SERVICES=1`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { type PostgresCluster, startPostgresCluster } from "../../tests/helpers/postgres_cluster.ts";
import type { AuditRecord } from "./audit.ts";
import { PostgresStore } from "./postgres.ts";
import { postgresSchemaSql } from "./postgres_schema.ts";
import { SqliteStore } from "./sqlite.ts";
import { AUDIT_PRUNE_BATCH } from "./sqlite_audit.ts";

const DAY = 86_400_000;
const NOW = Date.now();

function record(n: number, at: number): AuditRecord {
  return {
    auditId: crypto.randomUUID(),
    at,
    actor: "admin:ops",
    action: "user.approve",
    target: `user-${n}`,
    detail: null,
    requestId: `req-${n}`,
    sourceIp: "192.0.2.1",
    outcome: "ok",
  };
}

const ALL = { since: null, actor: null, target: null, action: null, after: null, limit: 100 };

Deno.test("SQLite: UPDATE and DELETE of audit records are refused; pruneAudit still deletes by age", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-audit-" });
  const path = join(dir, "auth.sqlite");
  const store = SqliteStore.open(path);
  try {
    await store.appendAudit(record(1, NOW - 400 * DAY));
    await store.appendAudit(record(2, NOW - 10 * DAY));
    await store.appendAudit(record(3, NOW));
    const db = new DatabaseSync(path);
    try {
      assert.throws(() => db.exec("UPDATE audit SET actor = 'admin:someone-else'"), /append-only/);
      assert.throws(() => db.exec("DELETE FROM audit"), /append-only/);
      assert.throws(() => db.exec(`DELETE FROM audit WHERE at < ${NOW - 100 * DAY}`), /append-only/);
    } finally {
      db.close();
    }
    assert.equal(await store.pruneAudit(NOW - 365 * DAY), 1);
    assert.deepEqual((await store.listAudit(ALL)).map((r) => r.requestId), ["req-2", "req-3"]);
    const after = new DatabaseSync(path);
    try {
      assert.equal((after.prepare("SELECT count(*) AS n FROM audit_prune").get() as { n: number }).n, 0);
      assert.throws(() => after.exec("DELETE FROM audit"), /append-only/, "the prune's cutoff does not outlive it");
    } finally {
      after.close();
    }
    assert.equal((await store.listAudit(ALL)).length, 2);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLite: pruneAudit deletes in batches, and another connection writes between them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-audit-" });
  const path = join(dir, "auth.sqlite");
  const store = SqliteStore.open(path);
  const old = AUDIT_PRUNE_BATCH * 2 + 345;
  const cutoff = NOW - 365 * DAY;
  const raw = new DatabaseSync(path);
  try {
    raw.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${old})
      INSERT INTO audit (audit_id, at, actor, action, target, detail, request_id, source_ip, outcome)
      SELECT printf('old-%06d', i), ${
      cutoff - old - 1
    } + i, 'service:s', 'token.mint', NULL, NULL, NULL, NULL, 'ok' FROM n`);
    const kept = record(1, cutoff);
    await store.appendAudit(kept);
    raw.exec("PRAGMA busy_timeout = 0");
    const pruning = store.pruneAudit(cutoff);
    // Between two of the prune's transactions the lock is free: another writer gets it at once.
    raw.exec("BEGIN IMMEDIATE");
    const left = (raw.prepare("SELECT count(*) AS n FROM audit WHERE at < ?").get(cutoff) as { n: number }).n;
    raw.prepare(
      "INSERT INTO audit (audit_id, at, actor, action, outcome) VALUES ('meanwhile', ?, 'service:s', 'x', 'ok')",
    )
      .run(NOW);
    raw.exec("COMMIT");
    assert.ok(left > 0 && left < old, `the other writer wrote while the prune was half-way (${left} of ${old} left)`);
    assert.equal(await pruning, old);
    assert.deepEqual((await store.listAudit(ALL)).map((r) => r.auditId), [kept.auditId, "meanwhile"]);
    assert.equal((raw.prepare("SELECT count(*) AS n FROM audit_prune").get() as { n: number }).n, 0);
  } finally {
    raw.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const started = await startPostgresCluster();
const cluster: PostgresCluster | null = "skipped" in started ? null : started;
if ("skipped" in started) console.error(`audit append-only PostgreSQL tests skipped: ${started.skipped}`);
if (cluster) globalThis.addEventListener("unload", () => cluster.disposeSync());
let databases = 0;

/** A database owned by a new login role that is not a superuser, as a provider should run. */
async function ownedDatabase(): Promise<{ dsn: string; role: string; name: string }> {
  const live = cluster!;
  const suffix = `${++databases}_${crypto.randomUUID().slice(0, 8)}`;
  const role = `bus_auth_app_${suffix}`;
  const name = `bus_auth_audit_${suffix}`;
  await live.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER`);
  await live.query(`CREATE DATABASE ${name} OWNER ${role}`);
  return { role, name, dsn: live.dsn(name).replace("postgres://postgres@", `postgres://${role}@`) };
}

function pgTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: cluster === null, sanitizeResources: false, sanitizeOps: false, fn });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return "allowed";
}

pgTest(
  "PostgreSQL: the provider's role inserts and selects audit records but cannot update, delete or truncate them; pruneAudit can",
  async () => {
    const { dsn } = await ownedDatabase();
    const store = await PostgresStore.open({ dsn, poolMax: 2, connectTimeoutSeconds: 2, statementTimeoutSeconds: 10 });
    const sql = postgres(dsn, { max: 1, onnotice: () => {} });
    try {
      await store.appendAudit(record(1, NOW - 400 * DAY));
      await store.appendAudit(record(2, NOW));
      assert.equal((await sql`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)[0].rolsuper, false);
      assert.equal(await refusal(sql`UPDATE bus_auth_audit SET actor = 'admin:someone-else'`), "42501");
      assert.equal(await refusal(sql`DELETE FROM bus_auth_audit`), "42501");
      assert.equal(await refusal(sql`TRUNCATE bus_auth_audit`), "42501");
      assert.equal(
        await refusal(sql`INSERT INTO bus_auth_audit (audit_id, at, actor, action, outcome)
        VALUES (${crypto.randomUUID()}, now(), 'admin:ops', 'user.reject', 'ok')`),
        "allowed",
      );

      assert.equal(await store.pruneAudit(NOW - 365 * DAY), 1);
      assert.deepEqual((await store.listAudit(ALL)).map((r) => r.requestId), ["req-2", null]);
      const [privileges] = await sql`
      SELECT has_table_privilege('bus_auth_audit', 'DELETE') AS del, has_table_privilege('bus_auth_audit', 'UPDATE') AS upd,
        has_table_privilege('bus_auth_audit', 'INSERT') AS ins, has_table_privilege('bus_auth_audit', 'SELECT') AS sel`;
      assert.deepEqual({ ...privileges }, { del: false, upd: false, ins: true, sel: true }, "DELETE is revoked again");
      assert.equal(await refusal(sql`DELETE FROM bus_auth_audit`), "42501");
    } finally {
      await sql.end();
      await store.close();
    }
  },
);

pgTest("PostgreSQL: a prune in progress lets other connections insert but not delete", async () => {
  const { dsn } = await ownedDatabase();
  const store = await PostgresStore.open({ dsn, poolMax: 2, connectTimeoutSeconds: 2, statementTimeoutSeconds: 10 });
  const pruner = postgres(dsn, { max: 1, onnotice: () => {} });
  const other = postgres(dsn, { max: 1, onnotice: () => {} });
  try {
    let finish!: () => void;
    const held = new Promise<void>((resolve) => finish = resolve);
    let granted!: () => void;
    const grantedNow = new Promise<void>((resolve) => granted = resolve);
    // The steps of PostgresAudit.pruneAudit, held open in the middle.
    const prune = pruner.begin(async (tx) => {
      await tx`GRANT DELETE ON bus_auth_audit TO CURRENT_USER`;
      await tx`DELETE FROM bus_auth_audit WHERE at < now() - interval '365 days'`;
      granted();
      await held;
      await tx`REVOKE DELETE ON bus_auth_audit FROM CURRENT_USER`;
    });
    await grantedNow;
    await store.appendAudit(record(1, NOW));
    assert.equal(await refusal(other`DELETE FROM bus_auth_audit`), "42501", "the grant is not visible outside it");
    finish();
    await prune;
    assert.equal((await store.listAudit(ALL)).length, 1);
  } finally {
    await pruner.end();
    await other.end();
    await store.close();
  }
});

pgTest(
  "PostgreSQL: the printed schema says the trail is append-only and revokes the same rights when applied by hand",
  async () => {
    const script = postgresSchemaSql();
    assert.match(script, /^-- The audit trail bus_auth_audit is append-only/m);
    assert.match(script, /REVOKE UPDATE, DELETE, TRUNCATE ON bus_auth_audit FROM CURRENT_USER/);
    const { dsn } = await ownedDatabase();
    const sql = postgres(dsn, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(script).simple();
      assert.equal(await refusal(sql`DELETE FROM bus_auth_audit`), "42501");
      assert.equal(await refusal(sql`UPDATE bus_auth_audit SET detail = NULL`), "42501");
    } finally {
      await sql.end();
    }
  },
);

pgTest(
  "PostgreSQL: with the table owned by another role the provider cannot win the rights back; the owner prunes",
  async () => {
    const { dsn, role, name } = await ownedDatabase();
    const provider = await PostgresStore.open({
      dsn,
      poolMax: 2,
      connectTimeoutSeconds: 2,
      statementTimeoutSeconds: 10,
    });
    await provider.appendAudit(record(1, NOW - 400 * DAY));
    const owner = `${role}_owner`;
    await cluster!.query(`CREATE ROLE ${owner} LOGIN NOSUPERUSER`);
    // As the README says: another role owns the trail, the provider's role may only select and insert.
    await cluster!.query(
      `ALTER TABLE bus_auth_audit OWNER TO ${owner}; GRANT SELECT, INSERT ON bus_auth_audit TO ${role}`,
      name,
    );
    const sql = postgres(dsn, { max: 1, onnotice: () => {} });
    try {
      await provider.appendAudit(record(2, NOW));
      await sql`GRANT DELETE ON bus_auth_audit TO CURRENT_USER`; // only a warning: no privileges were granted
      assert.equal(await refusal(sql`DELETE FROM bus_auth_audit`), "42501");
      await assert.rejects(provider.pruneAudit(NOW - 365 * DAY), /permission denied/);
      const ownerDsn = dsn.replace(`postgres://${role}@`, `postgres://${owner}@`);
      const pruner = await PostgresStore.open(
        { dsn: ownerDsn, poolMax: 1, connectTimeoutSeconds: 2, statementTimeoutSeconds: 10 },
        { migrate: false },
      );
      try {
        assert.equal(await pruner.pruneAudit(NOW - 365 * DAY), 1);
      } finally {
        await pruner.close();
      }
      assert.equal((await provider.listAudit(ALL)).length, 1);
    } finally {
      await sql.end();
      await provider.close();
    }
  },
);

Deno.test({
  name: "PostgreSQL append-only tests: stop the cluster",
  ignore: cluster === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => await cluster?.dispose(),
});
