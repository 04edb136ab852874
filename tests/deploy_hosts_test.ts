/**
 * The gateway and host files, checked offline: the nginx configuration of
 * the AI-platform stack parses (`nginx -t`) and routes real traffic to two
 * stand-in replicas, and the systemd unit passes `systemd-analyze verify`
 * and `security`, with an example environment that is a valid provider
 * configuration.
 *
 * The upstream names of the gateway (bus-auth-1, bus-auth-2) only resolve on
 * the compose network, and `nginx -t` fails on a name it cannot resolve; the
 * test therefore checks a copy in which exactly those names and the listen
 * port are replaced by loopback addresses, and everything else is the file
 * as shipped. Likewise `systemd-analyze verify` needs the ExecStart binary:
 * the copy points at a stub, nothing else changes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { PROVIDER_VARIABLES } from "../lib/config/variables.ts";
import { missingTool, ROOT } from "./helpers/deploy_files.ts";
import { runProgram } from "./helpers/provider_process.ts";
import { freePort } from "./helpers/free_port.ts";

const GATEWAY = join(ROOT, "compose/ai-platform/nginx/bus-auth.conf");
const UNIT = join(ROOT, "deploy/systemd/bus-api-provider-auth.service");
const ENV_EXAMPLE = join(ROOT, "deploy/systemd/bus-api-provider-auth.env.example");

const noNginx = await missingTool("nginx", ["-v"], "nginx-light");
const noSystemd = await missingTool("systemd-analyze", ["--version"], "systemd");

// ---- nginx -----------------------------------------------------------------------

/** The gateway file with its upstream names and listen port mapped to loopback, nothing else changed. */
function loopbackGateway(text: string, listen: number, upstreams: Record<string, number>): string {
  let mapped = text.replace(/^(\s+)listen 8080;$/m, `$1listen 127.0.0.1:${listen};`);
  assert.notEqual(mapped, text, "the gateway listens on 8080");
  for (const [name, port] of Object.entries(upstreams)) {
    const before = mapped;
    mapped = mapped.replace(new RegExp(`^(\\s+server )${name}:8080( |;)`, "m"), `$1127.0.0.1:${port}$2`);
    assert.notEqual(mapped, before, `upstream ${name}`);
  }
  assert.doesNotMatch(mapped, /^\s+server [a-z]/m, "every upstream name is mapped");
  return mapped;
}

/** The http context of the nginx image, with every path inside `dir`. */
function wrapperConfig(dir: string): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/bus-auth.conf;
}
`;
}

interface Seen {
  path: string;
  forwardedFor: string | null;
  requestId: string | null;
  body: string;
}

function standInReplica(name: string) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    seen.push({
      path,
      forwardedFor: request.headers.get("X-Forwarded-For"),
      requestId: request.headers.get("X-Request-Id"),
      body: await request.text(),
    });
    return path === "/healthz" ? Response.json({ ok: true, replica: name }) : Response.json({ replica: name, path });
  });
  return { name, server, seen };
}

Deno.test({
  name:
    "nginx: the gateway parses (nginx -t), serves only the auth routes, balances two replicas, replaces X-Forwarded-For and skips a dead one",
  ignore: noNginx !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-nginx-" });
    const replicas = [standInReplica("bus-auth-1"), standInReplica("bus-auth-2")];
    let nginx: Deno.ChildProcess | null = null;
    try {
      const listen = freePort();
      await Deno.writeTextFile(
        join(dir, "bus-auth.conf"),
        loopbackGateway(await Deno.readTextFile(GATEWAY), listen, {
          "bus-auth-1": replicas[0].server.addr.port,
          "bus-auth-2": replicas[1].server.addr.port,
        }),
      );
      await Deno.writeTextFile(join(dir, "nginx.conf"), wrapperConfig(dir));
      const args = ["-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")];
      const test = await new Deno.Command("nginx", { args: ["-t", ...args], stdout: "piped", stderr: "piped" })
        .output();
      const testOutput = new TextDecoder().decode(test.stderr);
      assert.equal(test.code, 0, testOutput);
      assert.match(testOutput, /syntax is ok/);
      assert.match(testOutput, /test is successful/);

      nginx = new Deno.Command("nginx", { args, stdout: "null", stderr: "piped" }).spawn();
      const base = `http://127.0.0.1:${listen}`;
      await waitUntilServing(`${base}/healthz`);
      for (const replica of replicas) replica.seen.length = 0;

      const replicaOf = async (response: Response) => ((await response.json()) as { replica: string }).replica;
      const served: string[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await fetch(`${base}/healthz`, { headers: { "X-Forwarded-For": "203.0.113.9" } });
        assert.equal(response.status, 200);
        served.push(await replicaOf(response));
      }
      assert.deepEqual(served.filter((name) => name === "bus-auth-1").length, 3, served.join(" "));

      const register = await fetch(`${base}/api/v1/auth/register`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"email":"user@example.com"}',
      });
      assert.equal(register.status, 200);
      await register.body?.cancel();
      const internal = await fetch(`${base}/api/internal/auth/token`, { method: "POST", body: "{}" });
      assert.equal(internal.status, 200);
      await internal.body?.cancel();

      for (
        const path of ["/", "/modules/auth/status", "/api/v1/authx", "/internal/token", "/me", "/local-dev/v1/healthz"]
      ) {
        const response = await fetch(`${base}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal(response.headers.get("Content-Type"), "application/json", path);
        assert.equal((await response.json()).error, "not_found", path);
      }

      const seen = replicas.flatMap((replica) => replica.seen);
      assert.deepEqual(
        seen.map((request) => request.path).filter((path) => path !== "/healthz").sort(),
        ["/api/internal/auth/token", "/api/v1/auth/register"],
        "only the auth routes reach the replicas, with their paths unchanged",
      );
      assert.ok(seen.some((request) => request.body === '{"email":"user@example.com"}'));
      for (const request of seen) {
        assert.equal(request.forwardedFor, "127.0.0.1", "the client's own X-Forwarded-For is replaced");
        assert.match(request.requestId ?? "", /^[0-9a-f]{32}$/);
      }

      await replicas[1].server.shutdown();
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${base}/healthz`);
        assert.equal(response.status, 200, "a dead replica is skipped");
        assert.equal(await replicaOf(response), "bus-auth-1");
      }
    } finally {
      if (nginx !== null) {
        nginx.kill("SIGTERM");
        const { code } = await nginx.status;
        const stderr = await new Response(nginx.stderr).text();
        assert.ok(code === 0 || code === 143, stderr);
      }
      await Promise.allSettled(replicas.map((replica) => replica.server.shutdown()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

// ---- systemd ---------------------------------------------------------------------

/** The unit with its binary replaced by an executable stub in `dir`, written under its own name there. */
async function unitWithStub(dir: string, edit: (text: string) => string = (text) => text): Promise<string> {
  const stub = join(dir, "bus-api-provider-auth");
  await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const text = (await Deno.readTextFile(UNIT)).replaceAll("/usr/local/bin/bus-api-provider-auth", stub);
  const path = join(dir, "bus-api-provider-auth.service");
  await Deno.writeTextFile(path, edit(text));
  return path;
}

async function analyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("systemd-analyze", { args, stdout: "piped", stderr: "piped" }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test({
  name: "systemd: the unit passes systemd-analyze verify without a warning, and a misspelt value does not",
  ignore: noSystemd !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-systemd-" });
    try {
      const good = await analyze(["verify", await unitWithStub(dir)]);
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stderr, "", "verify warns about nothing");
      // verify exits 0 on a value it ignores: the empty stderr above is the real check.
      const bad = await analyze([
        "verify",
        await unitWithStub(dir, (text) => text.replace("ProtectHome=yes", "ProtectHome=yess")),
      ]);
      assert.match(bad.stderr, /Failed to parse protect home value/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "systemd: the unit's exposure (systemd-analyze security --offline) stays at 2.0 or below",
  ignore: noSystemd !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-systemd-" });
    try {
      await unitWithStub(dir);
      const output = await new Deno.Command("systemd-analyze", {
        args: ["security", "--offline=true", "--threshold=20", "--no-pager", "bus-api-provider-auth.service"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const level = /Overall exposure level for bus-api-provider-auth\.service: ([0-9.]+)/.exec(stdout);
      assert.ok(level, stdout);
      assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]}:\n${stdout}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** `Key=value` lines of a unit's [Service] section, in order. */
function serviceSettings(text: string): [string, string][] {
  const section = text.split(/^\[Service\]$/m)[1].split(/^\[/m)[0];
  return section.split("\n").filter((line) => /^[A-Za-z]+=/.test(line)).map((line) => {
    const at = line.indexOf("=");
    return [line.slice(0, at), line.slice(at + 1)];
  });
}

Deno.test("systemd: the unit is hardened as designed, writes only /var/lib/bus-auth, and hands every secret over as a credential", async () => {
  const settings = serviceSettings(await Deno.readTextFile(UNIT));
  const value = (key: string) => settings.filter(([name]) => name === key).map(([, text]) => text);
  const expected: Record<string, string> = {
    DynamicUser: "yes",
    StateDirectory: "bus-auth",
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    PrivateDevices: "yes",
    RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
    SystemCallArchitectures: "native",
    CapabilityBoundingSet: "",
    Restart: "on-failure",
    EnvironmentFile: "/etc/bus-auth/bus-api-provider-auth.env",
    ExecStart: "/usr/local/bin/bus-api-provider-auth serve",
    ExecStartPre: "/usr/local/bin/bus-api-provider-auth config",
  };
  for (const [key, text] of Object.entries(expected)) assert.deepEqual(value(key), [text], key);
  assert.match(value("SystemCallFilter")[0], /^@system-service( |$)/);
  assert.deepEqual(value("MemoryDenyWriteExecute"), [], "V8's JIT needs writable-then-executable memory");
  assert.deepEqual(value("ReadWritePaths"), [], "nothing writable but the state folder");
  const credentials = new Set(value("LoadCredential"));
  const secrets = PROVIDER_VARIABLES.filter((variable) => variable.secret).map((variable) => variable.name);
  assert.equal(secrets.length, 4);
  for (const name of secrets) {
    const file = value("Environment").find((text) => text.startsWith(`${name}_FILE=`));
    const credential = /^[A-Z0-9_]+_FILE=%d\/([a-z0-9-]+)$/.exec(file ?? "")?.[1];
    assert.ok(credential !== undefined, `${name}_FILE names a credential`);
    assert.ok(credentials.has(credential), `LoadCredential=${credential}`);
  }
});

/** The variables of an EnvironmentFile (KEY=value, optional double quotes, # comments). */
function environmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
  }
  return env;
}

Deno.test("systemd: the example environment with the unit's credentials is a valid configuration, on PostgreSQL and on SQLite", async () => {
  const credentials = await Deno.makeTempDir({ prefix: "bus-credentials-" });
  try {
    const secrets: Record<string, string> = {
      "bus-auth-hs256": "base64:" + btoa(Array.from({ length: 48 }, (_, i) => String.fromCharCode(33 + i)).join("")),
      "bus-auth-internal-key": "an-internal-key-of-32-bytes-0123",
      "bus-auth-postgres-dsn": "postgres://bus_auth:pw@postgres.example.internal:5432/bus_auth?sslmode=require",
      "bus-auth-smtp-password": "smtp-password",
    };
    for (const [name, text] of Object.entries(secrets)) {
      await Deno.writeTextFile(join(credentials, name), text, { mode: 0o400 });
    }
    const settings = serviceSettings(await Deno.readTextFile(UNIT));
    const unitEnv = environmentFile(
      settings.filter(([key]) => key === "Environment").map(([, text]) => text.replaceAll("%d", credentials)).join(
        "\n",
      ),
    );
    const example = await Deno.readTextFile(ENV_EXAMPLE);
    // EnvironmentFile= settings override Environment= ones, as systemd applies them.
    const postgres = { ...unitEnv, ...environmentFile(example) };
    const onPostgres = await runProgram("bus-api-provider-auth", ["config"], { env: postgres });
    assert.equal(onPostgres.code, 0, onPostgres.stderr);
    assert.equal(onPostgres.stderr, "", "no warning: every variable is known, every file private");
    assert.match(onPostgres.stdout, /^BUS_AUTH_POSTGRES_DSN=postgres:\/\/bus_auth:\*\*\*@postgres\.example\.internal/m);
    assert.match(onPostgres.stdout, /^BUS_AUTH_SMTP_PASSWORD=\(set, 13 bytes, hidden\)$/m);

    const sqlite = {
      ...unitEnv,
      ...environmentFile(example.replace(/^#(BUS_AUTH_POSTGRES_DSN_FILE=|BUS_AUTH_STORE_PATH=)/gm, "$1")),
    };
    const onSqlite = await runProgram("bus-api-provider-auth", ["config"], { env: sqlite });
    assert.equal(onSqlite.code, 0, onSqlite.stderr);
    assert.match(onSqlite.stdout, /^BUS_AUTH_STORE_PATH=\/var\/lib\/bus-auth\/bus-auth\.sqlite$/m);
  } finally {
    await Deno.remove(credentials, { recursive: true });
  }
});
