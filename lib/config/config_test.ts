import assert from "node:assert/strict";
import { type Config, ConfigError, DEV_DEFAULTS, loadConfig, maskDsn } from "./config.ts";
import { PROVIDER_VARIABLES } from "./variables.ts";

const SECRET = "a-deployment-secret-of-32-bytes-or-more";
const noFiles = { readFile: () => Deno.readTextFileSync("/nonexistent"), fileMode: () => null };

function problemsOf(env: Record<string, string>, options = {}): string[] {
  try {
    loadConfig(env, { ...noFiles, ...options });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

Deno.test("loadConfig() applies the defaults of DESIGN §5", () => {
  const config = loadConfig({ BUS_AUTH_HS256_SECRET: SECRET }, noFiles);
  assert.deepEqual(config.listen, { hostname: "127.0.0.1", port: 8080 });
  assert.equal(config.routePrefix, null);
  assert.deepEqual(config.store, { kind: "memory" });
  assert.deepEqual(config.sender, { kind: "memory" });
  assert.equal(config.internalKey, null);
  assert.equal(config.maxBodyBytes, 65536);
  assert.equal(config.policy.otpTtlSeconds, 600);
  assert.equal(config.policy.otpMaxAttempts, 5);
  assert.equal(config.policy.otpResendSeconds, 60);
  assert.equal(config.policy.rateLimitPerIp, 30);
  assert.equal(config.policy.rateLimitWindowSeconds, 300);
  assert.equal(config.policy.sessionTtlSeconds, 3600);
  assert.equal(config.policy.sessionRefresh, true);
  assert.equal(config.policy.sessionMaxSeconds, 2592000);
  assert.equal(config.policy.apiTokenMaxTtlSeconds, 3600);
  assert.equal(config.policy.internalTokenTtlSeconds, 600);
  assert.equal(config.policy.issuer, "bus-api-provider-auth");
  assert.ok(Object.isFrozen(config));
});

Deno.test("loadConfig() requires BUS_AUTH_HS256_SECRET outside dev, never defaulting it silently", () => {
  assert.deepEqual(problemsOf({}), [
    "BUS_AUTH_HS256_SECRET is required: set it (or BUS_AUTH_HS256_SECRET_FILE) to a secret of 32+ bytes",
  ]);
});

Deno.test("loadConfig() reads base64: secrets and enforces 32 bytes without echoing the value", () => {
  const config = loadConfig({ BUS_AUTH_HS256_SECRET: `base64:${btoa("0123456789abcdefghijklmnopqrstuv")}` }, noFiles);
  assert.equal(config.signingKey.length, 32);
  const problems = problemsOf({ BUS_AUTH_HS256_SECRET: "short-secret-value" });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /too short \(18 bytes\)/);
  assert.ok(!problems[0].includes("short-secret-value"));
  assert.match(problemsOf({ BUS_AUTH_HS256_SECRET: "base64:%%%" })[0], /not valid base64/);
});

Deno.test("loadConfig() reports every problem at once", () => {
  const problems = problemsOf({
    BUS_AUTH_LISTEN: "nowhere",
    BUS_AUTH_OTP_TTL_SECONDS: "3600",
    BUS_AUTH_SESSION_REFRESH: "maybe",
    BUS_AUTH_OTP_SENDER: "pigeon",
    BUS_AUTH_API_USER_SCOPES: "llm:proxy admin:manage waitlist:approve",
    BUS_AUTH_TRUSTED_PROXIES: "10.0.0.0/8, not-an-ip",
    BUS_AUTH_ROUTE_PREFIX: "no-slash",
    BUS_AUTH_STORE_PATH: "/tmp/a.sqlite",
    BUS_AUTH_POSTGRES_DSN: "postgres://u:hunter2@db/auth",
  });
  assert.equal(problems.length, 9, problems.join("\n"));
  assert.ok(problems.some((p) => p.startsWith("BUS_AUTH_HS256_SECRET is required")));
  assert.ok(problems.some((p) => p.includes('"admin:manage waitlist:approve" grant operator')));
  assert.ok(problems.some((p) => p.includes("both set: choose one store")));
  assert.ok(!problems.join("\n").includes("hunter2"));
});

Deno.test("loadConfig() reads _FILE secrets, strips one trailing newline, refuses both forms", () => {
  const files: Record<string, string> = {
    "/run/secrets/hs": `${SECRET}\n`,
    "/run/secrets/key": "internal-key-0123456789\n",
  };
  const options = { readFile: (path: string) => files[path], fileMode: () => 0o600 };
  const config = loadConfig({
    BUS_AUTH_HS256_SECRET_FILE: "/run/secrets/hs",
    BUS_AUTH_INTERNAL_SHARED_KEY_FILE: "/run/secrets/key",
  }, options);
  assert.equal(new TextDecoder().decode(config.signingKey), SECRET);
  assert.equal(new TextDecoder().decode(config.internalKey!), "internal-key-0123456789");
  assert.deepEqual(config.warnings, []);
  assert.match(
    problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_HS256_SECRET_FILE: "/run/secrets/hs" }, options)[0],
    /both set/,
  );
  assert.match(problemsOf({ BUS_AUTH_HS256_SECRET_FILE: "/missing" })[0], /cannot read "\/missing"/);
});

Deno.test("loadConfig() warns about secret files readable by others and unknown variables", () => {
  const config = loadConfig({ BUS_AUTH_HS256_SECRET_FILE: "/s", BUS_AUTH_SMTP_HOSTNAME: "x", BUS_AUTH_API_URL: "y" }, {
    readFile: () => SECRET,
    fileMode: () => 0o644,
  });
  assert.equal(config.warnings.length, 2);
  assert.match(config.warnings[0], /readable by group or others \(mode 0644\)/);
  assert.match(config.warnings[1], /BUS_AUTH_SMTP_HOSTNAME is not a known variable/);
});

Deno.test("loadConfig() requires SMTP host and from with the smtp sender", () => {
  const problems = problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_OTP_SENDER: "smtp" });
  assert.deepEqual(problems, [
    "BUS_AUTH_SMTP_HOST is required with BUS_AUTH_OTP_SENDER=smtp",
    "BUS_AUTH_SMTP_FROM is required with BUS_AUTH_OTP_SENDER=smtp",
  ]);
  const config = loadConfig({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_OTP_SENDER: "smtp",
    BUS_AUTH_SMTP_HOST: "smtp.example.internal",
    BUS_AUTH_SMTP_FROM: "auth@example.test",
    BUS_AUTH_SMTP_USERNAME: "bus-auth",
    BUS_AUTH_SMTP_PASSWORD: "pw",
  }, noFiles);
  assert.deepEqual(config.sender, {
    kind: "smtp",
    host: "smtp.example.internal",
    port: 587,
    tls: "auto",
    from: "auth@example.test",
    username: "bus-auth",
    password: "pw",
  });
});

Deno.test("loadConfig() with dev fills only unset variables with the announced development defaults", () => {
  const config = loadConfig({ BUS_AUTH_OTP_SENDER: "memory" }, { ...noFiles, dev: true });
  assert.equal(new TextDecoder().decode(config.signingKey), DEV_DEFAULTS.BUS_AUTH_HS256_SECRET);
  assert.equal(new TextDecoder().decode(config.internalKey!), DEV_DEFAULTS.BUS_AUTH_INTERNAL_SHARED_KEY);
  assert.deepEqual(config.store, { kind: "sqlite", path: "./local/bus-auth.sqlite", synchronous: "NORMAL" });
  assert.deepEqual(config.sender, { kind: "memory" });
  assert.equal(config.routePrefix, "/local-dev/v1");
  assert.deepEqual(config.devDefaults, [
    "BUS_AUTH_HS256_SECRET",
    "BUS_AUTH_INTERNAL_SHARED_KEY",
    "BUS_AUTH_STORE_PATH",
    "BUS_AUTH_ROUTE_PREFIX",
    "BUS_AUTH_API_USER_SCOPES",
  ]);
  assert.ok(config.policy.apiUserScopes.includes("container:delete"));
  const pg = loadConfig({ BUS_AUTH_POSTGRES_DSN: "postgres://u@db/auth" }, { ...noFiles, dev: true });
  assert.equal(pg.store.kind, "postgres");
});

Deno.test("loadConfig() reads listen addresses, including IPv6 and the command-line override", () => {
  const base = { BUS_AUTH_HS256_SECRET: SECRET };
  assert.deepEqual(loadConfig({ ...base, BUS_AUTH_LISTEN: "[::1]:9000" }, noFiles).listen, {
    hostname: "::1",
    port: 9000,
  });
  assert.deepEqual(
    loadConfig({ ...base, BUS_AUTH_LISTEN: "0.0.0.0:1" }, { ...noFiles, listen: "127.0.0.1:0" }).listen,
    {
      hostname: "127.0.0.1",
      port: 0,
    },
  );
  assert.equal(problemsOf({ ...base, BUS_AUTH_LISTEN: "127.0.0.1:99999" }).length, 1);
});

Deno.test("loadConfig() refuses an unknown sslmode in the DSN without showing the DSN", () => {
  const problems = problemsOf({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_POSTGRES_DSN: "postgres://u:hunter2@db/auth?sslmode=strict",
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /unknown sslmode "strict"/);
  assert.ok(!problems[0].includes("hunter2"));
  const ok = loadConfig({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_POSTGRES_DSN: "postgres://u@db/auth?sslmode=verify-full",
  }, noFiles);
  assert.equal(ok.store.kind, "postgres");
});

Deno.test("loadConfig() reads BUS_AUTH_POSTGRES_CACHE: on by default, off, anything else a problem", () => {
  const base = { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_POSTGRES_DSN: "postgres://u@db/auth" };
  const cacheOf = (env: Record<string, string>) => {
    const { store } = loadConfig({ ...base, ...env }, noFiles);
    return store.kind === "postgres" ? store.cache : null;
  };
  assert.equal(cacheOf({}), true);
  assert.equal(cacheOf({ BUS_AUTH_POSTGRES_CACHE: "off" }), false);
  assert.equal(cacheOf({ BUS_AUTH_POSTGRES_CACHE: "ON" }), true);
  assert.deepEqual(problemsOf({ ...base, BUS_AUTH_POSTGRES_CACHE: "maybe" }), [
    'BUS_AUTH_POSTGRES_CACHE: expected one of on, off, got "maybe"',
  ]);
});

Deno.test("maskDsn() hides the password and secret parameters", () => {
  assert.equal(
    maskDsn("postgres://u:hunter2@db:5432/auth?sslmode=require"),
    "postgres://u:***@db:5432/auth?sslmode=require",
  );
  assert.equal(maskDsn("postgres://db/auth?password=hunter2"), "postgres://db/auth?password=***");
  assert.ok(!maskDsn("not a url hunter2").includes("hunter2"));
});

/** Every whole-number variable: its documented range and where its value lands. */
const RANGES: [name: string, min: number, max: number, value: (config: Config) => number][] = [
  ["BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS", 60, 2_592_000, (c) => c.policy.internalTokenTtlSeconds],
  ["BUS_AUTH_POSTGRES_POOL_MAX", 1, 1000, (c) => c.store.kind === "postgres" ? c.store.poolMax : NaN],
  [
    "BUS_AUTH_POSTGRES_CONNECT_TIMEOUT_SECONDS",
    1,
    300,
    (c) => c.store.kind === "postgres" ? c.store.connectTimeoutSeconds : NaN,
  ],
  [
    "BUS_AUTH_POSTGRES_STATEMENT_TIMEOUT_SECONDS",
    1,
    3600,
    (c) => c.store.kind === "postgres" ? c.store.statementTimeoutSeconds : NaN,
  ],
  ["BUS_AUTH_CACHE_ENTRIES", 100, 1_000_000, (c) => c.cacheEntries],
  ["BUS_AUTH_SMTP_PORT", 1, 65535, (c) => c.sender.kind === "smtp" ? c.sender.port : NaN],
  ["BUS_AUTH_OTP_TTL_SECONDS", 30, 600, (c) => c.policy.otpTtlSeconds],
  ["BUS_AUTH_OTP_MAX_ATTEMPTS", 1, 20, (c) => c.policy.otpMaxAttempts],
  ["BUS_AUTH_OTP_MAX_FAILURES_PER_DAY", 1, 1000, (c) => c.policy.otpMaxFailuresPerDay],
  ["BUS_AUTH_OTP_RESEND_SECONDS", 0, 3600, (c) => c.policy.otpResendSeconds],
  ["BUS_AUTH_RATE_LIMIT_PER_IP", 0, 1_000_000, (c) => c.policy.rateLimitPerIp],
  ["BUS_AUTH_RATE_LIMIT_WINDOW_SECONDS", 1, 86400, (c) => c.policy.rateLimitWindowSeconds],
  ["BUS_AUTH_SESSION_TTL_SECONDS", 60, 86400, (c) => c.policy.sessionTtlSeconds],
  ["BUS_AUTH_SESSION_MAX_SECONDS", 60, 31_536_000, (c) => c.policy.sessionMaxSeconds],
  ["BUS_AUTH_API_TOKEN_MAX_TTL_SECONDS", 60, 86400, (c) => c.policy.apiTokenMaxTtlSeconds],
  ["BUS_AUTH_MAX_BODY_BYTES", 1024, 10_485_760, (c) => c.maxBodyBytes],
  ["BUS_AUTH_HEADER_TIMEOUT_SECONDS", 1, 300, (c) => c.headerTimeoutSeconds],
  ["BUS_AUTH_BODY_TIMEOUT_SECONDS", 1, 600, (c) => c.bodyTimeoutSeconds],
  ["BUS_AUTH_AUDIT_RETENTION_DAYS", 30, 3650, (c) => c.auditRetentionDays],
];

/** A configuration in which every whole-number variable takes effect (PostgreSQL store, SMTP sender). */
const FULL = {
  BUS_AUTH_HS256_SECRET: SECRET,
  BUS_AUTH_POSTGRES_DSN: "postgres://u@db/auth",
  BUS_AUTH_OTP_SENDER: "smtp",
  BUS_AUTH_SMTP_HOST: "smtp.example.internal",
  BUS_AUTH_SMTP_FROM: "auth@example.test",
};

Deno.test("every whole-number variable has the documented range in the variable table", () => {
  const numeric = PROVIDER_VARIABLES.filter((variable) => variable.range !== undefined);
  assert.deepEqual(
    numeric.map((variable) => [variable.name, ...variable.range!]),
    RANGES.map(([name, min, max]) => [name, min, max]),
  );
  for (const variable of numeric) {
    const [min, max] = variable.range!;
    const fallback = Number(variable.default);
    assert.ok(Number.isInteger(fallback) && fallback >= min && fallback <= max, `${variable.name} default`);
  }
});

Deno.test("loadConfig() accepts every whole-number variable at both ends of its range", async (t) => {
  for (const [name, min, max, value] of RANGES) {
    await t.step(name, () => {
      // The session may not be shorter than one token: keep the pair consistent at the edges.
      const pair = name === "BUS_AUTH_SESSION_MAX_SECONDS" ? { BUS_AUTH_SESSION_TTL_SECONDS: "60" } : {};
      assert.equal(value(loadConfig({ ...FULL, ...pair, [name]: String(min) }, noFiles)), min);
      assert.equal(value(loadConfig({ ...FULL, [name]: String(max) }, noFiles)), max);
    });
  }
});

Deno.test("loadConfig() refuses a value just outside the range, or not a whole number, naming the range", async (t) => {
  for (const [name, min, max] of RANGES) {
    await t.step(name, () => {
      for (const bad of [String(min - 1), String(max + 1), "1.5", "12abc", "0x10"]) {
        assert.deepEqual(problemsOf({ ...FULL, [name]: bad }), [
          `${name}: expected a whole number from ${min} to ${max}, got "${bad}"`,
        ], bad);
      }
    });
  }
});

Deno.test("loadConfig() reports every out-of-range whole number at once", () => {
  const env: Record<string, string> = { ...FULL };
  for (const [name, , max] of RANGES) env[name] = String(max + 1);
  const problems = problemsOf(env);
  assert.equal(problems.length, RANGES.length, problems.join("\n"));
  for (const [name, min, max] of RANGES) {
    assert.ok(problems.includes(`${name}: expected a whole number from ${min} to ${max}, got "${max + 1}"`), name);
  }
});

Deno.test("loadConfig() takes listen ports from 0 to 65535 and refuses 65536", () => {
  const base = { BUS_AUTH_HS256_SECRET: SECRET };
  assert.equal(loadConfig({ ...base, BUS_AUTH_LISTEN: "127.0.0.1:0" }, noFiles).listen.port, 0);
  assert.equal(loadConfig({ ...base, BUS_AUTH_LISTEN: "127.0.0.1:65535" }, noFiles).listen.port, 65535);
  assert.deepEqual(problemsOf({ ...base, BUS_AUTH_LISTEN: "127.0.0.1:65536" }), [
    'BUS_AUTH_LISTEN: expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:8080 or [::1]:8080, got "127.0.0.1:65536"',
  ]);
});

Deno.test("loadConfig() reads the connection timeouts, the per-email guess budget and SQLite durability", () => {
  const defaults = loadConfig({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_STORE_PATH: "/tmp/a.sqlite" }, noFiles);
  assert.deepEqual([defaults.headerTimeoutSeconds, defaults.bodyTimeoutSeconds], [10, 30]);
  assert.equal(defaults.auditRetentionDays, 365);
  assert.equal(defaults.policy.otpMaxFailuresPerDay, 20);
  assert.deepEqual(defaults.store, { kind: "sqlite", path: "/tmp/a.sqlite", synchronous: "NORMAL" });
  const set = loadConfig({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_STORE_PATH: "/tmp/a.sqlite",
    BUS_AUTH_SQLITE_SYNCHRONOUS: "FULL",
    BUS_AUTH_HEADER_TIMEOUT_SECONDS: "5",
    BUS_AUTH_BODY_TIMEOUT_SECONDS: "60",
    BUS_AUTH_OTP_MAX_FAILURES_PER_DAY: "50",
  }, noFiles);
  assert.deepEqual(
    [set.store.kind === "sqlite" && set.store.synchronous, set.headerTimeoutSeconds, set.bodyTimeoutSeconds],
    ["FULL", 5, 60],
  );
  assert.equal(set.policy.otpMaxFailuresPerDay, 50);
  const problems = problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_SQLITE_SYNCHRONOUS: "OFF" });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^BUS_AUTH_SQLITE_SYNCHRONOUS/);
});

Deno.test("loadConfig() refuses the published development secrets without dev, and weak secrets always", () => {
  const dev = { BUS_AUTH_HS256_SECRET: DEV_DEFAULTS.BUS_AUTH_HS256_SECRET };
  const internal = { BUS_AUTH_INTERNAL_SHARED_KEY: DEV_DEFAULTS.BUS_AUTH_INTERNAL_SHARED_KEY };
  assert.deepEqual(problemsOf({ ...dev, ...internal }), [
    "BUS_AUTH_HS256_SECRET: refused: it is the published development value, which is refused without --dev",
    "BUS_AUTH_INTERNAL_SHARED_KEY: refused: it is the published development value, which is refused without --dev",
  ]);
  assert.deepEqual(problemsOf({ ...dev, ...internal }, { dev: true }), []);
  for (
    const [value, reason] of [
      [" ".repeat(40), "it is only whitespace"],
      ["\t \n".repeat(12), "it is only whitespace"],
      ["ab".repeat(20), "it has only 2 distinct byte values"],
      [`base64:${btoa("\0".repeat(40))}`, "it has only 1 distinct byte value"],
    ]
  ) {
    const problems = problemsOf({ BUS_AUTH_HS256_SECRET: value });
    assert.equal(problems.length, 1, JSON.stringify(value));
    assert.ok(problems[0].startsWith(`BUS_AUTH_HS256_SECRET: refused: ${reason}`), problems[0]);
    assert.ok(!problems[0].includes(value.trim() || "\u0000"), "the secret is never echoed");
  }
  assert.match(
    problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_INTERNAL_SHARED_KEY: "1212121212121212" })[0],
    /^BUS_AUTH_INTERNAL_SHARED_KEY: refused: it has only 2 distinct byte values/,
  );
});

Deno.test("loadConfig() reads BUS_AUTH_METRICS_LISTEN: off when unset, never the public listener's port", () => {
  assert.equal(loadConfig({ BUS_AUTH_HS256_SECRET: SECRET }, noFiles).metricsListen, null);
  const config = loadConfig({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_METRICS_LISTEN: "127.0.0.1:9464" }, noFiles);
  assert.deepEqual(config.metricsListen, { hostname: "127.0.0.1", port: 9464 });
  assert.deepEqual(
    problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_METRICS_LISTEN: "9464" }),
    [
      'BUS_AUTH_METRICS_LISTEN: expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:9464, got "9464"',
    ],
  );
  assert.deepEqual(
    problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_METRICS_LISTEN: "0.0.0.0:8080" }),
    [
      'BUS_AUTH_METRICS_LISTEN: "0.0.0.0:8080" takes the port of the public listener: metrics are served on an ' +
      "address of their own",
    ],
  );
  // Port 0 picks a free port for each listener, so both may ask for it.
  const both = loadConfig({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0" }, {
    ...noFiles,
    listen: "127.0.0.1:0",
  });
  assert.deepEqual(both.metricsListen, { hostname: "127.0.0.1", port: 0 });
});

Deno.test("ConfigError carries what could be read, for checks that add problems to the same list", () => {
  try {
    loadConfig(
      { BUS_AUTH_OTP_SENDER: "smtp", BUS_AUTH_SMTP_HOST: "smtp.example", BUS_AUTH_SMTP_FROM: "a@b.example" },
      noFiles,
    );
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.config?.sender.kind, "smtp");
    assert.ok(Object.isFrozen(error.config));
  }
});
