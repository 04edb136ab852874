/**
 * `bus-api-provider-auth` as a program: help, version, configuration
 * errors, `config`, `migrate`, and the development mode of `deno task dev`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fakePeer, refuseTls } from "./helpers/fake_postgres_peer.ts";
import { runProgram, startProvider } from "./helpers/provider_process.ts";
import { assertSnapshot } from "./helpers/snapshot.ts";

const PROGRAM = "bus-api-provider-auth";
const SECRET = "cli-test-signing-secret-of-32-bytes-min";

Deno.test("bus-api-provider-auth --help prints the Git-style sections (snapshot)", async () => {
  const result = await runProgram(PROGRAM, ["--help"]);
  assert.equal(result.code, 0);
  for (
    const section of ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"]
  ) {
    assert.match(result.stdout, new RegExp(`^${section}$`, "m"));
  }
  await assertSnapshot("bus-api-provider-auth.help", result.stdout);
});

Deno.test("bus-api-provider-auth --help lists every provider variable", async () => {
  const { PROVIDER_VARIABLES } = await import("../lib/config/variables.ts");
  const { stdout } = await runProgram(PROGRAM, ["-h"]);
  for (const variable of PROVIDER_VARIABLES) assert.ok(stdout.includes(`    ${variable.name}\n`), variable.name);
  // Each whole-number variable shows its allowed range in its own entry, and no other entry shows one.
  const entries = stdout.split(/\n(?= {4}BUS_AUTH_)/).map((entry) => entry.replace(/\s+/g, " ").trim());
  for (const variable of PROVIDER_VARIABLES) {
    const entry = entries.find((text) => text.startsWith(`${variable.name} `));
    const range = variable.range === undefined ? undefined : `Range: ${variable.range[0]} to ${variable.range[1]}.`;
    if (range === undefined) assert.ok(!entry?.includes("Range:"), variable.name);
    else assert.ok(entry?.includes(range), `${variable.name}: ${entry}`);
  }
});

Deno.test("bus-api-provider-auth --version prints the version", async () => {
  const result = await runProgram(PROGRAM, ["--version"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^bus-api-provider-auth [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{12}|unknown)\)\n$/);
});

Deno.test("bus-api-provider-auth refuses unknown commands and flags with exit 2 and the synopsis", async () => {
  for (const args of [["launch"], ["--port", "80"], ["config", "--listen", "127.0.0.1:1"], ["serve", "--print-sql"]]) {
    const result = await runProgram(PROGRAM, args, { env: { BUS_AUTH_HS256_SECRET: SECRET } });
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /usage: bus-api-provider-auth/);
    assert.equal(result.stdout, "");
  }
});

Deno.test("bus-api-provider-auth help [COMMAND] prints the same help as --help", async () => {
  const expected = (await runProgram(PROGRAM, ["--help"])).stdout;
  const runs = [["help"], ["help", "serve"], ["help", "migrate"], ["help", "config"], ["help", "healthcheck"], [
    "help",
    "help",
  ], [
    "serve",
    "-h",
  ]];
  const results = await Promise.all(runs.map((args) => runProgram(PROGRAM, args)));
  for (const [index, result] of results.entries()) {
    const args = runs[index].join(" ");
    assert.equal(result.code, 0, `${args}: ${result.stderr}`);
    assert.equal(result.stderr, "", args);
    assert.equal(result.stdout, expected, args);
  }
  assert.match(expected, /^ {4}help \[COMMAND\]$/m);
});

Deno.test("bus-api-provider-auth answers a mistyped command or option with the nearest known one, exit 2", async () => {
  const cases: [string[], string][] = [
    [["serv"], 'unknown command "serv"; did you mean "serve"?'],
    [["migrat", "--print-sql"], 'unknown command "migrat"; did you mean "migrate"?'],
    [["cofnig"], 'unknown command "cofnig"; did you mean "config"?'],
    [["hlep"], 'unknown command "hlep"; did you mean "help"?'],
    [["help", "serv"], 'unknown command "serv"; did you mean "serve"?'],
    [["launch"], 'unknown command "launch"'],
    [["help", "launch"], 'unknown command "launch"'],
    [["--lisen", "127.0.0.1:1"], 'unknown option "--lisen"; did you mean "--listen"?'],
    [["migrate", "--print-sq"], 'unknown option "--print-sq"; did you mean "--print-sql"?'],
    [["--verison"], 'unknown option "--verison"; did you mean "--version"?'],
    [["-x"], 'unknown option "-x"'],
    [["serve", "extra"], 'unexpected argument "extra"'],
    [["help", "config", "extra"], 'unexpected argument "extra"'],
  ];
  const results = await Promise.all(
    cases.map(([args]) => runProgram(PROGRAM, args, { env: { BUS_AUTH_HS256_SECRET: SECRET } })),
  );
  for (const [index, result] of results.entries()) {
    const [args, problem] = cases[index];
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stderr.split("\n")[0], `bus-api-provider-auth: ${problem}`, args.join(" "));
    assert.match(result.stderr, /usage: bus-api-provider-auth/);
    assert.equal(result.stdout, "", args.join(" "));
  }
});

Deno.test("serve refuses an invalid configuration with exit 2, one line per problem, no secret values", async () => {
  const result = await runProgram(PROGRAM, ["serve"], {
    env: {
      BUS_AUTH_HS256_SECRET: "too-short-secret",
      BUS_AUTH_POSTGRES_DSN: "postgres://bus_auth:hunter2@db/auth",
      BUS_AUTH_STORE_PATH: "/tmp/x.sqlite",
      BUS_AUTH_OTP_SENDER: "smtp",
    },
  });
  assert.equal(result.code, 2);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines[0], "bus-api-provider-auth: invalid configuration:");
  assert.equal(lines.length, 5, result.stderr);
  assert.ok(!result.stderr.includes("too-short-secret") && !result.stderr.includes("hunter2"));
});

Deno.test("serve without BUS_AUTH_HS256_SECRET refuses to start instead of using a default", async () => {
  const result = await runProgram(PROGRAM, ["serve", "--listen", "127.0.0.1:0"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /BUS_AUTH_HS256_SECRET is required/);
});

Deno.test("config prints the effective configuration with secrets hidden and the DSN masked", async () => {
  const result = await runProgram(PROGRAM, ["config"], {
    env: {
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_INTERNAL_SHARED_KEY: "internal-key-0123456789",
      BUS_AUTH_POSTGRES_DSN: "postgres://bus_auth:hunter2@db.example.internal:5432/auth?sslmode=require",
      BUS_AUTH_OTP_SENDER: "smtp",
      BUS_AUTH_SMTP_HOST: "smtp.example.internal",
      BUS_AUTH_SMTP_FROM: "auth@example.test",
      BUS_AUTH_SMTP_USERNAME: "bus-auth",
      BUS_AUTH_SMTP_PASSWORD: "smtp-password-value",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^BUS_AUTH_HS256_SECRET=\(set, 39 bytes, hidden\)$/m);
  assert.match(
    result.stdout,
    /^BUS_AUTH_POSTGRES_DSN=postgres:\/\/bus_auth:\*\*\*@db\.example\.internal:5432\/auth\?sslmode=require$/m,
  );
  assert.match(result.stdout, /^BUS_AUTH_SMTP_PASSWORD=\(set, 19 bytes, hidden\)$/m);
  assert.match(result.stdout, /^BUS_AUTH_OTP_MAX_ATTEMPTS=5$/m);
  for (const secret of [SECRET, "internal-key-0123456789", "hunter2", "smtp-password-value"]) {
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  }
  const invalid = await runProgram(PROGRAM, ["config"], {
    env: { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_OTP_TTL_SECONDS: "0" },
  });
  assert.equal(invalid.code, 2);
});

Deno.test("migrate applies the SQLite schema once, then reports it up to date", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_STORE_PATH: join(dir, "auth.sqlite") };
    const first = await runProgram(PROGRAM, ["migrate"], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Applied migrations 1, 2, 3, 4, 5, 6 to sqlite /);
    const second = await runProgram(PROGRAM, ["migrate"], { env });
    assert.match(second.stdout, /is up to date\.$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrate --print-sql prints the PostgreSQL DDL without needing any configuration", async () => {
  const result = await runProgram(PROGRAM, ["migrate", "--print-sql"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /CREATE TABLE bus_auth_users/);
  assert.match(result.stdout, /pg_advisory_xact_lock/);
  assert.match(result.stdout, /^COMMIT;$/m);
});

Deno.test("serve exits 1 with a clear line when the port is taken", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const result = await runProgram(
      PROGRAM,
      ["serve", "--listen", `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`],
      {
        env: { BUS_AUTH_HS256_SECRET: SECRET },
      },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot listen on 127\.0\.0\.1:/);
  } finally {
    listener.close();
  }
});

Deno.test({
  name: "migrate and serve say libpq's reason when sslmode=require meets a server without TLS",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const server = await fakePeer(refuseTls);
    const dsn = `postgres://bus_auth:hunter2-password@127.0.0.1:${server.port}/bus_auth?sslmode=require`;
    const env = {
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_POSTGRES_DSN: dsn,
      BUS_AUTH_POSTGRES_CONNECT_TIMEOUT_SECONDS: "2",
    };
    try {
      const migrate = await runProgram(PROGRAM, ["migrate"], { env });
      assert.equal(migrate.code, 1, migrate.stderr);
      assert.match(
        migrate.stderr,
        /^bus-api-provider-auth: cannot migrate postgres .*: Cannot open the PostgreSQL store: server does not support SSL, but SSL was required\n$/,
      );
      const serve = await runProgram(PROGRAM, ["serve", "--listen", "127.0.0.1:0"], { env });
      assert.equal(serve.code, 1, serve.stderr);
      const line = serve.stderr.split("\n").find((text) => text.includes("cannot open the store"));
      assert.ok(line, serve.stderr);
      assert.equal(
        JSON.parse(line).detail,
        "Cannot open the PostgreSQL store: server does not support SSL, but SSL was required",
      );
      assert.ok(!(migrate.stderr + serve.stderr).includes("hunter2-password"), "no password in any message");
    } finally {
      server.close();
    }
  },
});

Deno.test("--dev refuses to listen beyond loopback, and points containers to --dev-in-container", async () => {
  const result = await runProgram(PROGRAM, ["serve", "--dev", "--listen", "0.0.0.0:0"]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /only listens on loopback, not "0\.0\.0\.0" \(in a container .* use --dev-in-container\)/,
  );
});

Deno.test("--dev-in-container serves the development defaults on all of a container's addresses", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-dev-container-" });
  const provider = await startProvider({}, ["--dev-in-container", "--listen", "0.0.0.0:0"], { cwd: dir });
  try {
    const port = new URL(provider.url.replace("0.0.0.0", "127.0.0.1")).port;
    const health = await fetch(`http://127.0.0.1:${port}/local-dev/v1/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.ok(provider.stderr.some((line) => line.includes("development defaults in use")));
  } finally {
    await provider.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without --dev the published development secrets stop serve and config with exit 2 and one clear line", async () => {
  const env = {
    BUS_AUTH_HS256_SECRET: "not-a-secret-local-development-hs256-key",
    BUS_AUTH_INTERNAL_SHARED_KEY: "not-a-secret-local-development-internal-key",
  };
  for (const command of [["serve", "--listen", "127.0.0.1:0"], ["config"]]) {
    const result = await runProgram(PROGRAM, command, { env });
    assert.equal(result.code, 2, command.join(" "));
    assert.equal(
      result.stderr,
      "bus-api-provider-auth: invalid configuration:\n" +
        "  BUS_AUTH_HS256_SECRET: refused: it is the published development value, which is refused without --dev\n" +
        "  BUS_AUTH_INTERNAL_SHARED_KEY: refused: it is the published development value, which is refused without --dev\n",
    );
  }
  const weak = await runProgram(PROGRAM, ["config"], { env: { BUS_AUTH_HS256_SECRET: "a".repeat(64) } });
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /BUS_AUTH_HS256_SECRET: refused: it has only 1 distinct byte value/);
});

Deno.test({
  name: "serve --dev answers the spec's local curl lines verbatim and keeps state in ./local (0700)",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const provider = await startProvider({}, ["--dev"], { cwd: dir });
    try {
      assert.ok(provider.stderr.some((line) => line.includes("development defaults in use")));
      const health = await fetch(`${provider.url}/local-dev/v1/healthz`);
      assert.equal((await health.json()).ok, true);
      const minted = await fetch(`${provider.url}/local-dev/v1/api/internal/auth/token`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Bus-Internal-Key": "not-a-secret-local-development-internal-key",
        },
        body: JSON.stringify({ subject: "admin-user", scope: "waitlist:read waitlist:approve admin:manage" }),
      });
      assert.equal(minted.status, 200);
      const { access_token } = await minted.json();
      const waitlist = await fetch(`${provider.url}/local-dev/v1/modules/auth/admin/waitlist`, {
        headers: { Authorization: `Bearer ${access_token}` },
      });
      assert.equal(waitlist.status, 200);
      await waitlist.body?.cancel();
      await fetch(`${provider.url}/local-dev/v1/modules/auth/register`, {
        method: "POST",
        body: JSON.stringify({ email: "user@example.com" }),
      }).then((r) => r.body?.cancel());
      await fetch(`${provider.url}/local-dev/v1/modules/auth/otp/request`, {
        method: "POST",
        body: JSON.stringify({ email: "user@example.com" }),
      }).then((r) => r.body?.cancel());
      assert.match(await provider.waitForOtp("user@example.com"), /^[0-9]{6}$/);
      assert.equal((await Deno.stat(join(dir, "local"))).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(join(dir, "local", "bus-auth.sqlite"))).mode! & 0o777, 0o600);
    } finally {
      await provider.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A loopback port that nothing listens on (bound, then closed). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test({
  name: "healthcheck exits 0 against a running provider, with no secret or other configuration",
  sanitizeResources: false,
  fn: async () => {
    const provider = await startProvider({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_ROUTE_PREFIX: "/local-dev/v1" });
    try {
      const { host } = new URL(provider.url);
      // The address BUS_AUTH_LISTEN names, and an explicit URL (also under the route prefix).
      const byListen = await runProgram(PROGRAM, ["healthcheck"], { env: { BUS_AUTH_LISTEN: host } });
      assert.equal(byListen.code, 0, byListen.stderr);
      assert.equal(byListen.stdout, `healthy: ${provider.url}/healthz\n`);
      assert.equal(byListen.stderr, "");
      const url = `${provider.url}/local-dev/v1/healthz`;
      const byUrl = await runProgram(PROGRAM, ["healthcheck", "--url", url, "--timeout", "5s"]);
      assert.equal(byUrl.code, 0, byUrl.stderr);
      assert.equal(byUrl.stdout, `healthy: ${url}\n`);
    } finally {
      await provider.stop();
    }
  },
});

Deno.test("healthcheck asks a wildcard listen address on loopback and says connection refused, exit 1", async () => {
  const port = closedPort();
  for (
    const [listen, url] of [[`0.0.0.0:${port}`, `http://127.0.0.1:${port}/healthz`], [
      `[::]:${port}`,
      `http://[::1]:${port}/healthz`,
    ]]
  ) {
    const result = await runProgram(PROGRAM, ["healthcheck"], { env: { BUS_AUTH_LISTEN: listen } });
    assert.equal(result.code, 1, listen);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `bus-api-provider-auth: unhealthy: ${url}: connection refused (nothing listens there)\n`,
    );
  }
});

Deno.test("healthcheck reports a 503 store_unavailable, a non-JSON answer and a silent server in one line, exit 1", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/down/healthz") {
      return Response.json({ ok: false, store: "postgres", error: "store_unavailable" }, { status: 503 });
    }
    if (path === "/html/healthz") return new Response("<html>ok</html>", { headers: { "Content-Type": "text/html" } });
    return Response.json({ ok: false });
  });
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const silentUrl = `http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/healthz`;
    const cases: [string[], string][] = [
      [["--url", `${base}/down/healthz`], "HTTP 503 store_unavailable"],
      [["--url", `${base}/html/healthz`], "HTTP 200 but not JSON"],
      [["--url", `${base}/healthz`], 'HTTP 200 without "ok":true'],
      [["--url", silentUrl, "--timeout", "1"], "no answer within 1 s (timeout)"],
    ];
    const results = await Promise.all(cases.map(([args]) => runProgram(PROGRAM, ["healthcheck", ...args])));
    for (const [index, result] of results.entries()) {
      const [args, reason] = cases[index];
      assert.equal(result.code, 1, args.join(" "));
      assert.equal(result.stderr, `bus-api-provider-auth: unhealthy: ${args[1]}: ${reason}\n`);
    }
  } finally {
    silent.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
    await server.shutdown();
  }
});

Deno.test("healthcheck refuses a bad --url, --timeout or BUS_AUTH_LISTEN with exit 2, and its options elsewhere", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["healthcheck", "--url", "ftp://example.test/healthz"], {}, /--url: expected an http:\/\/ or https:\/\/ URL/],
    [["healthcheck", "--timeout", "soon"], {}, /--timeout: Cannot parse duration "soon"/],
    [["healthcheck"], { BUS_AUTH_LISTEN: "nonsense" }, /cannot tell the health URL from BUS_AUTH_LISTEN="nonsense"/],
    [["healthcheck"], { BUS_AUTH_LISTEN: "127.0.0.1:0" }, /give --url/],
    [["config", "--url", "http://127.0.0.1:8080/healthz"], {}, /--url only goes with healthcheck/],
    [["serve", "--timeout", "3s"], {}, /--timeout only goes with healthcheck/],
  ];
  for (const [args, env, message] of cases) {
    const result = await runProgram(PROGRAM, args, { env });
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, message);
    assert.match(result.stderr, /usage: bus-api-provider-auth/);
  }
});

Deno.test("healthcheck --url refuses a URL with credentials without showing the password", async () => {
  const result = await runProgram(PROGRAM, ["healthcheck", "--url", "http://ops:hunter2-pw@127.0.0.1:1/healthz"]);
  assert.equal(result.code, 2);
  assert.ok(!result.stderr.includes("hunter2-pw"), result.stderr);
  assert.match(result.stderr, /--url: "http:\/\/\*\*\*@127\.0\.0\.1:1\/healthz" carries a user name or password/);
});
