/**
 * `bus auth` as a subprocess against a real provider process: the complete
 * flow of spec/bus-auth.txt, token storage, refusals and exit codes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram, startProvider } from "./helpers/provider_process.ts";

const SECRET = "cli-auth-signing-secret-of-32-bytes-min";
const INTERNAL_KEY = "cli-auth-internal-key-0123456789";

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

Deno.test({
  name: "bus auth: the complete flow of spec/bus-auth.txt against a provider process",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_ROUTE_PREFIX: "/local-dev/v1",
      BUS_AUTH_OTP_RESEND_SECONDS: "0",
      BUS_AUTH_RATE_LIMIT_PER_IP: "0",
    });
    const work = await Deno.makeTempDir({ prefix: "bus-auth-cli-" });
    const config = join(work, "config");
    const apiUrl = `${provider.url}/local-dev/v1/modules/auth`;
    const env = { BUS_CONFIG_DIR: config };
    const auth = (args: string[], extra: Record<string, string> = {}) =>
      runProgram("bus", ["auth", ...args], { env: { ...env, ...extra }, cwd: work });
    const operator = (args: string[], extra: Record<string, string> = {}) =>
      runProgram("bus", ["operator", ...args], { env: { ...env, ...extra }, cwd: work });
    const email = "user@example.com";
    try {
      await t.step("register, login, verify and status with --api-url, exactly as the spec writes them", async () => {
        const register = await auth(["--api-url", apiUrl, "register", "--email", email]);
        assert.equal(register.code, 0, register.stderr);
        assert.match(register.stdout, /^Registered user@example\.com \(user [0-9a-f-]{36}\): waitlisted/);
        const login = await auth(["--api-url", apiUrl, "login", "--email", email]);
        assert.equal(login.code, 0, login.stderr);
        assert.match(login.stdout, /expires in 10 minutes/);
        const otp = await provider.waitForOtp(email);
        const verify = await auth(["--api-url", apiUrl, "verify", "--email", email, "--otp", otp]);
        assert.equal(verify.code, 0, verify.stderr);
        assert.ok(!verify.stdout.includes("eyJ"), "the token is stored, not printed");
        const status = await auth(["--api-url", apiUrl, "status"]);
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, /^Status: +waitlisted$/m);
      });

      await t.step("verify stored the session as auth/token, 0600 in 0700 folders", () => {
        const path = join(config, "auth", "token");
        assert.equal(mode(path), 0o600);
        assert.equal(mode(join(config, "auth")), 0o700);
        assert.match(Deno.readTextFileSync(path), /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
      });

      await t.step("token before approval is refused by the server: exit 3 with its message and code", async () => {
        const refused = await auth(["token", "--scope", "llm:proxy"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(refused.code, 3);
        assert.match(refused.stderr, /^bus-auth: .*waiting for operator approval \(not_approved, HTTP 403\)$/m);
        assert.equal(refused.stdout, "");
      });

      await t.step("an operator approves with an admin token minted remotely by bus operator token issue", async () => {
        Deno.mkdirSync(join(work, "local"), { mode: 0o700 });
        Deno.writeTextFileSync(join(work, "local", "internal-key"), `${INTERNAL_KEY}\n`, { mode: 0o600 });
        const minted = await operator([
          "token",
          "--api-url",
          `${provider.url}/local-dev/v1`,
          "--internal-key-file",
          "./local/internal-key",
          "--format",
          "token",
          "--output",
          "./local/admin-token",
          "issue",
          "--subject",
          "admin-user",
          "--scope",
          "waitlist:read waitlist:approve admin:manage",
        ]);
        assert.equal(minted.code, 0, minted.stderr);
        assert.equal(minted.stdout, "");
        assert.equal(mode(join(work, "local", "admin-token")), 0o600);
        const approve = await operator([
          "auth",
          "--api-url",
          apiUrl,
          "--token-file",
          "./local/admin-token",
          "approve",
          "--email",
          email,
        ]);
        assert.equal(approve.code, 0, approve.stderr);
        assert.match(approve.stdout, /^Approved user@example\.com: account [0-9a-f-]{36}/);
        assert.equal(approve.stderr, "", "no permission warning for a 0600 file");
      });

      await t.step("bus auth token --scope stores the API JWT as auth/api-token (0600)", async () => {
        const issued = await auth(["token", "--scope", "llm:proxy"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(issued.code, 0, issued.stderr);
        assert.match(issued.stdout, /^Saved an API token for scope "llm:proxy" to .*auth\/api-token\.$/m);
        const path = join(config, "auth", "api-token");
        assert.equal(mode(path), 0o600);
        const [, payload] = Deno.readTextFileSync(path).trim().split(".");
        const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
        assert.equal(claims.aud, "ai.hg.fi/api");
        assert.equal(claims.scope, "llm:proxy");
        assert.notEqual(claims.sub, email);
        const check = await auth(["check", "--api"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(check.code, 0, check.stderr);
        assert.match(check.stdout, new RegExp(`^Subject: +${claims.sub}$`, "m"));
      });

      await t.step(
        "--format json prints the provider's JSON; --quiet prints nothing; --output writes 0600",
        async () => {
          const json = await auth(["--format", "json", "me"], { BUS_AUTH_API_URL: apiUrl });
          assert.equal(json.code, 0, json.stderr);
          const me = JSON.parse(json.stdout);
          assert.equal(me.email, email);
          assert.equal(me.status, "approved");
          const quiet = await auth(["--quiet", "status"], { BUS_AUTH_API_URL: apiUrl });
          assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, "", ""]);
          const output = await auth(["--output", "./me.txt", "me"], { BUS_AUTH_API_URL: apiUrl });
          assert.equal(output.stdout, "");
          assert.match(Deno.readTextFileSync(join(work, "me.txt")), /^Email: +user@example\.com$/m);
          assert.equal(mode(join(work, "me.txt")), 0o600);
        },
      );

      await t.step("BUS_AUTH_TOKEN and --token-file serve automation; a bare origin URL works too", async () => {
        const token = Deno.readTextFileSync(join(config, "auth", "token")).trim();
        const viaEnv = await runProgram("bus-auth", ["status"], {
          env: { BUS_AUTH_API_URL: provider.url, BUS_AUTH_TOKEN: token, BUS_CONFIG_DIR: join(work, "empty") },
        });
        assert.equal(viaEnv.code, 0, viaEnv.stderr);
        const viaFile = await runProgram("bus-auth", [
          "--api-url",
          `${provider.url}/api/v1/auth`,
          "--token-file",
          join(config, "auth", "token"),
          "me",
        ], {
          env: { BUS_CONFIG_DIR: join(work, "empty") },
        });
        assert.equal(viaFile.code, 0, viaFile.stderr);
      });

      await t.step("refresh replaces the stored session; logout ends it and removes the files", async () => {
        const before = Deno.readTextFileSync(join(config, "auth", "token"));
        const refresh = await auth(["refresh"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(refresh.code, 0, refresh.stderr);
        assert.notEqual(Deno.readTextFileSync(join(config, "auth", "token")), before);
        const logout = await auth(["logout"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(logout.code, 0, logout.stderr);
        assert.throws(() => Deno.statSync(join(config, "auth", "token")));
        assert.throws(() => Deno.statSync(join(config, "auth", "api-token")));
        const after = await auth(["status"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(after.code, 2, "no session left: a usage error that says how to sign in");
        assert.match(after.stderr, /not signed in/);
      });

      await t.step("the config root follows XDG_CONFIG_HOME, then HOME", async () => {
        for (
          const [variables, expected] of [
            [{ XDG_CONFIG_HOME: join(work, "xdg") }, join(work, "xdg", "bus", "auth", "token")],
            [{ HOME: join(work, "home") }, join(work, "home", ".config", "bus", "auth", "token")],
          ] as const
        ) {
          await auth(["--api-url", apiUrl, "login", "--email", email]);
          const otp = await provider.waitForOtp(email);
          const result = await runProgram("bus", [
            "auth",
            "--api-url",
            apiUrl,
            "verify",
            "--email",
            email,
            "--otp",
            otp,
          ], {
            env: { ...variables },
            cwd: work,
          });
          assert.equal(result.code, 0, result.stderr);
          assert.equal(mode(expected), 0o600);
        }
      });

      await t.step("a repository-local .bus/ folder is refused before the code is spent", async () => {
        const repo = join(work, "repo");
        Deno.mkdirSync(join(repo, ".git"), { recursive: true });
        await auth(["--api-url", apiUrl, "login", "--email", email]);
        const otp = await provider.waitForOtp(email);
        const refused = await runProgram(
          "bus",
          ["auth", "--api-url", apiUrl, "verify", "--email", email, "--otp", otp],
          {
            env: { BUS_CONFIG_DIR: join(repo, ".bus") },
            cwd: repo,
          },
        );
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /repository-local \.bus\/ folder/);
        assert.throws(() => Deno.statSync(join(repo, ".bus")));
        const tokenFile = await auth([
          "--api-url",
          apiUrl,
          "--token-file",
          join(repo, "sub", ".bus", "token"),
          "verify",
          "--email",
          email,
          "--otp",
          otp,
        ]);
        assert.equal(tokenFile.code, 2);
        const ok = await auth(["--api-url", apiUrl, "verify", "--email", email, "--otp", otp]);
        assert.equal(ok.code, 0, `the code still works after the refusals: ${ok.stderr}`);
      });

      await t.step("literal tokens on the command line are refused without echoing them", async () => {
        const token = Deno.readTextFileSync(join(config, "auth", "token")).trim();
        for (
          const args of [["--token", token, "status"], [`--token=${token}`, "status"], ["status", token], [
            "--access-token",
            "x",
            "me",
          ]]
        ) {
          const result = await auth(["--api-url", apiUrl, ...args]);
          assert.equal(result.code, 2, args.join(" "));
          assert.match(result.stderr, /not accepted on the command line|refused/);
          assert.ok(!result.stderr.includes(token));
        }
      });

      await t.step("exit codes: 0 success, 1 unreachable, 2 usage, 3 refused", async () => {
        assert.equal((await auth(["--api-url", apiUrl, "status"])).code, 0);
        const unreachable = await auth(["--api-url", "http://127.0.0.1:9/api/v1/auth", "--timeout", "5s", "status"]);
        assert.equal(unreachable.code, 1);
        assert.match(unreachable.stderr, /^bus-auth: Cannot reach http:\/\/127\.0\.0\.1:9\/api\/v1\/auth\/status: /);
        for (
          const args of [
            ["frobnicate"],
            [],
            ["register"],
            ["register", "--email", "not-an-email"],
            ["token", "--scope", "llm:proxy", "--ttl", "forever"],
            ["status", "--otp", "123456"],
            ["--format", "yaml", "status"],
            ["--timeout", "0s", "status"],
          ]
        ) {
          const result = await auth(["--api-url", apiUrl, ...args]);
          assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
          assert.match(result.stderr, /usage: bus auth/);
        }
        assert.equal((await runProgram("bus-auth", ["status"], { env })).code, 2, "no API URL anywhere");
        const refused = await auth(["--api-url", apiUrl, "token", "--scope", "waitlist:approve"]);
        assert.equal(refused.code, 3);
        assert.match(refused.stderr, /scope_not_allowed, HTTP 403/);
        const wrongOtp = await auth([
          "--api-url",
          apiUrl,
          "verify",
          "--email",
          "nobody@example.com",
          "--otp",
          "123456",
        ]);
        assert.equal(wrongOtp.code, 3);
      });
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
