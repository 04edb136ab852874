/**
 * The executables of `deno task compile`: what each entry module reaches
 * (so what each binary carries), the task's handling of the denort runtime,
 * and, wherever a runtime is available (DENORT_BIN or a download), the
 * bus-auth, operator and `.bus` flows through the compiled files and their
 * alias links.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { baseEnv, runCommand, versionOutput } from "./helpers/provider_process.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CONFIG = join(ROOT, "deno.json");

const run = runCommand;

/**
 * The local modules (paths below the checkout), npm packages and Node built-ins (`node:` imports of the modules
 * outside npm packages) an entry module reaches, dynamic imports included.
 */
async function moduleGraph(entry: string): Promise<{ local: string[]; npm: string[]; node: string[] }> {
  const info = await run(Deno.execPath(), ["info", "--json", "--config", CONFIG, join(ROOT, entry)]);
  assert.equal(info.code, 0, info.stderr);
  const graph = JSON.parse(info.stdout) as {
    modules: { specifier: string; kind?: string; npmPackage?: string }[];
    packages?: Record<string, string>;
  };
  const local: string[] = [];
  const npm = new Set<string>();
  const node: string[] = [];
  for (const module of graph.modules) {
    if (module.kind === "node") node.push(module.specifier);
    if (module.specifier.startsWith(`file://${ROOT}`)) local.push(module.specifier.slice(`file://${ROOT}`.length));
    if (module.specifier.startsWith("npm:")) npm.add(module.specifier.replace(/^npm:\/?/, "").replace(/@[^@/]+$/, ""));
    // "name@version", with "_peer@version" suffixes for packages with peer dependencies.
    if (module.npmPackage) npm.add(module.npmPackage.replace(/_.*$/, "").replace(/@[^@]+$/, ""));
  }
  return { local: local.sort(), npm: [...npm].sort(), node: node.sort() };
}

Deno.test("each entry module reaches only what its program needs (deno info --json)", async () => {
  const serverOnly = /^(server\/|lib\/store\/(?!store\.ts)|lib\/otp\/(?!code\.ts)|lib\/config\/)/;
  for (const [entry, allowedNpm] of [["cli/auth/main.ts", []], ["cli/operator/main.ts", ["jose"]]] as const) {
    const { local, npm } = await moduleGraph(entry);
    assert.deepEqual(local.filter((path) => serverOnly.test(path) || path.startsWith("tests/")), [], entry);
    assert.deepEqual(npm, [...allowedNpm], `${entry} loads no server, PostgreSQL, SMTP or test packages`);
  }
  const provider = await moduleGraph("server/main.ts");
  assert.deepEqual(provider.local.filter((path) => path.startsWith("cli/") || path.startsWith("tests/")), []);
  const testOnly = ["smtp-server", "mailparser", "@seriousme/openapi-schema-validator"];
  assert.deepEqual(provider.npm.filter((name) => testOnly.includes(name)), []);
  assert.ok(provider.npm.includes("hono") && provider.npm.includes("postgres") && provider.npm.includes("nodemailer"));
  // The OpenAPI document's libraries, loaded by the provider on the first GET /openapi.json only.
  assert.ok(provider.npm.includes("@hono/zod-openapi"));
  const everything = await moduleGraph("main.ts");
  assert.deepEqual(everything.npm.filter((name) => testOnly.includes(name)), [], "test-only");
  assert.ok(everything.local.includes("lib/version.ts") && everything.local.includes("deno.json"));
});

Deno.test("deno task compile names an unusable runtime or target in one line and builds nothing", async () => {
  const out = await Deno.makeTempDir({ prefix: "bus-compile-" });
  try {
    const missing = await run(Deno.execPath(), ["task", "--quiet", "compile", "--out", out], {
      env: { DENORT_BIN: join(out, "no-such-denort") },
    });
    assert.equal(missing.code, 3);
    assert.equal(
      missing.stderr,
      `compile: DENORT_BIN=${join(out, "no-such-denort")} is not an executable file: point it at an unzipped denort\n`,
    );
    const target = await run(Deno.execPath(), ["task", "--quiet", "compile", "--target", "sparc-sun-solaris"]);
    assert.equal(target.code, 2);
    assert.match(target.stderr, /^compile: --target must be one of x86_64-unknown-linux-gnu, /);
    assert.deepEqual([...Deno.readDirSync(out)], []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name: "deno task compile builds the three executables and their links, and refuses a runtime that does not run",
  // A full deno binary stands in for denort: deno compile accepts it, but the result runs as plain deno.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "bus-compile-" });
    try {
      const result = await run(Deno.execPath(), ["task", "--quiet", "compile", "--out", out], {
        env: { DENORT_BIN: Deno.execPath() },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /does not run \(--version printed "deno /);
      assert.match(result.stderr, /is DENORT_BIN a denort runtime of this Deno version\?/);
      for (const name of ["bus-auth", "bus-operator", "bus-api-provider-auth"]) {
        assert.ok(Deno.statSync(join(out, name)).isFile, name);
      }
      for (
        const [alias, target] of [["bus", "bus-auth"], ["bus-operator-auth", "bus-operator"], [
          "bus-operator-token",
          "bus-operator",
        ]]
      ) {
        assert.equal(Deno.readLinkSync(join(out, alias)), target, alias);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

/** Whether deno compile can get a denort runtime here: DENORT_BIN, or a download that works. */
async function runtimeAvailable(): Promise<string | null> {
  if (Deno.env.get("DENORT_BIN")) return null;
  const dir = await Deno.makeTempDir({ prefix: "bus-denort-probe-" });
  try {
    await Deno.writeTextFile(join(dir, "probe.ts"), "console.log('ok');\n");
    const probe = await run(Deno.execPath(), ["compile", "--no-config", "--output", join(dir, "probe"), "probe.ts"], {
      cwd: dir,
    });
    const works = probe.code === 0 && (await run(join(dir, "probe"), [])).stdout === "ok\n";
    return works ? null : "deno compile cannot get its denort runtime here (set DENORT_BIN, or allow the download)";
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const skipReason = await runtimeAvailable();
if (skipReason !== null) console.error(`compiled-executable flows skipped: ${skipReason}`);

Deno.test({
  name: "the compiled executables run the bus-auth, operator and .bus flows, also through their alias links",
  ignore: skipReason !== null,
  sanitizeResources: false,
  fn: async (t) => {
    const dist = await Deno.makeTempDir({ prefix: "bus-dist-" });
    let provider: Deno.ChildProcess | undefined;
    try {
      const built = await run(Deno.execPath(), ["task", "--quiet", "compile", "--out", dist]);
      assert.equal(built.code, 0, built.stderr);
      const work = await Deno.makeTempDir({ prefix: "bus-compiled-work-", dir: dist });
      const env = { PATH: `${dist}:${Deno.env.get("PATH")}`, BUS_CONFIG_DIR: join(work, "config") };
      const bin = (name: string) => join(dist, name);

      await t.step("every executable and alias prints its name, version and commit", async () => {
        for (const name of ["bus", "bus-auth", "bus-operator", "bus-operator-auth", "bus-operator-token"]) {
          const version = await run(bin(name), ["--version"], { env });
          assert.equal(version.stdout, versionOutput(name), version.stderr);
        }
        const providerVersion = await run(bin("bus-api-provider-auth"), ["--version"], { env });
        assert.equal(providerVersion.stdout, versionOutput("bus-api-provider-auth"), providerVersion.stderr);
      });

      const secret = "compiled-test-signing-secret-of-32-bytes";
      provider = new Deno.Command(bin("bus-api-provider-auth"), {
        args: ["serve", "--listen", "127.0.0.1:0"],
        env: { ...baseEnv(), BUS_AUTH_HS256_SECRET: secret, BUS_AUTH_OTP_SENDER: "console" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines = provider.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const logs = provider.stderr.pipeThrough(new TextDecoderStream()).getReader();
      const more = async (reader: ReadableStreamDefaultReader<string>, what: string) => {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`The compiled provider ended before ${what}`);
        return chunk.value;
      };
      let log = "";
      while (!/"msg":"listening"/.test(log)) log += await more(logs, "listening");
      const url = /"url":"([^"]+)"/.exec(log)![1];
      let stdout = "";
      const otpFor = async (email: string) => {
        while (!stdout.includes(`email=${email} `)) stdout += await more(lines, `the code for ${email}`);
        return new RegExp(`email=${email.replace(".", "\\.")} otp=(\\d{6})`).exec(stdout)![1];
      };

      await t.step("bus auth through the bus alias: login, verify, status", async () => {
        const auth = (args: string[]) => run(bin("bus"), ["auth", "--api-url", url, ...args], { env, cwd: work });
        assert.equal((await auth(["login", "--email", "user@example.com"])).code, 0);
        const verify = await auth(["verify", "--email", "user@example.com", "--otp", await otpFor("user@example.com")]);
        assert.equal(verify.code, 0, verify.stderr);
        assert.match((await auth(["status"])).stdout, /^Status: +waitlisted$/m);
      });

      await t.step("bus-operator-token --local and bus-operator-auth approve, then bus-auth token", async () => {
        const tokenFile = join(work, "admin-token");
        const minted = await run(bin("bus-operator-token"), [
          "--format",
          "token",
          "--output",
          tokenFile,
          "issue",
          "--local",
          "--subject",
          "compiled-operator",
          "--scope",
          "waitlist:read waitlist:approve",
        ], { env: { ...env, BUS_AUTH_HS256_SECRET: secret } });
        assert.equal(minted.code, 0, minted.stderr);
        const approve = await run(bin("bus-operator-auth"), [
          "--api-url",
          url,
          "--token-file",
          tokenFile,
          "approve",
          "--email",
          "user@example.com",
        ], { env });
        assert.equal(approve.code, 0, approve.stderr);
        const token = await run(bin("bus-auth"), ["--api-url", url, "token", "--scope", "llm:proxy"], { env });
        assert.equal(token.code, 0, token.stderr);
      });

      await t.step("a .bus file through the bus alias runs a module on PATH and bus itself", async () => {
        const modules = join(work, "modules");
        Deno.mkdirSync(modules);
        Deno.writeTextFileSync(join(modules, "bus-operator-deploy"), '#!/bin/sh\necho "deploy: $*"\n', { mode: 0o755 });
        const file = join(work, "doctor.bus");
        Deno.writeTextFileSync(file, "run command -- bus operator deploy doctor\napi provider auth --version\n");
        const result = await run(bin("bus"), [file], { env: { ...env, PATH: `${modules}:${dist}` } });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `deploy: doctor\n${versionOutput("bus-api-provider-auth")}`);
      });
    } finally {
      if (provider !== undefined) {
        provider.kill("SIGTERM");
        await provider.status;
        await provider.stdout.cancel().catch(() => {});
        await provider.stderr.cancel().catch(() => {});
      }
      await Deno.remove(dist, { recursive: true });
    }
  },
});

Deno.test("deno publish --dry-run accepts the package, without tests or build leftovers", async () => {
  const result = await run(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(result.code, 0, result.stderr);
  const files = [...(result.stdout + result.stderr).matchAll(/file:\/\/\S+/g)].map((match) => match[0]);
  assert.ok(files.some((file) => file.endsWith("/main.ts")) && files.some((file) => file.endsWith("/LICENSE")));
  assert.deepEqual(files.filter((file) => /_test\.ts$|\/tests\/|build_commit\.txt$/.test(file)), []);
  assert.ok(files.some((file) => file.endsWith("/lib/verifier/mod.ts")) && files.some((f) => f.endsWith("/hono.ts")));
});

Deno.test("the verifier entries reach jose alone (and Hono's types from ./verifier/hono), no node: import", async () => {
  // The provider's rules, and its HMAC (pure TypeScript) for the provider's own HS256 tokens.
  const shared =
    /^lib\/(verifier\/[a-z_]+\.ts|jwt_rules\.ts|claims\.ts|errors\.ts|uuid\.ts|keys\/(hmac_)?sha256\.ts|utf8_scratch\.ts)$/;
  for (const [entry, npm] of [["lib/verifier/mod.ts", ["jose"]], ["lib/verifier/hono.ts", ["hono", "jose"]]] as const) {
    const graph = await moduleGraph(entry);
    assert.deepEqual(graph.npm, [...npm], entry);
    assert.deepEqual(graph.node, [], `${entry} imports no Node built-in`);
    assert.deepEqual(graph.local.filter((path) => !shared.test(path) || path.endsWith("_test.ts")), [], entry);
  }
  assert.ok(!(await moduleGraph("lib/verifier/mod.ts")).local.includes("lib/verifier/hono.ts"), "no Hono in the core");
});
