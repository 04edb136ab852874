/**
 * The deployment files, checked offline: the Dockerfile and `.dockerignore`
 * (sources, binary names, the build context against the executables' module
 * graphs), every compose file (`docker-compose config`, the environment of
 * each provider service as a valid configuration, the testing-agent tokens),
 * the nginx gateway (`nginx -t` and real traffic through it) and the systemd
 * unit (`systemd-analyze verify` and `security`). No container engine runs
 * here; what needs one is listed in README "Containers and compose".
 *
 * Validators missing locally skip their checks with a reason; under
 * `BUS_AUTH_REQUIRE_SERVICES=1` (CI) a missing validator is a failure.
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { EXECUTABLES } from "../deploy/compile.ts";
import {
  type ComposeConfig,
  composeConfig,
  DockerIgnore,
  execForm,
  missingTool,
  parseDockerfile,
  ROOT,
} from "./helpers/deploy_files.ts";
import { baseEnv, runProgram, startProvider } from "./helpers/provider_process.ts";

/** Every name `deno task compile` produces: executables and alias links. */
const COMPILED = new Set(EXECUTABLES.flatMap((executable) => [executable.name, ...executable.aliases]));
const COMPOSE_FILES = [
  "compose/local/docker-compose.yml",
  "examples/local-compose/docker-compose.yml",
  "compose/ai-platform/docker-compose.yml",
];
const DOCKERFILE = parseDockerfile(Deno.readTextFileSync(join(ROOT, "Dockerfile")));
const DOCKERIGNORE = new DockerIgnore(Deno.readTextFileSync(join(ROOT, ".dockerignore")));

const noCompose = await missingTool("docker-compose", ["version"], "docker-compose");

// ---- Dockerfile and build context ------------------------------------------------

Deno.test("Dockerfile: every COPY source from the context exists and is let in by .dockerignore", () => {
  const copies = DOCKERFILE.filter((step) => step.keyword === "COPY" && !/--from=/.test(step.rest));
  assert.ok(copies.length >= 2);
  for (const copy of copies) {
    const words = copy.rest.split(/\s+/).filter((word) => !word.startsWith("--"));
    for (const source of words.slice(0, -1)) {
      Deno.statSync(join(ROOT, source));
      if (source !== ".") assert.ok(!DOCKERIGNORE.excludes(source), `${source} is excluded by .dockerignore`);
    }
  }
});

Deno.test("Dockerfile: .dockerignore lets in every module the executables and the compile task load, and keeps secrets and tests out", async () => {
  const entries = ["main.ts", "deploy/compile.ts", ...EXECUTABLES.map((executable) => executable.entry)];
  const modules = new Set<string>(["deno.json", "deno.lock"]);
  for (const entry of entries) {
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(ROOT, "deno.json"), join(ROOT, entry)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
    const graph = JSON.parse(new TextDecoder().decode(info.stdout));
    for (const module of graph.modules) {
      if (typeof module.specifier === "string" && module.specifier.startsWith("file://")) {
        modules.add(relative(ROOT, new URL(module.specifier).pathname));
      }
    }
  }
  assert.ok(modules.size > 40, `only ${modules.size} modules found`);
  const excluded = [...modules].filter((path) => DOCKERIGNORE.excludes(path));
  assert.deepEqual(excluded, [], "modules the image build needs but .dockerignore keeps out");
  for (const path of [".git/HEAD", "local/bus-auth.sqlite", "dist/bus-auth", "tests/deploy_files_test.ts", "x.env"]) {
    assert.ok(DOCKERIGNORE.excludes(path), `${path} reaches the build context`);
  }
  for (const path of ["compose/ai-platform/dev-secrets/bus-auth-hs256", "lib/runtime/build_commit.txt"]) {
    assert.ok(DOCKERIGNORE.excludes(path), `${path} reaches the build context`);
  }
});

Deno.test({
  name:
    "Dockerfile: the build stage's steps work in a copy of the build context (deno install --frozen, deno task compile)",
  ignore: Deno.build.os !== "linux",
  sanitizeResources: false,
  fn: async () => {
    const context = await Deno.makeTempDir({ prefix: "bus-docker-context-" });
    try {
      await copyContext(ROOT, context, "");
      assert.ok(!(await exists(join(context, "tests"))) && !(await exists(join(context, ".git"))));
      const run = (args: string[], env: Record<string, string> = {}) =>
        new Deno.Command(Deno.execPath(), {
          args,
          cwd: context,
          env: { ...baseEnv(), ...env },
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
      const install = await run(["install", "--frozen"]);
      assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
      // A full deno binary stands in for denort: the build completes, the stand-in then fails the smoke run.
      const out = join(context, "rootfs", "usr", "local", "bin");
      const compile = await run(["task", "--quiet", "compile", "--out", out], {
        DENORT_BIN: Deno.execPath(),
        BUS_AUTH_BUILD_COMMIT: "0123456789abcdef",
      });
      const stderr = new TextDecoder().decode(compile.stderr);
      assert.match(stderr, /does not run \(--version printed "deno /, stderr);
      for (const name of COMPILED) assert.ok((await Deno.stat(join(out, name))).isFile, name);
    } finally {
      await Deno.remove(context, { recursive: true });
    }
  },
});

/** Copies what .dockerignore lets into the build context, as `docker build` sends it. */
async function copyContext(from: string, to: string, path: string): Promise<void> {
  for await (const entry of Deno.readDir(join(from, path))) {
    const child = path === "" ? entry.name : `${path}/${entry.name}`;
    if (entry.isDirectory) {
      if (child === ".git" || child === "dist" || child === "local") continue;
      await copyContext(from, to, child);
    } else if (entry.isFile && !DOCKERIGNORE.excludes(child)) {
      await Deno.mkdir(join(to, dirname(child)), { recursive: true });
      await Deno.copyFile(join(from, child), join(to, child));
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("Dockerfile: pinned Deno build stage; non-root distroless runtime with the state volume, port, health check and default command", () => {
  const stages = DOCKERFILE.filter((step) => step.keyword === "FROM");
  assert.equal(stages.length, 2);
  assert.match(stages[0].rest, /denoland\/deno:\$\{DENO_VERSION\} AS build$/);
  const version = DOCKERFILE.find((step) => step.keyword === "ARG" && step.rest.startsWith("DENO_VERSION="));
  assert.equal(version?.rest, "DENO_VERSION=2.9.6");
  assert.equal(stages[1].rest, "gcr.io/distroless/cc-debian12:nonroot");
  const runtime = DOCKERFILE.filter((step) => step.stage === 1);
  const one = (keyword: string) => {
    const steps = runtime.filter((step) => step.keyword === keyword);
    assert.equal(steps.length, 1, keyword);
    return steps[0].rest;
  };
  assert.equal(one("USER"), "65532:65532");
  assert.equal(one("VOLUME"), '["/var/lib/bus-auth"]');
  assert.equal(one("EXPOSE"), "8080");
  assert.equal(one("ENV"), "BUS_AUTH_LISTEN=0.0.0.0:8080");
  assert.deepEqual(execForm(one("CMD")), ["bus-api-provider-auth", "serve"]);
  assert.deepEqual(execForm(one("HEALTHCHECK")), ["bus-api-provider-auth", "healthcheck"]);
  assert.ok(!DOCKERFILE.some((step) => step.keyword === "ENTRYPOINT"), "no ENTRYPOINT: the programs are on PATH");
  assert.ok(
    runtime.some((step) =>
      step.keyword === "COPY" && step.rest === "--from=build --chown=65532:65532 /rootfs/var/lib/ /var/lib/"
    ),
    "the state folder belongs to the runtime user",
  );
  // Every program the image runs is a compile output, in exec form (the base has no shell).
  for (const step of runtime.filter((step) => ["RUN", "CMD", "HEALTHCHECK"].includes(step.keyword))) {
    const argv = execForm(step.rest);
    assert.ok(argv !== null, `${step.keyword} ${step.rest} is not in exec form`);
    assert.ok(COMPILED.has(argv[0]), `${argv[0]} is not built by deno task compile`);
  }
  const build = DOCKERFILE.filter((step) => step.stage === 0 && step.keyword === "RUN").map((step) => step.rest);
  assert.ok(build.includes("deno install --frozen"));
  assert.ok(build.some((step) => /deno task compile --target "\$target" --out \/rootfs\/usr\/local\/bin/.test(step)));
});

// ---- compose ---------------------------------------------------------------------

Deno.test("examples/local-compose/docker-compose.yml is compose/local/docker-compose.yml, byte for byte", async () => {
  assert.equal(
    await Deno.readTextFile(join(ROOT, "examples/local-compose/docker-compose.yml")),
    await Deno.readTextFile(join(ROOT, "compose/local/docker-compose.yml")),
  );
});

Deno.test({
  name: "every compose file validates with docker-compose config, and a misspelt key does not",
  ignore: noCompose !== null,
  fn: async () => {
    for (const file of COMPOSE_FILES) {
      const result = await composeConfig(file, { quiet: true });
      assert.equal(result.code, 0, `${file}: ${result.stderr}`);
      assert.equal(result.stderr, "", file);
    }
    const dir = await Deno.makeTempDir({ prefix: "bus-compose-" });
    try {
      const broken = (await Deno.readTextFile(join(ROOT, COMPOSE_FILES[0]))).replace(
        "    healthcheck:",
        "    helthcheck:",
      );
      await Deno.writeTextFile(join(dir, "docker-compose.yml"), broken);
      const result = await composeConfig(join(dir, "docker-compose.yml"), { quiet: true });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /helthcheck/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the spec's compose line works from the parent folder of a checkout named bus-api-provider-auth",
  ignore: noCompose !== null,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "bus-superproject-" });
    try {
      await Deno.symlink(ROOT, join(parent, "bus-api-provider-auth"));
      const { code, stderr, config } = await composeConfig(
        "bus-api-provider-auth/examples/local-compose/docker-compose.yml",
        { cwd: parent },
      );
      assert.equal(code, 0, stderr);
      const build = config!.services["bus-api-provider-auth"].build;
      assert.equal(await Deno.realPath(build.context), await Deno.realPath(ROOT));
      assert.equal(build.dockerfile, "Dockerfile");
      assert.deepEqual(portsOf(config!.services["bus-api-provider-auth"]), ["127.0.0.1:8080:8080"]);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "compose: every program a service runs is a compile output, and every provider builds from the Dockerfile",
  ignore: noCompose !== null,
  fn: async () => {
    for (const file of COMPOSE_FILES) {
      const { config } = await composeConfig(file);
      for (const [name, service] of Object.entries(config!.services)) {
        if (service.image !== "bus-api-provider-auth:local") continue;
        assert.equal(service.build.context, ROOT.replace(/\/$/, ""), `${file} ${name}`);
        assert.equal(service.pull_policy, "build", `${file} ${name}: built here, never pulled`);
        const program = service.entrypoint?.[0] ?? service.command?.[0];
        assert.ok(COMPILED.has(program), `${file} ${name}: ${program}`);
        if (service.healthcheck) {
          // The AI-platform replicas are healthy once ready, since nginx waits for them.
          const url = file.startsWith("compose/ai-platform/") ? ["--url", "http://127.0.0.1:8080/readyz"] : [];
          assert.deepEqual(service.healthcheck.test, ["CMD", "bus-api-provider-auth", "healthcheck", ...url]);
        }
      }
    }
  },
});

/**
 * Published ports as HOST_IP:PUBLISHED:TARGET, from either the short form
 * docker-compose 1.x prints ("127.0.0.1:8080:8080/tcp") or the long one.
 */
// deno-lint-ignore no-explicit-any
function portsOf(service: any): string[] {
  return (service.ports ?? []).map((port: string | Record<string, unknown>) =>
    typeof port === "string"
      ? port.replace(/\/tcp$/, "")
      : `${port.host_ip ?? "0.0.0.0"}:${port.published}:${port.target}`
  );
}

/** The provider services of a resolved compose file, with their environment as the containers see it. */
function providerServices(config: ComposeConfig): [string, Record<string, string>, string[]][] {
  return Object.entries(config.services)
    .filter(([, service]) => service.command?.[0] === "bus-api-provider-auth" && service.command?.[1] === "serve")
    .map(([name, service]) => [name, service.environment ?? {}, service.command!.slice(2)]);
}

/** Maps `/run/secrets/NAME` to the file compose mounts there. */
function hostSecretPaths(config: ComposeConfig, env: Record<string, string>): Record<string, string> {
  const mapped: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const secret = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
    mapped[name] = secret === undefined ? value : config.secrets![secret].file;
  }
  return mapped;
}

Deno.test({
  name: "compose: each provider service's environment is a valid configuration (bus-api-provider-auth config)",
  ignore: noCompose !== null,
  fn: async () => {
    const expectations: Record<string, RegExp[]> = {
      "compose/local/docker-compose.yml": [
        /^BUS_AUTH_LISTEN=0\.0\.0\.0:8080$/m,
        /^BUS_AUTH_ROUTE_PREFIX=\/local-dev\/v1$/m,
        /^BUS_AUTH_POSTGRES_DSN=postgres:\/\/bus_auth:\*\*\*@postgres:5432\/bus_auth\?sslmode=disable$/m,
        /^BUS_AUTH_SMTP_HOST=mailhog$/m,
        /^BUS_AUTH_SMTP_PORT=1025$/m,
        /^BUS_AUTH_SMTP_TLS=none$/m,
      ],
      "compose/ai-platform/docker-compose.yml": [
        /^BUS_AUTH_HS256_SECRET=\(set, 40 bytes, hidden\)$/m,
        /^BUS_AUTH_INTERNAL_SHARED_KEY=\(set, 43 bytes, hidden\)$/m,
        /^BUS_AUTH_POSTGRES_DSN=postgres:\/\/bus_auth:\*\*\*@postgres:5432\/bus_auth\?sslmode=disable$/m,
        /^BUS_AUTH_TRUSTED_PROXIES=10\.247\.77\.0\/24$/m,
        /^BUS_AUTH_API_USER_SCOPES=llm:proxy billing:read .*usage:read$/m,
      ],
    };
    for (const [file, patterns] of Object.entries(expectations)) {
      const { config } = await composeConfig(file);
      const providers = providerServices(config!);
      assert.ok(providers.length >= 1, file);
      for (const [name, env, flags] of providers) {
        const result = await runProgram("bus-api-provider-auth", ["config", ...flags], {
          env: hostSecretPaths(config!, env),
        });
        assert.equal(result.code, 0, `${file} ${name}: ${result.stderr}`);
        // The only warnings allowed: the checked-in development secret files are world-readable on purpose.
        const warnings = result.stderr.split("\n").filter((line) => line !== "");
        for (const line of warnings) {
          assert.match(line, /dev-secrets\/.*readable by group or others/, `${file} ${name}`);
        }
        for (const pattern of patterns) assert.match(result.stdout, pattern, `${file} ${name}`);
      }
    }
  },
});

Deno.test({
  name: "compose: the AI-platform stack runs two replicas behind nginx, secrets only through _FILE variables",
  ignore: noCompose !== null,
  fn: async () => {
    const { config } = await composeConfig("compose/ai-platform/docker-compose.yml");
    const providers = providerServices(config!).map(([name]) => name).sort();
    assert.deepEqual(providers, ["bus-auth-1", "bus-auth-2"]);
    const gateway = await Deno.readTextFile(join(ROOT, "compose/ai-platform/nginx/bus-auth.conf"));
    for (const name of providers) assert.match(gateway, new RegExp(`^\\s+server ${name}:8080 `, "m"));
    for (const name of providers) {
      const service = config!.services[name];
      for (const variable of Object.keys(service.environment)) {
        assert.ok(!/SECRET$|_KEY$|_DSN$|PASSWORD$/.test(variable), `${name}: ${variable} holds a secret in plain`);
      }
      assert.deepEqual(service.secrets.map((secret: { source: string }) => secret.source).sort(), [
        "bus-auth-hs256",
        "bus-auth-internal-key",
        "bus-auth-postgres-dsn",
      ]);
    }
    assert.deepEqual(portsOf(config!.services.nginx), ["127.0.0.1:8080:8080"]);
    assert.deepEqual(portsOf(config!.services.mailhog), ["127.0.0.1:8025:8025"]);
    for (const name of [...providers, "postgres"]) assert.deepEqual(portsOf(config!.services[name]), [], name);
  },
});

Deno.test({
  name: "compose: the testing-agent one-shots write an API token and an admin token that the stack's provider accepts",
  ignore: noCompose !== null,
  sanitizeResources: false,
  fn: async () => {
    const { config } = await composeConfig("compose/ai-platform/docker-compose.yml");
    const agents = Object.entries(config!.services).filter(([name]) => name.startsWith("testing-agent"));
    assert.equal(agents.length, 2);
    const home = await Deno.makeTempDir({ prefix: "bus-testing-agent-" });
    const provider = await startProvider(
      hostSecretPaths(config!, {
        BUS_AUTH_HS256_SECRET_FILE: "/run/secrets/bus-auth-hs256",
        BUS_AUTH_API_USER_SCOPES: config!.services["bus-auth-1"].environment.BUS_AUTH_API_USER_SCOPES,
      }),
      // As the stack's replicas run (compose command): the published development secret needs it.
      config!.services["bus-auth-1"].command!.slice(2).filter((flag: string) => flag !== "--dev-in-container").concat([
        "--dev",
      ]),
    );
    try {
      for (const [name, service] of agents) {
        assert.deepEqual(service.entrypoint, ["bus-operator-token"], name);
        assert.deepEqual(service.volumes, ["testing-agent-config:/root/.config/bus:rw"], name);
        const args = service.command.map((arg: string) => arg.replace("/root/.config/bus", home));
        const result = await runProgram(service.entrypoint[0], args, {
          env: hostSecretPaths(config!, service.environment),
        });
        assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      }
      const token = (file: string) => Deno.readTextFile(join(home, "auth", file)).then((text) => text.trim());
      const check = await fetch(`${provider.url}/api/v1/auth/check`, {
        headers: { Authorization: `Bearer ${await token("api-token")}` },
      });
      const claims = await check.json();
      assert.equal(check.status, 200, JSON.stringify(claims));
      assert.equal(claims.aud, "ai.hg.fi/api");
      assert.equal(claims.sub, "testing-agent");
      const waitlist = await fetch(`${provider.url}/api/v1/auth/admin/waitlist`, {
        headers: { Authorization: `Bearer ${await token("admin-token")}` },
      });
      assert.equal(waitlist.status, 200, await waitlist.clone().text());
      await waitlist.body?.cancel();
      assert.equal((await Deno.stat(join(home, "auth", "admin-token"))).mode! & 0o777, 0o600);
    } finally {
      await provider.stop();
      await Deno.remove(home, { recursive: true });
    }
  },
});
