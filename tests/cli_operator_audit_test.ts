/**
 * `bus operator auth audit` end to end: the CLI as a subprocess against a
 * provider process, following every page of the trail, as a table and as
 * JSON lines, with filters, and its usage and refusal errors.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram, startProvider } from "./helpers/provider_process.ts";

const SECRET = "cli-audit-signing-secret-of-32-bytes-min";
const LINE = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/;

Deno.test({
  name: "bus operator auth audit prints the trail as a table or JSON lines, every page, with filters",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_OTP_SENDER: "console" });
    const work = await Deno.makeTempDir({ prefix: "bus-operator-audit-" });
    Deno.mkdirSync(join(work, "local"), { mode: 0o700 });
    Deno.writeTextFileSync(join(work, "local", "hs256-secret"), SECRET, { mode: 0o600 });
    const token = (name: string) => join(work, "local", name);
    const issue = async (file: string, subject: string, scope: string) => {
      const issued = await runProgram("bus-operator-token", [
        "--format",
        "token",
        "--output",
        token(file),
        "issue",
        "--local",
        "--hs256-secret-file",
        token("hs256-secret"),
        "--audience",
        "ai.hg.fi/auth",
        "--subject",
        subject,
        "--scope",
        scope,
      ], { cwd: work });
      assert.equal(issued.code, 0, issued.stderr);
    };
    const operator = (args: string[], file = "manager-token") =>
      runProgram("bus-operator-auth", ["--api-url", provider.url, "--token-file", token(file), ...args], {
        cwd: work,
      });
    const post = async (path: string, body: unknown, bearer?: string) => {
      const response = await fetch(`${provider.url}/api/v1/auth/${path}`, {
        method: "POST",
        headers: bearer ? { Authorization: `Bearer ${bearer}` } : {},
        body: JSON.stringify(body),
      });
      return await response.json().catch(() => null);
    };
    try {
      await issue("manager-token", "auth-operator", "waitlist:read waitlist:approve admin:manage");
      await issue("reader-token", "auth-reader", "waitlist:read");
      const email = "audited@example.com";
      await post("otp/request", { email });
      const verified = await post("otp/verify", { email, otp: await provider.waitForOtp(email) });
      const userId: string = verified.user_id;
      assert.equal((await operator(["approve", "--email", email])).code, 0);

      await t.step("the table shows every record with a header and a count", async () => {
        const result = await operator(["audit"]);
        assert.equal(result.code, 0, result.stderr);
        const lines = result.stdout.trimEnd().split("\n");
        assert.match(lines[0], /^TIME\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+SOURCE\s+DETAIL$/);
        assert.equal(lines.at(-1), "2 records.");
        const rows = lines.slice(1, -1).map((line) => LINE.exec(line)!.slice(1));
        assert.deepEqual(rows.map((row) => row.slice(1, 6)), [
          [`user:${userId}`, "otp.verify", userId, "ok", "127.0.0.1"],
          ["admin:auth-operator", "user.approve", userId, "ok", "127.0.0.1"],
        ]);
        assert.match(rows[0][0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(rows[0][6], "-");
        assert.match(rows[1][6], new RegExp(`^${email}; account [0-9a-f-]{36}$`));
      });

      await t.step("filters by actor, target, action and since", async () => {
        const actions = async (args: string[]) => {
          const result = await operator(["--format", "json", "audit", ...args]);
          assert.equal(result.code, 0, result.stderr);
          return result.stdout.trimEnd().split("\n").filter(Boolean).map((line) => JSON.parse(line).action);
        };
        assert.deepEqual(await actions(["--action", "user.approve"]), ["user.approve"]);
        assert.deepEqual(await actions(["--actor", `user:${userId}`]), ["otp.verify"]);
        assert.deepEqual(await actions(["--target", userId, "--since", "1h"]), ["otp.verify", "user.approve"]);
        assert.deepEqual(await actions(["--since", "2100-01-01T00:00:00Z"]), []);
        const none = await operator(["audit", "--actor", "admin:nobody"]);
        assert.equal(none.stdout, "No audit records match.\n");
      });

      await t.step("JSON lines follow every page of a trail longer than one page", async () => {
        const manager = Deno.readTextFileSync(token("manager-token")).trim();
        const jtis = Array.from({ length: 520 }, () => crypto.randomUUID());
        for (let i = 0; i < jtis.length; i += 20) {
          await Promise.all(jtis.slice(i, i + 20).map((jti) => post("admin/tokens/revoke", { jti }, manager)));
        }
        const result = await operator(["--format", "json", "audit", "--action", "token.revoke"]);
        assert.equal(result.code, 0, result.stderr);
        const records = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
        assert.equal(records.length, 520);
        assert.deepEqual(new Set(records.map((r) => r.target)), new Set(jtis));
        assert.deepEqual(Object.keys(records[0]), [
          "audit_id",
          "at",
          "actor",
          "action",
          "target",
          "detail",
          "request_id",
          "source_ip",
          "outcome",
        ]);
        const order = records.map((r) => `${r.at} ${r.audit_id}`);
        assert.deepEqual([...order].sort(), order, "oldest first, as the provider keeps them");

        await operator(["--format", "json", "--output", "./local/trail.jsonl", "audit", "--since", "24h"]);
        const file = Deno.readTextFileSync(join(work, "local", "trail.jsonl")).trimEnd().split("\n");
        assert.equal(file.length, 522);
        assert.equal(Deno.statSync(join(work, "local", "trail.jsonl")).mode! & 0o777, 0o600);
      });

      await t.step("a token without admin:manage is refused with exit 3, and the refusal is on the trail", async () => {
        const refused = await operator(["audit"], "reader-token");
        assert.equal(refused.code, 3);
        assert.match(refused.stderr, /insufficient_scope, HTTP 403/);
        const json = await operator(["--format", "json", "audit"], "reader-token");
        assert.deepEqual(JSON.parse(json.stdout).exit_code, 3);
        const trail = await operator(["--format", "json", "audit", "--action", "audit.read"]);
        const refusals = trail.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
        assert.deepEqual(refusals.map((r) => [r.actor, r.outcome]), [
          ["admin:auth-reader", "insufficient_scope"],
          ["admin:auth-reader", "insufficient_scope"],
        ]);
      });

      await t.step("usage errors exit 2 without calling the provider", async () => {
        const cases: [string[], RegExp][] = [
          [["audit", "--since", "yesterday"], /--since: Cannot read since "yesterday"/],
          [["audit", "--since", "2026-11-24T08:00:00"], /--since: Cannot read since/],
          [["audit", "--actor", "admin: ops"], /--actor must be 1 to 256 printable characters/],
          [["audit", "--action", ""], /--action must be 1 to 256 printable characters/],
          [["audit", "--status", "all"], /--status does not go with audit \(it goes with waitlist\)/],
          [["audit", "--email", email], /--email does not go with audit/],
          [["audit", "extra"], /unexpected argument "extra"/],
          [["audti"], /unknown command "audti"; did you mean "audit"\?/],
        ];
        for (const [args, message] of cases) {
          const result = await operator(args);
          assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
          assert.match(result.stderr, message);
        }
      });
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
