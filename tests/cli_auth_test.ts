/**
 * `bus auth` as a subprocess against a real provider process: the complete
 * flow of spec/bus-auth.txt, token storage, refusals and exit codes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram, startProvider } from "./helpers/provider_process.ts";

const SECRET = "cli-auth-signing-secret-of-32-bytes-min";
const INTERNAL_KEY = "cli-auth-internal-key-0123456789";

/** A loopback port nothing listens on (Deno's fetch refuses "bad ports" such as 9 before connecting). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

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
      await t.step("login and verify without register: the hosted sign-in of the provider's spec", async () => {
        const hosted = "hosted@example.com";
        const login = await auth(["login", "--email", hosted], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(login.code, 0, login.stderr);
        const otp = await provider.waitForOtp(hosted);
        const verify = await auth(["verify", "--email", hosted, "--otp", otp, "--token-file", "./hosted-token"], {
          BUS_AUTH_API_URL: apiUrl,
        });
        assert.equal(verify.code, 0, verify.stderr);
        assert.match(verify.stdout, /^Verified hosted@example\.com\. Status: waitlisted\.$/m);
      });

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
        assert.match(
          refused.stderr,
          /^bus-auth: .*waiting for operator approval \(not_approved, HTTP 403\); bus auth status shows when an operator has approved it\n$/,
        );
        assert.equal(refused.stdout, "");
        assert.doesNotMatch(refused.stderr, /usage:/, "a refusal is not a usage error");
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
        assert.match(
          minted.stdout,
          /^Wrote the token eyJhbGci… \(jti [0-9a-f-]{36}\) to \.\/local\/admin-token\n$/,
          "the path, a prefix and the token id only",
        );
        assert.equal(mode(join(work, "local", "admin-token")), 0o600);
        assert.match(Deno.readTextFileSync(join(work, "local", "admin-token")), /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
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

      await t.step("no token on the terminal unless --format token; JSON names the file and the expiry", async () => {
        const json = await auth(["--format", "json", "token", "--scope", "llm:proxy"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(json.code, 0, json.stderr);
        assert.doesNotMatch(json.stdout, /eyJ/);
        const answer = JSON.parse(json.stdout);
        assert.equal(answer.access_token, undefined);
        assert.equal(answer.token_file, join(config, "auth", "api-token"));
        assert.match(answer.expires_at, /^\d{4}-\d\d-\d\dT/);
        assert.equal(answer.scope, "llm:proxy");
        const raw = await auth(["--format", "token", "token", "--scope", "llm:proxy"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(raw.code, 0, raw.stderr);
        assert.match(raw.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
        assert.equal(Deno.readTextFileSync(join(config, "auth", "api-token")), raw.stdout, "and it is stored as well");
        const toFile = await auth(["--format", "token", "--output", "./api.jwt", "token", "--scope", "llm:proxy"], {
          BUS_AUTH_API_URL: apiUrl,
        });
        assert.equal(toFile.stdout, "Wrote the token eyJhbGci… to ./api.jwt\n");
        assert.equal(mode(join(work, "api.jwt")), 0o600);
        const text = await auth(["refresh", "--token-file", join(config, "auth", "token")], {
          BUS_AUTH_API_URL: apiUrl,
        });
        assert.equal(text.code, 0, text.stderr);
        assert.doesNotMatch(text.stdout, /eyJ/);
        const notATokenCommand = await auth(["--format", "token", "status"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(notATokenCommand.code, 2);
        assert.match(notATokenCommand.stderr, /--format token only goes with verify, token, refresh/);
      });

      await t.step("BUS_AUTH_TOKEN_FILE, and --token-file - reads the session token from a pipe", async () => {
        const path = join(config, "auth", "token");
        const token = Deno.readTextFileSync(path);
        const empty = { BUS_CONFIG_DIR: join(work, "empty"), BUS_AUTH_API_URL: apiUrl };
        const viaEnvFile = await runProgram("bus-auth", ["status"], { env: { ...empty, BUS_AUTH_TOKEN_FILE: path } });
        assert.equal(viaEnvFile.code, 0, viaEnvFile.stderr);
        const viaPipe = await runProgram("bus-auth", ["--token-file", "-", "me"], { env: empty, stdin: token });
        assert.equal(viaPipe.code, 0, viaPipe.stderr);
        assert.match(viaPipe.stdout, /^Email: +user@example\.com$/m);
        const viaDevStdin = await runProgram("bus-auth", ["status"], {
          env: { ...empty, BUS_AUTH_TOKEN_FILE: "/dev/stdin" },
          stdin: token,
        });
        assert.equal(viaDevStdin.code, 0, viaDevStdin.stderr);
        const both = await runProgram("bus-auth", ["status"], {
          env: { ...empty, BUS_AUTH_TOKEN_FILE: path, BUS_AUTH_TOKEN: token.trim() },
        });
        assert.equal(both.code, 2);
        assert.match(both.stderr, /BUS_AUTH_TOKEN_FILE and BUS_AUTH_TOKEN are both set: keep one/);
        assert.ok(!both.stderr.includes(token.trim()));
        const writeToPipe = await runProgram("bus-auth", [
          "--token-file",
          "-",
          "verify",
          "--email",
          email,
          "--otp",
          "123456",
        ], {
          env: empty,
        });
        assert.equal(writeToPipe.code, 2, "verify must write the session somewhere: refused before the code is spent");
        assert.match(writeToPipe.stderr, /standard input, which cannot be written/);
        const emptyPipe = await runProgram("bus-auth", ["--token-file", "-", "status"], { env: empty, stdin: "\n" });
        assert.equal(emptyPipe.code, 1);
        assert.match(emptyPipe.stderr, /^bus-auth: The token file on standard input is empty\n$/);
      });

      await t.step("a session that has ended says how to sign in again (exit 3, no usage text)", async () => {
        const copy = join(work, "ended-session");
        await auth(["--api-url", apiUrl, "login", "--email", email]);
        const otp = await provider.waitForOtp(email);
        const verify = await auth([
          "--api-url",
          apiUrl,
          "--token-file",
          copy,
          "verify",
          "--email",
          email,
          "--otp",
          otp,
        ]);
        assert.equal(verify.code, 0, verify.stderr);
        const saved = Deno.readTextFileSync(copy);
        assert.equal((await auth(["--api-url", apiUrl, "--token-file", copy, "logout"])).code, 0);
        Deno.writeTextFileSync(copy, saved, { mode: 0o600 });
        const revoked = await auth(["--api-url", apiUrl, "--token-file", copy, "status"]);
        assert.equal(revoked.code, 3);
        assert.match(
          revoked.stderr,
          /^bus-auth: The session has ended: sign in again \(token_revoked, HTTP 401\); sign in again: bus auth login --email <email>, then bus auth verify --email <email> --otp <code>\n$/,
        );
      });

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
        const again = await auth(["logout"], { BUS_AUTH_API_URL: apiUrl });
        assert.deepEqual([again.code, again.stdout, again.stderr], [0, "", ""], "a second logout succeeds quietly");
        const after = await auth(["status"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(after.code, 1, "not signed in is a failure, not a usage error");
        assert.match(
          after.stderr,
          /^bus-auth: Not signed in: no session token at .*auth\/token\. Sign in with bus auth login --email <email>, then bus auth verify --email <email> --otp <code> \(or use --token-file or BUS_AUTH_TOKEN_FILE\)\n$/,
        );
        const json = await auth(["--format", "json", "status"], { BUS_AUTH_API_URL: apiUrl });
        assert.equal(json.code, 1);
        assert.equal(json.stderr, "");
        const failure = JSON.parse(json.stdout);
        assert.deepEqual([failure.error, failure.http_status, failure.exit_code], ["not_signed_in", null, 1]);
        assert.match(failure.message, /^Not signed in/);
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

      await t.step("a config folder that others may read is tightened to 0700 before a token goes in", async () => {
        const open = join(work, "open-config");
        Deno.mkdirSync(join(open, "auth"), { recursive: true });
        Deno.chmodSync(open, 0o755);
        Deno.chmodSync(join(open, "auth"), 0o755);
        await auth(["--api-url", apiUrl, "login", "--email", email]);
        const otp = await provider.waitForOtp(email);
        const result = await runProgram(
          "bus",
          ["auth", "--api-url", apiUrl, "verify", "--email", email, "--otp", otp],
          {
            env: { BUS_CONFIG_DIR: open },
            cwd: work,
          },
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(
          result.stderr,
          `notice: tightened "${open}" from mode 0755 to 0700: it holds tokens\n` +
            `notice: tightened "${join(open, "auth")}" from mode 0755 to 0700: it holds tokens\n`,
        );
        assert.equal(mode(open), 0o700);
        assert.equal(mode(join(open, "auth")), 0o700);
        assert.equal(mode(join(open, "auth", "token")), 0o600);
      });

      await t.step("an API URL with a user name or password is refused, and the password never shown", async () => {
        for (
          const [args, env] of [
            [["--api-url", "http://alice:s3cret-pw@127.0.0.1:1/api/v1/auth", "status"], {}],
            [["status"], { BUS_AUTH_API_URL: "https://alice:s3cret-pw@auth.example/api/v1/auth" }],
          ] as const
        ) {
          const result = await auth([...args], env);
          assert.equal(result.code, 2);
          assert.ok(!result.stderr.includes("s3cret-pw"), result.stderr);
          assert.match(result.stderr, /as the API URL: it carries a user name or password/);
          assert.match(result.stderr, /:\/\/\*\*\*@/);
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
        const closed = closedPort();
        const unreachable = await auth([
          "--api-url",
          `http://127.0.0.1:${closed}/api/v1/auth`,
          "--timeout",
          "5s",
          "status",
        ]);
        assert.equal(unreachable.code, 1);
        assert.equal(
          unreachable.stderr,
          `bus-auth: Cannot reach http://127.0.0.1:${closed}/api/v1/auth/status: connection refused (nothing listens there)\n`,
        );
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
        const json = await auth(["--api-url", apiUrl, "token", "--scope", "waitlist:approve", "--format", "json"]);
        assert.equal(json.code, 3);
        assert.equal(json.stderr, "");
        const failure = JSON.parse(json.stdout);
        assert.deepEqual([failure.error, failure.http_status, failure.exit_code], ["scope_not_allowed", 403, 3]);
        const usage = await auth(["--api-url", apiUrl, "--format=json", "frobnicate"]);
        assert.equal(usage.code, 2);
        assert.equal(JSON.parse(usage.stdout).error, "usage");
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

      await t.step("a typo gets the nearest command or option", async () => {
        const command = await auth(["--api-url", apiUrl, "regster", "--email", email]);
        assert.equal(command.code, 2);
        assert.match(command.stderr, /^bus-auth: unknown command "regster"; did you mean "register"\?\n/);
        const option = await auth(["--api-url", apiUrl, "register", "--emial", email]);
        assert.equal(option.code, 2);
        assert.match(option.stderr, /^bus-auth: unknown option "--emial"; did you mean "--email"\?\n/);
      });

      await t.step(
        "a rejected user still signs in and sees rejected; the account's API tokens stop working",
        async () => {
          const rejected = "rejected@example.com";
          const token = join(work, "rejected-session");
          const as = (args: string[]) => auth(["--api-url", apiUrl, "--token-file", token, ...args]);
          await as(["login", "--email", rejected]);
          assert.equal(
            (await as(["verify", "--email", rejected, "--otp", await provider.waitForOtp(rejected)])).code,
            0,
          );
          const admin = ["auth", "--api-url", apiUrl, "--token-file", "./local/admin-token"];
          assert.equal((await operator([...admin, "approve", "--email", rejected])).code, 0);
          const apiConfig = { BUS_CONFIG_DIR: join(work, "rejected-config") };
          const issued = await auth(
            ["--api-url", apiUrl, "--token-file", token, "token", "--scope", "llm:proxy"],
            apiConfig,
          );
          assert.equal(issued.code, 0, issued.stderr);
          assert.equal((await operator([...admin, "reject", "--email", rejected, "--reason", "test"])).code, 0);
          const status = await as(["status"]);
          assert.equal(status.code, 0, status.stderr);
          assert.match(status.stdout, /^Status: +rejected$/m);
          const refused = await auth(
            ["--api-url", apiUrl, "--token-file", token, "token", "--scope", "llm:proxy"],
            apiConfig,
          );
          assert.equal(refused.code, 3);
          assert.match(refused.stderr, /\(account_rejected, HTTP 403\); an operator rejected this registration/);
          const check = await auth(["--api-url", apiUrl, "check", "--api"], apiConfig);
          assert.equal(check.code, 3);
          assert.match(check.stderr, /token_revoked, HTTP 401/);
          assert.equal((await operator([...admin, "approve", "--email", rejected])).code, 0);
          const stillRevoked = await auth(["--api-url", apiUrl, "check", "--api"], apiConfig);
          assert.equal(stillRevoked.code, 3, "a later approval does not revive the tokens of before the rejection");
          const fresh = await auth(
            ["--api-url", apiUrl, "--token-file", token, "token", "--scope", "llm:proxy"],
            apiConfig,
          );
          assert.equal(fresh.code, 0, fresh.stderr);
        },
      );
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
