/**
 * `bus-api-provider-auth audit prune` as a subprocess: it deletes the audit
 * records older than `BUS_AUTH_AUDIT_RETENTION_DAYS` and says how many, on
 * SQLite and on PostgreSQL (as a role that is not a superuser, for which
 * the trail is append-only), and fails clearly without a schema or store.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { AuditRecord } from "../lib/store/audit.ts";
import { PostgresStore } from "../lib/store/postgres.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import type { Store } from "../lib/store/store.ts";
import { type PostgresCluster, startPostgresCluster } from "./helpers/postgres_cluster.ts";
import { runProgram } from "./helpers/provider_process.ts";

const PROGRAM = "bus-api-provider-auth";
const SECRET = "audit-prune-signing-secret-of-32-bytes!";
const DAY = 86_400_000;
const PRUNED = /^Pruned (\d+) audit records? older than (\d+) days \(before (\S+)\) from (sqlite|postgres) .*\.\n$/;

/** Records 400, 200 and 40 days old and one of now. */
async function seed(store: Store): Promise<void> {
  const now = Date.now();
  for (const [n, days] of [400, 200, 40, 0].entries()) {
    await store.appendAudit({
      auditId: crypto.randomUUID(),
      at: now - days * DAY,
      actor: "admin:ops",
      action: "user.approve",
      target: `user-${n}`,
      detail: null,
      requestId: null,
      sourceIp: null,
      outcome: "ok",
    });
  }
}

async function ages(store: Store): Promise<number[]> {
  const now = Date.now();
  const records = await store.listAudit({
    since: null,
    actor: null,
    target: null,
    action: null,
    after: null,
    limit: 9,
  });
  return records.map((record: AuditRecord) => Math.round((now - record.at) / DAY));
}

Deno.test("audit prune on SQLite deletes the records older than the retention and says how many", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-prune-" });
  const path = join(dir, "auth.sqlite");
  try {
    const store = SqliteStore.open(path);
    await seed(store);
    await store.close();
    const env = { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_STORE_PATH: path };
    const first = await runProgram(PROGRAM, ["audit", "prune"], { env });
    assert.equal(first.code, 0, first.stderr);
    const [, count, days, before] = PRUNED.exec(first.stdout) ?? [];
    assert.deepEqual([count, days], ["1", "365"], first.stdout);
    assert.ok(Math.abs(Date.parse(before) - (Date.now() - 365 * DAY)) < 60_000, before);
    const shorter = await runProgram(PROGRAM, ["audit", "prune"], {
      env: { ...env, BUS_AUTH_AUDIT_RETENTION_DAYS: "30" },
    });
    assert.equal(shorter.code, 0, shorter.stderr);
    assert.match(shorter.stdout, /^Pruned 2 audit records older than 30 days /);
    const reopened = SqliteStore.open(path);
    assert.deepEqual(await ages(reopened), [0]);
    await reopened.close();
    const again = await runProgram(PROGRAM, ["audit", "prune"], { env });
    assert.match(again.stdout, /^Pruned 0 audit records older than 365 days /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit prune fails with exit 1 and one line for a missing file or schema, and exit 2 for a bad retention", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-auth-prune-" });
  try {
    const missing = await runProgram(PROGRAM, ["audit", "prune"], {
      env: { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_STORE_PATH: join(dir, "none.sqlite") },
    });
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^bus-api-provider-auth: cannot prune the audit trail of sqlite .*none\.sqlite: .*\n$/,
    );
    assert.ok(!(await Deno.stat(join(dir, "none.sqlite")).then(() => true, () => false)), "no file is created");

    const empty = await runProgram(PROGRAM, ["audit", "prune"], {
      env: { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_STORE_PATH: dir },
    });
    assert.equal(empty.code, 1);

    const range = await runProgram(PROGRAM, ["audit", "prune"], {
      env: { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_AUDIT_RETENTION_DAYS: "7" },
    });
    assert.equal(range.code, 2);
    assert.match(range.stderr, /BUS_AUTH_AUDIT_RETENTION_DAYS: expected a whole number from 30 to 3650, got "7"/);

    const memory = await runProgram(PROGRAM, ["audit", "prune"], { env: { BUS_AUTH_HS256_SECRET: SECRET } });
    assert.equal(memory.code, 0, memory.stderr);
    assert.match(memory.stdout, /memory store .* nothing to prune/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit usage errors exit 2 with the synopsis", async () => {
  const cases: [string[], string][] = [
    [["audit"], "audit needs a command: prune"],
    [["audit", "prun"], 'unknown audit command "prun"; did you mean "prune"?'],
    [["audit", "prune", "now"], 'unexpected argument "now"'],
    [["audit", "prune", "--listen", "127.0.0.1:1"], "--listen only goes with serve"],
    [["audti", "prune"], 'unknown command "audti"; did you mean "audit"?'],
  ];
  for (const [args, problem] of cases) {
    const result = await runProgram(PROGRAM, args, { env: { BUS_AUTH_HS256_SECRET: SECRET } });
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stderr.split("\n")[0], `bus-api-provider-auth: ${problem}`);
    assert.match(result.stderr, /usage: bus-api-provider-auth/);
  }
  const help = await runProgram(PROGRAM, ["help", "audit", "prune"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^ {4}audit prune$/m);
});

const started = await startPostgresCluster();
const cluster: PostgresCluster | null = "skipped" in started ? null : started;
if ("skipped" in started) console.error(`audit prune on PostgreSQL skipped: ${started.skipped}`);
if (cluster) globalThis.addEventListener("unload", () => cluster.disposeSync());

Deno.test({
  name: "audit prune on PostgreSQL, as the provider's role for which the trail is append-only",
  ignore: cluster === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const live = cluster!;
    try {
      await live.query("CREATE ROLE bus_auth_pruner LOGIN NOSUPERUSER");
      await live.query("CREATE DATABASE bus_auth_prune OWNER bus_auth_pruner");
      const dsn = live.dsn("bus_auth_prune").replace("postgres://postgres@", "postgres://bus_auth_pruner@");
      const env = { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_POSTGRES_DSN: dsn };
      const notYet = await runProgram(PROGRAM, ["audit", "prune"], { env });
      assert.equal(notYet.code, 1);
      assert.match(notYet.stderr, /does not exist \(apply the schema first: bus-api-provider-auth migrate\)\n$/);

      const migrated = await runProgram(PROGRAM, ["migrate"], { env });
      assert.equal(migrated.code, 0, migrated.stderr);
      const store = await PostgresStore.open({ dsn, poolMax: 1, connectTimeoutSeconds: 2, statementTimeoutSeconds: 5 });
      try {
        await seed(store);
        const pruned = await runProgram(PROGRAM, ["audit", "prune"], {
          env: { ...env, BUS_AUTH_AUDIT_RETENTION_DAYS: "100" },
        });
        assert.equal(pruned.code, 0, pruned.stderr);
        assert.match(pruned.stdout, /^Pruned 2 audit records older than 100 days \(before \S+\) from postgres /);
        assert.deepEqual(await ages(store), [40, 0]);
      } finally {
        await store.close();
      }
      const rights = await live.query(
        "SELECT has_table_privilege('bus_auth_pruner', 'bus_auth_audit', 'DELETE') AS del",
        "bus_auth_prune",
      );
      assert.equal(rights[0].del, false, "the role is left without DELETE");
    } finally {
      await live.dispose();
    }
  },
});
