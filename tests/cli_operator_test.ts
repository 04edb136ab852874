/**
 * `bus operator auth` and `bus operator token` (and their aliases) as
 * subprocesses against real provider processes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN, type ProviderProcess, runProgram, startProvider } from "./helpers/provider_process.ts";

const CONFIG_PATH = new URL("../deno.json", import.meta.url).pathname;

const SECRET = "cli-operator-signing-secret-32-bytes-min";
const OTHER_SECRET = "a-different-signing-secret-of-32-bytes!!";
const INTERNAL_KEY = "cli-operator-internal-key-0123456789";

async function verifiedUser(provider: ProviderProcess, email: string): Promise<void> {
  const post = (path: string, body: unknown) =>
    fetch(`${provider.url}/api/v1/auth/${path}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
  await post("register", { email });
  await post("otp/request", { email });
  const verified = await post("otp/verify", { email, otp: await provider.waitForOtp(email) });
  assert.equal(verified.verified, true);
}

Deno.test({
  name: "bus operator: waitlist, approve, reject and token issue (remote and --local) against provider processes",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_RATE_LIMIT_PER_IP: "0",
    });
    const other = await startProvider({ BUS_AUTH_HS256_SECRET: OTHER_SECRET });
    const work = await Deno.makeTempDir({ prefix: "bus-operator-cli-" });
    const local = join(work, "local");
    Deno.mkdirSync(local, { mode: 0o700 });
    Deno.writeTextFileSync(join(local, "hs256-secret"), `${SECRET}\n`, { mode: 0o600 });
    Deno.writeTextFileSync(join(local, "internal-key"), INTERNAL_KEY, { mode: 0o600 });
    const run = (program: string, args: string[], env: Record<string, string> = {}) =>
      runProgram(program, args, { cwd: work, env });
    const adminToken = async (scope: string) => {
      const minted = await run("bus-operator-token", [
        "--format",
        "token",
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
      ]);
      assert.equal(minted.code, 0, minted.stderr);
      const file = join(local, `admin-${crypto.randomUUID()}`);
      Deno.writeTextFileSync(file, minted.stdout, { mode: 0o600 });
      return file;
    };
    try {
      await verifiedUser(provider, "user@example.com");
      await verifiedUser(provider, "other@example.com");
      await fetch(`${provider.url}/api/v1/auth/register`, { method: "POST", body: '{"email":"late@example.com"}' })
        .then((r) => r.body?.cancel());

      await t.step("the spec's local bootstrap: --local admin token, then waitlist and approve", async () => {
        const minted = await run("bus", [
          "operator",
          "token",
          "--format",
          "token",
          "issue",
          "--local",
          "--hs256-secret-file",
          "./local/hs256-secret",
          "--subject",
          "auth-operator",
          "--audience",
          "ai.hg.fi/auth",
          "--scope",
          "waitlist:read waitlist:approve waitlist:reject",
        ]);
        assert.equal(minted.code, 0, minted.stderr);
        assert.match(minted.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
        Deno.writeTextFileSync(join(local, "admin-token"), minted.stdout, { mode: 0o600 });
        const waitlist = await run("bus", [
          "operator",
          "auth",
          "--api-url",
          provider.url,
          "--token-file",
          "./local/admin-token",
          "waitlist",
        ]);
        assert.equal(waitlist.code, 0, waitlist.stderr);
        const lines = waitlist.stdout.trimEnd().split("\n");
        assert.match(lines[0], /^EMAIL +VERIFIED +STATUS +REGISTERED +USER ID$/);
        assert.equal(lines.length, 5);
        assert.match(waitlist.stdout, /^user@example\.com +yes +waitlisted /m);
        assert.match(waitlist.stdout, /^late@example\.com +no +waitlisted /m);
        assert.equal(lines[4], "3 registrations.");
        const approve = await run("bus", [
          "operator",
          "auth",
          "--api-url",
          provider.url,
          "--token-file",
          "./local/admin-token",
          "approve",
          "--email",
          "user@example.com",
        ]);
        assert.equal(approve.code, 0, approve.stderr);
        assert.match(approve.stdout, /^Approved user@example\.com: account [0-9a-f-]{36} \(user [0-9a-f-]{36}\)\.\n$/);
      });

      await t.step(
        "reject prints the decision, --quiet prints nothing, --format json the provider's JSON",
        async () => {
          const token = await adminToken("waitlist:read waitlist:reject");
          const quiet = await run("bus-operator-auth", [
            "--api-url",
            provider.url,
            "--token-file",
            token,
            "--quiet",
            "reject",
            "--email",
            "other@example.com",
          ]);
          assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, "", ""]);
          const json = await run("bus-operator-auth", [
            "--api-url",
            provider.url,
            "--token-file",
            token,
            "--format",
            "json",
            "reject",
            "--email",
            "other@example.com",
            "--reason",
            "duplicate",
          ]);
          assert.equal(json.code, 0, json.stderr);
          assert.equal(JSON.parse(json.stdout).status, "rejected");
          const listed = await run("bus-operator-auth", [
            "--api-url",
            provider.url,
            "--token-file",
            token,
            "--format",
            "json",
            "waitlist",
            "--status",
            "rejected",
          ]);
          assert.deepEqual(JSON.parse(listed.stdout).users.map((u: { email: string }) => u.email), [
            "other@example.com",
          ]);
        },
      );

      await t.step("waitlist follows every page", async () => {
        for (let i = 0; i < 510; i += 30) {
          await Promise.all(
            Array.from({ length: 30 }, (_, j) =>
              fetch(`${provider.url}/api/v1/auth/register`, {
                method: "POST",
                body: JSON.stringify({ email: `bulk${i + j}@example.com` }),
              })
                .then((r) => r.body?.cancel())),
          );
        }
        const token = await adminToken("waitlist:read");
        const all = await run("bus-operator-auth", [
          "--api-url",
          provider.url,
          "--token-file",
          token,
          "--format",
          "json",
          "waitlist",
        ]);
        assert.equal(JSON.parse(all.stdout).users.length, 511, "510 bulk users plus late@example.com");
      });

      await t.step("refusals: unverified 409 and weak token 403 exit 3; a missing token file exits 1", async () => {
        const token = await adminToken("waitlist:approve");
        const unverified = await run("bus-operator-auth", [
          "--api-url",
          provider.url,
          "--token-file",
          token,
          "approve",
          "--email",
          "late@example.com",
        ]);
        assert.equal(unverified.code, 3);
        assert.match(unverified.stderr, /not_verified, HTTP 409/);
        const weak = await adminToken("waitlist:read");
        const forbidden = await run("bus-operator-auth", [
          "--api-url",
          provider.url,
          "--token-file",
          weak,
          "approve",
          "--email",
          "user@example.com",
        ]);
        assert.equal(forbidden.code, 3);
        assert.match(forbidden.stderr, /insufficient_scope, HTTP 403/);
        const missing = await run("bus-operator-auth", ["--api-url", provider.url, "waitlist"]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /--token-file/);
        const absent = await run("bus-operator-auth", [
          "--api-url",
          provider.url,
          "--token-file",
          "./local/nope",
          "waitlist",
        ]);
        assert.equal(absent.code, 1, "a missing file is a failure, not a usage error");
        assert.equal(
          absent.stderr,
          `bus-operator-auth: Cannot read the admin token file "${join(local, "nope")}": no such file\n`,
        );
        const folder = await run("bus-operator-auth", [
          "--api-url",
          provider.url,
          "--token-file",
          "./local",
          "waitlist",
        ]);
        assert.equal(folder.code, 1);
        assert.match(folder.stderr, /: it is a folder, not a file\n$/);
      });

      await t.step("a secret file readable by others gets a warning on stderr", async () => {
        const token = await adminToken("waitlist:read");
        Deno.chmodSync(token, 0o644);
        const result = await run("bus-operator-auth", ["--api-url", provider.url, "--token-file", token, "waitlist"]);
        assert.equal(result.code, 0);
        assert.match(result.stderr, /^warning: the admin token file ".*" is readable by group or others \(mode 0644\)/);
      });

      await t.step("remote issue prints JSON by default, options stand before or after issue", async () => {
        const before = await run("bus", [
          "operator",
          "token",
          "--api-url",
          provider.url,
          "--internal-key-file",
          "./local/internal-key",
          "issue",
          "--subject",
          "usage-exporter",
          "--audience",
          "ai.hg.fi/internal",
          "--scope",
          "usage:read",
        ]);
        assert.equal(before.code, 0, before.stderr);
        const envelope = JSON.parse(before.stdout);
        assert.equal(envelope.subject, "usage-exporter");
        assert.equal(envelope.audience, "ai.hg.fi/internal");
        assert.equal(envelope.scope, "usage:read");
        assert.equal(envelope.access_token, undefined, "no token on the terminal without --format token");
        assert.equal(envelope.token_prefix, "eyJhbGci…");
        assert.match(envelope.expires_at, /^\d{4}-/);
        assert.match(before.stderr, /^note: the token itself is printed only with --format token/);
        const after = await run("bus-operator-token", [
          "issue",
          "--subject",
          "billing-worker",
          "--audience",
          "ai.hg.fi/api",
          "--scope",
          "billing:read billing:entitlement:check",
          "--ttl",
          "1h",
          "--format",
          "token",
        ], { BUS_AUTH_API_URL: provider.url, BUS_OPERATOR_INTERNAL_KEY: INTERNAL_KEY });
        assert.equal(after.code, 0, after.stderr);
        assert.match(after.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
        assert.match(after.stderr, /capped the token lifetime to 600 s/);
      });

      await t.step("--output writes the envelope 0600 and prints only the path and the token prefix", async () => {
        const written = await run("bus-operator-token", [
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
        assert.equal(written.code, 0, written.stderr);
        assert.doesNotMatch(written.stdout, /eyJ[\w-]{9}/);
        const summary = JSON.parse(written.stdout);
        assert.deepEqual([summary.token_file, summary.token_prefix], ["./local/envelope.json", "eyJhbGci…"]);
        const file = JSON.parse(Deno.readTextFileSync(join(local, "envelope.json")));
        assert.match(file.access_token, /^eyJ/);
        assert.equal(Deno.statSync(join(local, "envelope.json")).mode! & 0o777, 0o600);
      });

      await t.step("secrets from a pipe: --internal-key-file -, a named pipe, and the _FILE variables", async () => {
        const issue = ["issue", "--subject", "piped", "--format", "token"];
        const piped = await runProgram("bus-operator-token", [
          "--api-url",
          provider.url,
          "--internal-key-file",
          "-",
          ...issue,
        ], {
          cwd: work,
          stdin: `${INTERNAL_KEY}\n`,
        });
        assert.equal(piped.code, 0, piped.stderr);
        assert.match(piped.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
        const shell = await new Deno.Command("bash", {
          args: [
            "-c",
            'printf "%s\\n" "$KEY" | "$DENO" run -A --config "$CONFIG" "$MAIN" bus operator token --api-url "$URL" ' +
            "--internal-key-file - --format token issue --subject piped",
          ],
          env: { KEY: INTERNAL_KEY, DENO: Deno.execPath(), CONFIG: CONFIG_PATH, MAIN, URL: provider.url },
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(shell.code, 0, new TextDecoder().decode(shell.stderr));
        const fifo = join(work, "key.fifo");
        const made = await new Deno.Command("mkfifo", { args: ["-m", "600", fifo] }).output();
        assert.equal(made.code, 0);
        const writer = Deno.writeTextFile(fifo, INTERNAL_KEY);
        const viaFifo = await run("bus-operator-token", [
          "--api-url",
          provider.url,
          "--internal-key-file",
          fifo,
          ...issue,
        ]);
        await writer;
        assert.equal(viaFifo.code, 0, viaFifo.stderr);
        const viaEnv = await run("bus-operator-token", ["--api-url", provider.url, ...issue], {
          BUS_OPERATOR_INTERNAL_KEY_FILE: "./local/internal-key",
        });
        assert.equal(viaEnv.code, 0, viaEnv.stderr);
        const both = await run("bus-operator-token", ["--api-url", provider.url, ...issue], {
          BUS_OPERATOR_INTERNAL_KEY_FILE: "./local/internal-key",
          BUS_OPERATOR_INTERNAL_KEY: INTERNAL_KEY,
        });
        assert.equal(both.code, 2);
        assert.match(both.stderr, /BUS_OPERATOR_INTERNAL_KEY_FILE and BUS_OPERATOR_INTERNAL_KEY are both set/);
        const local = await run("bus-operator-token", ["issue", "--local", "--subject", "x", "--format", "token"], {
          BUS_OPERATOR_HS256_SECRET_FILE: "./local/hs256-secret",
        });
        assert.equal(local.code, 0, local.stderr);
        const claims = await fetch(`${provider.url}/api/v1/auth/check`, {
          headers: { Authorization: `Bearer ${local.stdout.trim()}` },
        }).then((r) => r.json());
        assert.equal(claims.sub, "x", "signed with the provider's secret from BUS_OPERATOR_HS256_SECRET_FILE");
        const fromStdin = await runProgram("bus-operator-token", [
          "issue",
          "--local",
          "--hs256-secret-file",
          "-",
          "--subject",
          "x",
        ], { cwd: work, stdin: SECRET, env: { BUS_AUTH_API_URL: provider.url } });
        assert.equal(fromStdin.code, 0, fromStdin.stderr);
      });

      await t.step("waitlist --limit and --cursor page by hand; the JSON carries next_cursor", async () => {
        const token = await adminToken("waitlist:read");
        const base = ["--api-url", provider.url, "--token-file", token, "--format", "json", "waitlist"];
        const first = JSON.parse((await run("bus-operator-auth", [...base, "--limit", "2"])).stdout);
        assert.equal(first.users.length, 2);
        assert.equal(typeof first.next_cursor, "string");
        const second = JSON.parse(
          (await run("bus-operator-auth", [...base, "--limit", "2", "--cursor", first.next_cursor])).stdout,
        );
        assert.notEqual(second.users[0].email, first.users[0].email);
        const all = JSON.parse((await run("bus-operator-auth", base)).stdout);
        assert.equal(all.next_cursor, null);
        assert.deepEqual(all.users.slice(0, 4).map((u: { email: string }) => u.email), [
          ...first.users.map((u: { email: string }) => u.email),
          ...second.users.map((u: { email: string }) => u.email),
        ]);
        const text = await run("bus-operator-auth", [
          "--api-url",
          provider.url,
          "--token-file",
          token,
          "waitlist",
          "--limit",
          "1",
        ]);
        assert.match(text.stdout, /^More registrations follow: add --cursor \S+$/m);
        const bad = await run("bus-operator-auth", [...base, "--limit", "0"]);
        assert.equal(bad.code, 2);
        assert.equal(JSON.parse(bad.stdout).error, "usage");
        const typo = await run("bus-operator-auth", ["--api-url", provider.url, "--token-file", token, "waitlst"]);
        assert.match(typo.stderr, /unknown command "waitlst"; did you mean "waitlist"\?/);
      });

      await t.step(
        "remote issue: a wrong key is refused (exit 3); literal key flags are refused (exit 2)",
        async () => {
          Deno.writeTextFileSync(join(local, "wrong-key"), "not-the-key-0123456789", { mode: 0o600 });
          const wrong = await run("bus-operator-token", [
            "--api-url",
            provider.url,
            "--internal-key-file",
            "./local/wrong-key",
            "issue",
            "--subject",
            "x",
          ]);
          assert.equal(wrong.code, 3);
          assert.match(wrong.stderr, /internal_key_invalid, HTTP 403/);
          for (const flag of ["--internal-key", "--hs256-secret"]) {
            const literal = await run("bus-operator-token", [flag, INTERNAL_KEY, "issue", "--subject", "x"]);
            assert.equal(literal.code, 2);
            assert.ok(!literal.stderr.includes(INTERNAL_KEY));
          }
          const noKey = await run("bus-operator-token", ["--api-url", provider.url, "issue", "--subject", "x"]);
          assert.equal(noKey.code, 2);
          assert.match(noKey.stderr, /no internal key/);
          const unreachable = await run("bus-operator-token", [
            "--api-url",
            "http://127.0.0.1:9",
            "--internal-key-file",
            "./local/internal-key",
            "issue",
            "--subject",
            "x",
          ]);
          assert.equal(unreachable.code, 1);
          assert.match(unreachable.stderr, /Cannot reach http:\/\/127\.0\.0\.1:9\/api\/internal\/auth\/token/);
        },
      );

      await t.step(
        "a --local token is accepted by a provider with the same secret and rejected by one with another",
        async () => {
          const minted = await run("bus-operator-token", [
            "--format",
            "token",
            "issue",
            "--local",
            "--subject",
            "local-codex",
            "--audience",
            "ai.hg.fi/api",
            "--scope",
            "llm:proxy",
            "--ttl",
            "1h",
          ], { BUS_AUTH_HS256_SECRET: SECRET });
          assert.equal(minted.code, 0, minted.stderr);
          const token = minted.stdout.trim();
          const check = (url: string) =>
            fetch(`${url}/api/v1/auth/check?audience=ai.hg.fi/api`, { headers: { Authorization: `Bearer ${token}` } })
              .then(async (r) => ({ status: r.status, body: await r.json() }));
          const same = await check(provider.url);
          assert.equal(same.status, 200);
          assert.equal(same.body.sub, "local-codex");
          assert.equal(same.body.exp - same.body.iat, 3600);
          const different = await check(other.url);
          assert.equal(different.status, 401);
          assert.equal(different.body.error, "invalid_token");
        },
      );

      await t.step(
        "--local refuses bad subjects, audiences, short secrets and remote-only flags with exit 2",
        async () => {
          const base = ["issue", "--local", "--hs256-secret-file", "./local/hs256-secret"];
          for (
            const args of [
              [...base],
              [...base, "--subject", "has space"],
              [...base, "--subject", "x", "--audience", "evil.example"],
              [...base, "--subject", "x", "--ttl", "400d"],
              [...base, "--subject", "x", "--api-url", provider.url],
              ["issue", "--local", "--subject", "x"],
            ]
          ) {
            const result = await run("bus-operator-token", args);
            assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
          }
          Deno.writeTextFileSync(join(local, "short"), "short", { mode: 0o600 });
          const short = await run("bus-operator-token", [
            "issue",
            "--local",
            "--hs256-secret-file",
            "./local/short",
            "--subject",
            "x",
          ]);
          assert.equal(short.code, 2);
          assert.match(short.stderr, /5 bytes/);
        },
      );
    } finally {
      await provider.stop();
      await other.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
