/**
 * The audit trail over HTTP on memory, SQLite and PostgreSQL: the same acts
 * give the same records, the same filters and pages, and crafted cursors,
 * times and filters are 400 on every store (never a 500 from a database
 * that cannot hold the value).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { assertError, createHarness } from "./helpers/app_testing.ts";
import { everyStore } from "./helpers/every_store.ts";

const stores = await everyStore("auditparity");

Deno.test({
  name: "GET /admin/audit records, filters, pages and refuses alike on every store",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    for (const backend of stores.backends) {
      await t.step(backend.kind, async () => {
        const { store, dispose } = await backend.fresh();
        try {
          const h = createHarness({ store, policy: { rateLimitPerIp: 0, otpResendSeconds: 0 } });
          const { token: session, userId } = await h.signIn("parity@example.com");
          const admin = await h.mintToken({ sub: "ops", scope: "admin:manage waitlist:approve", ttlSeconds: 86400 });
          const reader = await h.mintToken({ sub: "reader", scope: "waitlist:read", ttlSeconds: 86400 });
          const acts: [string, string, unknown][] = [
            [admin, "admin/approve", { email: "parity@example.com" }],
            [reader, "admin/approve", { email: "parity@example.com" }],
            [admin, "admin/reject", { email: "parity@example.com", reason: "Ünïcode réason" }],
            [admin, "admin/tokens/revoke", { jti: crypto.randomUUID() }],
          ];
          for (const [token, path, body] of acts) {
            h.clock.now += 1000;
            await h.call("POST", `/api/v1/auth/${path}`, { token, body });
          }
          // Several acts in one millisecond keep their order.
          const jtis = Array.from({ length: 5 }, () => crypto.randomUUID());
          for (const jti of jtis) {
            await h.call("POST", "/api/v1/auth/admin/tokens/revoke", { token: admin, body: { jti } });
          }
          await h.call("POST", "/api/v1/auth/logout", { token: session });

          const list = async (query: string) => {
            const reply = await h.call("GET", `/api/v1/auth/admin/audit?${query}`, { token: admin });
            assert.equal(reply.status, 200, `${query}: ${reply.text}`);
            return reply.body;
          };
          const all = (await list("limit=500")).records;
          assert.deepEqual(all.map((r: { action: string; outcome: string }) => `${r.action}:${r.outcome}`), [
            "otp.verify:ok",
            "user.approve:ok",
            "user.approve:insufficient_scope",
            "user.reject:ok",
            "token.revoke:ok",
            ...jtis.map(() => "token.revoke:ok"),
            "session.logout:ok",
          ]);
          assert.deepEqual(all.slice(5, 10).map((r: { target: string }) => r.target), jtis);
          assert.equal(all[3].detail, "parity@example.com; reason: Ünïcode réason");
          assert.equal(all[3].target, userId);

          const seen: string[] = [];
          let cursor: string | null = null;
          do {
            const page: { records: { audit_id: string }[]; next_cursor: string | null } = await list(
              `limit=3&action=token.revoke${cursor ? `&cursor=${cursor}` : ""}`,
            );
            seen.push(...page.records.map((r) => r.audit_id));
            cursor = page.next_cursor;
          } while (cursor !== null);
          assert.equal(seen.length, 6);
          assert.deepEqual((await list("actor=admin:reader")).records.length, 1);
          assert.deepEqual((await list(`target=${userId}&since=1h`)).records.length, 4);

          const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
          for (
            const query of [
              `cursor=${b64(["audit", Number.MAX_SAFE_INTEGER, "x"])}`,
              `cursor=${b64(["audit", 0, "\u0000"])}`,
              `cursor=${b64(["audit", 8640000000000000, crypto.randomUUID()])}`,
              "since=99999-01-01",
              "since=%00",
              "actor=a%00b",
              "target=%C3%A9",
              "action=%00",
            ]
          ) {
            const reply = await h.call("GET", `/api/v1/auth/admin/audit?${query}`, { token: admin });
            assert.equal(reply.status, 400, `${query}: ${reply.text}`);
          }
          assertError(await h.call("GET", "/api/v1/auth/admin/audit", { token: reader }), 403, "insufficient_scope");
        } finally {
          await dispose();
        }
      });
    }
  },
});

if (stores.postgresSkipped !== null) {
  Deno.test({ name: "audit parity: PostgreSQL", ignore: true, fn: () => {} });
}

Deno.test({
  name: "audit parity: stop the cluster",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => await stores.dispose(),
});
