/**
 * `bus operator auth policy show|set` and `approve --scopes` as subprocesses
 * against a provider process: the policy they set is what the provider's
 * /token and /check enforce.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type ProviderProcess, runProgram, startProvider } from "./helpers/provider_process.ts";

const SECRET = "cli-policy-signing-secret-of-32-bytes-min";

/** Registers and verifies an email; returns its session token. */
async function verifiedSession(provider: ProviderProcess, email: string): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${provider.url}/api/v1/auth/${path}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
  await post("otp/request", { email });
  const verified = await post("otp/verify", { email, otp: await provider.waitForOtp(email) });
  assert.equal(verified.verified, true);
  return verified.access_token;
}

Deno.test({
  name: "bus operator auth policy and approve --scopes set the scope policy that the provider enforces",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_RATE_LIMIT_PER_IP: "0",
      BUS_AUTH_API_USER_SCOPES: "llm:proxy billing:read vm:read",
    });
    const work = await Deno.makeTempDir({ prefix: "bus-operator-policy-" });
    Deno.mkdirSync(join(work, "local"), { mode: 0o700 });
    Deno.writeTextFileSync(join(work, "local", "hs256-secret"), SECRET, { mode: 0o600 });
    const mint = async (file: string, scope: string) => {
      const minted = await runProgram("bus-operator-token", [
        "--format",
        "token",
        "--output",
        file,
        "issue",
        "--local",
        "--hs256-secret-file",
        "./local/hs256-secret",
        "--subject",
        "auth-operator",
        "--audience",
        "ai.hg.fi/auth",
        "--scope",
        scope,
      ], { cwd: work });
      assert.equal(minted.code, 0, minted.stderr);
    };
    const operator = (token: string, args: string[]) =>
      runProgram("bus-operator-auth", ["--api-url", provider.url, "--token-file", token, ...args], { cwd: work });
    const apiToken = (session: string, scope: string) =>
      fetch(`${provider.url}/api/v1/auth/token`, {
        method: "POST",
        headers: { Authorization: `Bearer ${session}` },
        body: JSON.stringify({ scope }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const check = (token: string) =>
      fetch(`${provider.url}/api/v1/auth/check`, { headers: { Authorization: `Bearer ${token}` } })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
    try {
      await mint("./local/manager-token", "admin:manage");
      await mint("./local/approver-token", "waitlist:read waitlist:approve");
      const session = await verifiedSession(provider, "user@example.com");
      await verifiedSession(provider, "other@example.com");
      let accountId = "";

      await t.step("approve --scopes approves and narrows the account in one step", async () => {
        const weak = await operator("./local/approver-token", [
          "approve",
          "--email",
          "user@example.com",
          "--scopes",
          "llm:proxy",
        ]);
        assert.equal(weak.code, 3, "setting a policy needs admin:manage");
        assert.match(weak.stderr, /insufficient_scope, HTTP 403/);
        const approved = await operator("./local/manager-token", [
          "approve",
          "--email",
          "user@example.com",
          "--scopes",
          "llm:proxy",
        ]);
        assert.equal(approved.code, 0, approved.stderr);
        const match =
          /^Approved user@example\.com: account ([0-9a-f-]{36}) \(user [0-9a-f-]{36}\)\.\nScope policy: llm:proxy\.\n$/
            .exec(approved.stdout);
        assert.ok(match, approved.stdout);
        accountId = match[1];
        assert.equal((await apiToken(session, "llm:proxy")).status, 200);
        const refused = await apiToken(session, "billing:read");
        assert.deepEqual([refused.status, refused.body.error], [403, "scope_not_allowed"]);
      });

      await t.step("policy show prints the policy and what it allows; --format json the provider's JSON", async () => {
        const shown = await operator("./local/manager-token", ["policy", "show", "--email", "user@example.com"]);
        assert.equal(shown.code, 0, shown.stderr);
        assert.equal(
          shown.stdout,
          `Email:       user@example.com\nAccount:     ${accountId}\nStatus:      approved\n` +
            "Policy:      llm:proxy\nAllowed now: llm:proxy\n",
        );
        const json = await operator("./local/manager-token", [
          "--format",
          "json",
          "policy",
          "show",
          "--account-id",
          accountId,
        ]);
        assert.equal(json.code, 0, json.stderr);
        const answer = JSON.parse(json.stdout);
        assert.deepEqual(
          [answer.account_id, answer.email, answer.scopes, answer.default, answer.effective_scopes],
          [accountId, "user@example.com", "llm:proxy", false, "llm:proxy"],
        );
      });

      await t.step("policy set widens within the global list, and narrowing ends tokens holding the rest", async () => {
        const set = await operator("./local/manager-token", [
          "policy",
          "set",
          "--email",
          "user@example.com",
          "--scopes",
          "llm:proxy billing:read",
        ]);
        assert.equal(set.code, 0, set.stderr);
        assert.match(set.stdout, /^Set the scope policy of user@example\.com\.\n/);
        assert.match(set.stdout, /^Policy: +llm:proxy billing:read$/m);
        const wide = await apiToken(session, "llm:proxy billing:read");
        assert.equal(wide.status, 200);
        assert.equal((await check(wide.body.access_token)).status, 200);

        const narrowed = await operator("./local/manager-token", [
          "policy",
          "set",
          "--account-id",
          accountId,
          "--scopes",
          "llm:proxy",
        ]);
        assert.equal(narrowed.code, 0, narrowed.stderr);
        const refused = await check(wide.body.access_token);
        assert.deepEqual([refused.status, refused.body.error], [401, "token_revoked"]);
        assert.match(refused.body.message, /"billing:read"/);
      });

      await t.step("policy set --default restores the whole global list", async () => {
        const reset = await operator("./local/manager-token", [
          "--format",
          "json",
          "policy",
          "set",
          "--email",
          "user@example.com",
          "--default",
        ]);
        assert.equal(reset.code, 0, reset.stderr);
        const answer = JSON.parse(reset.stdout);
        assert.deepEqual([answer.scopes, answer.default, answer.effective_scopes], [
          null,
          true,
          "llm:proxy billing:read vm:read",
        ]);
        const text = await operator("./local/manager-token", ["policy", "show", "--email", "user@example.com"]);
        assert.match(text.stdout, /^Policy: +default \(every scope of BUS_AUTH_API_USER_SCOPES\)$/m);
        assert.equal((await apiToken(session, "vm:read")).status, 200);
      });

      await t.step("the provider's refusals exit 3", async () => {
        const refusals: [string[], RegExp][] = [
          [["policy", "set", "--email", "user@example.com", "--scopes", "admin:manage"], /scope_not_allowed, HTTP 403/],
          [["policy", "set", "--email", "user@example.com", "--scopes", "container:run"], /BUS_AUTH_API_USER_SCOPES/],
          [["policy", "show", "--email", "nobody@example.com"], /user_not_found, HTTP 404/],
          [["policy", "show", "--email", "other@example.com"], /account_not_found, HTTP 404/],
          [["policy", "show", "--account-id", crypto.randomUUID()], /account_not_found, HTTP 404/],
          [["policy", "show", "--account-id", "nope"], /invalid_account_id, HTTP 400/],
        ];
        for (const [args, expected] of refusals) {
          const result = await operator("./local/manager-token", args);
          assert.equal(result.code, 3, `${args.join(" ")}: ${result.stderr}`);
          assert.match(result.stderr, expected);
        }
        const weak = await operator("./local/approver-token", ["policy", "show", "--email", "user@example.com"]);
        assert.equal(weak.code, 3);
        assert.match(weak.stderr, /insufficient_scope, HTTP 403/);
      });

      await t.step("usage errors exit 2 before any request", async () => {
        const usages: [string[], RegExp][] = [
          [["policy"], /policy needs show or set/],
          [["policy", "shw", "--email", "user@example.com"], /unknown policy command "shw"; did you mean "show"\?/],
          [["policy", "show"], /policy show needs --email <email> or --account-id <id>/],
          [["policy", "set", "--email", "user@example.com"], /either --scopes "<scopes>" or --default/],
          [["policy", "set", "--email", "user@example.com", "--scopes", "x", "--default"], /either --scopes/],
          [["policy", "show", "--email", "user@example.com", "--default"], /--default goes with policy set/],
          [["policy", "show", "--email", "user@example.com", "--account-id", accountId], /not both/],
          [["policy", "show", "extra", "--email", "user@example.com"], /unexpected argument "extra"/],
          [["reject", "--email", "user@example.com", "--scopes", "x"], /--scopes does not go with reject/],
        ];
        for (const [args, expected] of usages) {
          const result = await operator("./local/manager-token", args);
          assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
          assert.match(result.stderr, expected);
        }
      });
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
