/**
 * `bus operator token revoke` and the `jti` in `bus operator token issue`
 * output, as subprocesses against a provider process.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram, startProvider } from "./helpers/provider_process.ts";

const SECRET = "cli-revoke-signing-secret-of-32-bytes-min";
const INTERNAL_KEY = "cli-revoke-internal-key-0123456789";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function jtiOf(token: string): string {
  return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).jti;
}

Deno.test({
  name: "bus operator token: issue shows the jti, revoke ends the token at the provider",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY });
    const work = await Deno.makeTempDir({ prefix: "bus-operator-revoke-" });
    Deno.mkdirSync(join(work, "local"), { mode: 0o700 });
    Deno.writeTextFileSync(join(work, "local", "hs256-secret"), SECRET, { mode: 0o600 });
    Deno.writeTextFileSync(join(work, "local", "internal-key"), INTERNAL_KEY, { mode: 0o600 });
    const run = (args: string[]) => runProgram("bus-operator-token", args, { cwd: work });
    const local = ["issue", "--local", "--hs256-secret-file", "./local/hs256-secret", "--audience", "ai.hg.fi/auth"];
    const check = (token: string) =>
      fetch(`${provider.url}/api/v1/auth/check`, { headers: { Authorization: `Bearer ${token}` } })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
    const read = (file: string) => Deno.readTextFileSync(join(work, file)).trim();
    try {
      await t.step(
        "issue prints the jti in the JSON, the --output summary and the 'Wrote the token' line",
        async () => {
          const wrote = await run([
            "--format",
            "token",
            "--output",
            "./local/manager-token",
            ...local,
            "--subject",
            "auth-operator",
            "--scope",
            "admin:manage",
          ]);
          assert.equal(wrote.code, 0, wrote.stderr);
          const jti = jtiOf(read("local/manager-token"));
          assert.match(jti, UUID);
          assert.equal(wrote.stdout, `Wrote the token eyJhbGci… (jti ${jti}) to ./local/manager-token\n`);

          const json = await run([...local, "--subject", "svc"]);
          assert.equal(json.code, 0, json.stderr);
          assert.match(JSON.parse(json.stdout).jti, UUID);

          const remote = await run([
            "--api-url",
            provider.url,
            "--internal-key-file",
            "./local/internal-key",
            "--output",
            "./local/envelope.json",
            "issue",
            "--subject",
            "usage-exporter",
          ]);
          assert.equal(remote.code, 0, remote.stderr);
          const envelope = JSON.parse(read("local/envelope.json"));
          assert.equal(envelope.jti, jtiOf(envelope.access_token), "the jti read from the provider's token");
          assert.equal(JSON.parse(remote.stdout).jti, envelope.jti);
        },
      );

      await t.step("revoke ends an internal token; repeating it answers the same", async () => {
        const envelope = JSON.parse(read("local/envelope.json"));
        assert.equal((await check(envelope.access_token)).status, 200);
        const args = [
          "--api-url",
          `${provider.url}/modules/auth`,
          "--token-file",
          "./local/manager-token",
          "revoke",
          "--jti",
          envelope.jti,
        ];
        for (let i = 0; i < 2; i++) {
          const revoked = await run(args);
          assert.equal(revoked.code, 0, revoked.stderr);
          assert.deepEqual(JSON.parse(revoked.stdout), { jti: envelope.jti, revoked: true });
        }
        const after = await check(envelope.access_token);
        assert.deepEqual([after.status, after.body.error], [401, "token_revoked"]);
      });

      await t.step("a token without admin:manage is refused with exit 3, as JSON under --format json", async () => {
        const weak = await run(["--format", "token", ...local, "--subject", "reader", "--scope", "waitlist:read"]);
        Deno.writeTextFileSync(join(work, "local", "reader-token"), weak.stdout, { mode: 0o600 });
        const args = ["--api-url", provider.url, "--token-file", "./local/reader-token", "revoke"];
        const refused = await run([...args, "--jti", crypto.randomUUID()]);
        assert.equal(refused.code, 3);
        assert.match(refused.stderr, /insufficient_scope, HTTP 403/);
        const json = await run(["--format", "json", ...args, "--jti", crypto.randomUUID()]);
        assert.equal(json.code, 3);
        const failure = JSON.parse(json.stdout);
        assert.deepEqual([failure.error, failure.http_status, failure.exit_code], ["insufficient_scope", 403, 3]);
      });

      await t.step("an operator can revoke the admin token it uses; it stops working at once", async () => {
        const own = jtiOf(read("local/manager-token"));
        const args = ["--api-url", provider.url, "--token-file", "./local/manager-token", "revoke", "--jti"];
        assert.equal((await run([...args, own.toUpperCase()])).code, 0, "an upper-case id is the same id");
        const again = await run([...args, crypto.randomUUID()]);
        assert.equal(again.code, 3);
        assert.match(again.stderr, /token_revoked, HTTP 401/);
      });

      await t.step("usage errors exit 2 and never echo a token", async () => {
        const token = read("local/manager-token");
        const base = ["--api-url", provider.url, "--token-file", "./local/manager-token"];
        const jti = crypto.randomUUID();
        const cases: [string[], RegExp][] = [
          [[...base, "revoke"], /revoke needs --jti/],
          [[...base, "revoke", "--jti", "not-a-uuid"], /is not a token id/],
          [[...base, "revoke", "--jti", jti, "--subject", "x"], /--subject does not go with revoke/],
          [[...base, "--format", "token", "revoke", "--jti", jti], /--format must be one of json/],
          [["--api-url", provider.url, "revoke", "--jti", jti], /--token-file <path>/],
          [["--token-file", "./local/manager-token", "revoke", "--jti", jti], /no auth provider URL/],
          [[...local, "--subject", "x", "--jti", jti], /--jti does not go with issue/],
          [[...base, "issue", "--local", "--subject", "x"], /--token-file does not go with issue/],
          [[...base, "revoke", "--jti", token], /token was given on the command line/],
          [[...base, "revok", "--jti", jti], /did you mean "revoke"/],
        ];
        for (const [args, message] of cases) {
          const result = await run(args);
          assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
          assert.match(result.stderr, message);
          assert.ok(!result.stderr.includes(token) && !result.stdout.includes(token));
        }
      });
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
