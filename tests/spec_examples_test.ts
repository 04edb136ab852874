/**
 * The command lines of spec/bus-auth.txt, spec/bus-operator.txt and
 * spec/bus-operator-token.txt, run verbatim by bash with the programs from
 * `deno task install` on PATH, against `bus-api-provider-auth serve --dev`.
 * Only the port differs: the provider listens on a free port instead of 8080.
 * The remote issuing example of spec/bus-operator-token.txt also has its
 * https://api.example.test pointed at that provider and its internal key read
 * from an untracked file under ./local instead of /run/secrets.
 * The hosted block of spec/bus-api-provider-auth.txt runs against a provider
 * process too, with its https://ai.hg.fi addresses pointed at loopback and a
 * stand-in for the Bus API's /v1/models that accepts what the provider's
 * /check accepts. Not covered: Docker and MailHog (the compose examples).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { baseEnv, type ProviderProcess, startProvider } from "./helpers/provider_process.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function bash(script: string, options: { cwd: string; env: Record<string, string>; port: number }) {
  const output = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script.replaceAll("127.0.0.1:8080", `127.0.0.1:${options.port}`)],
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env },
    clearEnv: true,
    signal: AbortSignal.timeout(120_000),
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** `deno task install --root <root>`: the program names as a user has them on PATH. @returns the root */
async function installPrograms(root: string): Promise<string> {
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["task", "install", "--root", root],
    cwd: ROOT,
    env: baseEnv(),
    clearEnv: true,
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  return root;
}

/**
 * The remote issuing example of spec/bus-operator-token.txt, word for word except for
 * the provider's address (the development provider) and the internal key's file.
 */
const REMOTE_ISSUE_BLOCK = `
bus operator token \\
--api-url https://api.example.test \\
--internal-key-file /run/secrets/bus-auth-internal-key \\
--format token \\
issue \\
--subject billing-worker \\
--audience ai.hg.fi/api \\
--scope "billing:read billing:entitlement:check" \\
--ttl 1h
`
  .replace("https://api.example.test", "http://127.0.0.1:8080")
  .replace("/run/secrets/bus-auth-internal-key", "./local/internal-key");

Deno.test({
  name: "the spec's local command lines work verbatim against the development provider",
  sanitizeResources: false,
  fn: async (t) => {
    const work = await Deno.makeTempDir({ prefix: "bus-spec-" });
    const bin = await installPrograms(join(work, "deno-root"));
    const repo = join(work, "repo");
    Deno.mkdirSync(repo);
    const init = await new Deno.Command("git", { args: ["init", "-q", repo] }).output();
    assert.equal(init.code, 0);
    let provider: ProviderProcess | undefined;
    try {
      Deno.mkdirSync(join(work, "provider"));
      provider = await startProvider({}, ["--dev"], { cwd: join(work, "provider") });
      const port = Number(new URL(provider.url).port);
      const env = {
        PATH: `${join(bin, "bin")}:${Deno.env.get("PATH")}`,
        BUS_CONFIG_DIR: join(work, "config"),
      };
      const run = async (script: string, extra: Record<string, string> = {}) => {
        const result = await bash(script, { cwd: repo, env: { ...env, ...extra }, port });
        assert.equal(result.code, 0, `${script}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
        return result;
      };

      await t.step("spec/bus-auth.txt: register, login, verify, status with --api-url", async () => {
        await run(`
bus auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth register --email user@example.com
bus auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth login --email user@example.com
`);
        const otp = await provider!.waitForOtp("user@example.com");
        const result = await run(`
OTP=${otp}
bus auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth verify --email user@example.com --otp "$OTP"
bus auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth status
`);
        assert.match(result.stdout, /Status: +waitlisted/);
      });

      await t.step(
        "spec/bus-auth.txt: the compose flow with BUS_AUTH_API_URL, curl-minted admin token, approve, token",
        async () => {
          await run(`
export BUS_AUTH_API_URL=http://127.0.0.1:8080/local-dev/v1/modules/auth
bus auth register --email user@example.com
`);
          const result = await run(`
mkdir -p ./local
export BUS_AUTH_INTERNAL_TOKEN_URL=http://127.0.0.1:8080/local-dev/v1/api/internal/auth/token
curl -fsS \\
-H 'Content-Type: application/json' \\
-H 'X-Bus-Internal-Key: not-a-secret-local-development-internal-key' \\
-d '{"subject":"admin-user","scope":"waitlist:read waitlist:approve admin:manage"}' \\
"$BUS_AUTH_INTERNAL_TOKEN_URL" \\
| jq -r '.access_token' > ./local/admin-token
bus operator auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth \\
--token-file ./local/admin-token \\
approve --email user@example.com
export BUS_AUTH_API_URL=http://127.0.0.1:8080/local-dev/v1/modules/auth
bus auth token --scope "llm:proxy"
bus auth token --scope "billing:read billing:setup"
bus auth token --scope "llm:proxy billing:read"
bus auth token --scope "container:read container:run container:delete billing:read"
`);
          assert.match(result.stdout, /^Approved user@example\.com/m);
          assert.match(
            result.stdout,
            /Saved an API token for scope "container:read container:run container:delete billing:read"/,
          );
        },
      );

      await t.step(
        "spec/bus-operator.txt: local bootstrap from the repository root, waitlist, approve, reject",
        async () => {
          await run(`
curl -fsS -H 'Content-Type: application/json' -d '{"email":"pending@example.com"}' \\
  http://127.0.0.1:8080/local-dev/v1/api/v1/auth/register > /dev/null
`);
          const result = await run(
            `
install -m 700 -d ./local
git check-ignore -q ./local/hs256-secret || printf '%s\\n' '/local/' >> .git/info/exclude
git check-ignore -q ./local/hs256-secret
test -n "\${BUS_AUTH_HS256_SECRET:-}" || { echo "export BUS_AUTH_HS256_SECRET with the verifier secret used by bus-api-provider-auth" >&2; exit 2; }
printf '%s\\n' "$BUS_AUTH_HS256_SECRET" > ./local/hs256-secret
chmod 600 ./local/hs256-secret
test -s ./local/hs256-secret
bus operator token --format token issue --local \\
--hs256-secret-file ./local/hs256-secret \\
--subject auth-operator \\
--audience ai.hg.fi/auth \\
--scope "waitlist:read waitlist:approve waitlist:reject" \\
> ./local/admin-token
chmod 600 ./local/admin-token
bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token waitlist
bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token approve --email user@example.com
bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token reject --email user@example.com
`,
            { BUS_AUTH_HS256_SECRET: "not-a-secret-local-development-hs256-key" },
          );
          assert.match(result.stdout, /^pending@example\.com +no +waitlisted/m);
          assert.match(result.stdout, /^Rejected user@example\.com/m);
          assert.equal(result.stderr, "", "no warnings: the spec's files are 0600");
        },
      );

      await t.step(
        "spec/bus-operator.txt: remote issue with --internal-key-file, then --local with --ttl 1h",
        async () => {
          const result = await run(`
printf '%s' 'not-a-secret-local-development-internal-key' > ./local/internal-key
chmod 600 ./local/internal-key
bus operator token --api-url http://127.0.0.1:8080 \\
--internal-key-file ./local/internal-key \\
issue \\
--subject usage-exporter \\
--audience ai.hg.fi/internal \\
--scope "usage:read"
bus operator token --format token issue --local \\
--hs256-secret-file ./local/hs256-secret \\
--subject local-codex \\
--audience ai.hg.fi/api \\
--scope llm:proxy \\
--ttl 1h
`);
          const [envelope, raw] = result.stdout.split(/\n(?=eyJ)/);
          assert.equal(JSON.parse(envelope).subject, "usage-exporter");
          assert.match(raw, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
        },
      );

      await t.step(
        "spec/bus-operator-token.txt: the local developer token, verified against the local service",
        async () => {
          const result = await run(`
mkdir -p ./local
printf '%s' 'not-a-secret-local-development-hs256-key' > ./local/hs256-secret
bus operator token --format token issue --local \\
--hs256-secret-file ./local/hs256-secret \\
--subject local-codex \\
--audience ai.hg.fi/api \\
--scope llm:proxy \\
--ttl 1h
TOKEN="$(bus operator token --format token issue --local --hs256-secret-file ./local/hs256-secret --subject local-codex --audience ai.hg.fi/api --scope llm:proxy --ttl 1h)"
curl -fsS -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/local-dev/v1/api/v1/auth/check
`);
          assert.match(result.stdout, /"sub":"local-codex"/);
        },
      );

      await t.step(
        "spec/bus-operator-token.txt: remote issuing prints one bearer JWT the provider issued and accepts",
        async () => {
          // The internal key comes from an untracked file, as the spec's secret file would.
          const script = `
mkdir -p ./local
printf '%s' 'not-a-secret-local-development-internal-key' > ./local/internal-key
chmod 600 ./local/internal-key
${REMOTE_ISSUE_BLOCK}`;
          const result = await run(script);
          assert.match(result.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/, "one bearer JWT and nothing else");
          const token = result.stdout.trim();
          const claims = decodeJwt(token);
          assert.equal(claims.sub, "billing-worker");
          assert.equal(claims.aud, "ai.hg.fi/api");
          assert.equal(claims.scope, "billing:read billing:entitlement:check");
          // --ttl 1h asks for 3600 s; the provider may cap it, and then says so on stderr.
          const capped = /^warning: the provider capped the token lifetime to ([0-9]+) s$/m.exec(result.stderr);
          assert.equal(result.stderr, capped ? `${capped[0]}\n` : "");
          assert.equal(claims.exp! - claims.iat!, capped ? Number(capped[1]) : 3600);
          const check = await fetch(
            `${provider!.url}/api/v1/auth/check?audience=ai.hg.fi/api&scope=billing:entitlement:check`,
            { headers: { Authorization: `Bearer ${token}` } },
          );
          const checked = await check.json();
          assert.equal(check.status, 200, JSON.stringify(checked));
          assert.equal(checked.sub, "billing-worker");
          assert.equal(checked.jti, claims.jti);

          const refused = await bash(
            script.replace("not-a-secret-local-development-internal-key", "not-the-provider-internal-key"),
            { cwd: repo, env, port },
          );
          assert.equal(refused.code, 3, refused.stderr);
          assert.equal(refused.stdout, "", "no token when the provider refuses the internal key");
        },
      );

      await t.step("spec/bus-api-provider-auth.txt: the .bus file line runs the provider's help", async () => {
        const result = await run(`
cat > ./auth-help.bus <<'BUS'
# same as: bus api provider auth --help
api provider auth --help
BUS
bus ./auth-help.bus
`);
        assert.match(result.stdout, /^NAME\n {4}bus-api-provider-auth /);
      });

      await t.step(
        "spec/bus-operator.txt: the .bus file line runs bus operator deploy doctor from a module on PATH",
        async () => {
          const modules = join(work, "modules");
          Deno.mkdirSync(modules);
          Deno.writeTextFileSync(
            join(modules, "bus-operator-deploy"),
            '#!/bin/sh\necho "deploy module: $*"\n',
            { mode: 0o755 },
          );
          const result = await run(
            `
cat > ./deploy-doctor.bus <<'BUS'
# same as: bus operator deploy doctor
run command -- bus operator deploy doctor
BUS
bus ./deploy-doctor.bus
`,
            { PATH: `${modules}:${env.PATH}` },
          );
          assert.equal(result.stdout, "deploy module: doctor\n");
        },
      );
    } finally {
      await provider?.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});

/** The hosted sign-in block of spec/bus-api-provider-auth.txt, word for word. */
const HOSTED_BLOCK = `
export BUS_AUTH_API_URL=https://ai.hg.fi/api/v1/auth
bus auth login --email user@example.com
OTP="<code-from-hosted-email-sender>"
bus auth verify --email user@example.com --otp "$OTP"

bus operator auth \\
  --api-url https://ai.hg.fi/api/v1/auth \\
  --token-file /run/secrets/bus-auth-admin.token \\
  approve --email user@example.com

bus auth token --scope "llm:proxy"
curl -fsS -H "Authorization: Bearer $(cat ~/.config/bus/auth/api-token)" \\
  https://ai.hg.fi/v1/models
`;

Deno.test({
  name: "the spec's hosted sign-in block (login, verify, approve, token, models) works verbatim against a provider",
  sanitizeResources: false,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "bus-hosted-" });
    const bin = await installPrograms(join(work, "deno-root"));
    const secret = "hosted-test-signing-secret-of-32-bytes-min";
    const provider = await startProvider({ BUS_AUTH_HS256_SECRET: secret, BUS_AUTH_OTP_SENDER: "console" });
    // The deployment's Bus API (https://ai.hg.fi/v1): it serves the model catalog to tokens the provider accepts.
    const models = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const check = await fetch(`${provider.url}/api/v1/auth/check?audience=ai.hg.fi/api&scope=llm:proxy`, {
        headers: { Authorization: request.headers.get("Authorization") ?? "" },
      });
      await check.body?.cancel();
      if (new URL(request.url).pathname !== "/v1/models" || check.status !== 200) {
        return Response.json({ error: "unauthorized" }, { status: 401 });
      }
      return Response.json({ object: "list", data: [{ id: "local-test-model", object: "model" }] });
    });
    try {
      const home = join(work, "home");
      const adminToken = join(work, "bus-auth-admin.token");
      // The deployment's operator secret flow provisions the admin token file.
      const minted = await new Deno.Command(join(bin, "bin", "bus-operator-token"), {
        args: ["--format", "token", "--output", adminToken, "issue", "--local", "--subject", "hosted-operator"]
          .concat(["--audience", "ai.hg.fi/auth", "--scope", "waitlist:read waitlist:approve"]),
        env: { ...baseEnv(), BUS_AUTH_HS256_SECRET: secret },
        clearEnv: true,
      }).output();
      assert.equal(minted.code, 0, new TextDecoder().decode(minted.stderr));
      const fifo = join(work, "otp.fifo");
      assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
      // Only the addresses and the placeholders of the block change: the code comes from the provider's
      // console sender through a pipe, as a user pastes it from the hosted email.
      const script = HOSTED_BLOCK
        .replaceAll("https://ai.hg.fi/api/v1/auth", `${provider.url}/api/v1/auth`)
        .replaceAll("https://ai.hg.fi/v1/models", `http://127.0.0.1:${models.addr.port}/v1/models`)
        .replaceAll("/run/secrets/bus-auth-admin.token", adminToken)
        .replace('"<code-from-hosted-email-sender>"', `"$(cat ${fifo})"`);
      const bash = new Deno.Command("bash", {
        args: ["-euo", "pipefail", "-c", script],
        cwd: work,
        env: { ...baseEnv(), HOME: home, PATH: `${join(bin, "bin")}:${Deno.env.get("PATH")}` },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(120_000),
      }).spawn();
      const otp = await provider.waitForOtp("user@example.com", 60_000);
      await Deno.writeTextFile(fifo, `${otp}\n`);
      const output = await bash.output();
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, `${stdout}\n${new TextDecoder().decode(output.stderr)}`);
      assert.match(stdout, /^Sent a sign-in code to user@example\.com/m);
      assert.match(stdout, /^Approved user@example\.com: account [0-9a-f-]{36}/m);
      assert.match(stdout, /"id":"local-test-model"/);
      assert.equal(Deno.statSync(join(home, ".config", "bus", "auth", "api-token")).mode! & 0o777, 0o600);
    } finally {
      await models.shutdown();
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
