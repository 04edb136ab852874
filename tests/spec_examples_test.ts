/**
 * The command lines of spec/bus-auth.txt, spec/bus-operator.txt and
 * spec/bus-operator-token.txt, run verbatim by bash with the programs from
 * `deno task install` on PATH, against `bus-api-provider-auth serve --dev`.
 * Only the port differs: the provider listens on a free port instead of 8080.
 * Not covered: hosted https://ai.hg.fi URLs, Docker, MailHog, and the
 * /v1/models call of another Bus API (the token is checked with /check instead).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
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

Deno.test({
  name: "the spec's local command lines work verbatim against the development provider",
  sanitizeResources: false,
  fn: async (t) => {
    const work = await Deno.makeTempDir({ prefix: "bus-spec-" });
    const bin = join(work, "deno-root");
    const repo = join(work, "repo");
    Deno.mkdirSync(repo);
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["task", "install", "--root", bin],
      cwd: ROOT,
      env: baseEnv(),
      clearEnv: true,
    }).output();
    assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
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
    } finally {
      await provider?.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
