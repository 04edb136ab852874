/**
 * The `bus-api-provider-auth` program: `serve` (default), `migrate`,
 * `config`, `healthcheck`, `audit prune`, `--help`, `--version`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig, maskDsn } from "../lib/config/config.ts";
import { describeSigning } from "../lib/config/signing.ts";
import { EXIT, type Io, type Program } from "../lib/program.ts";
import { didYouMean } from "../lib/suggest.ts";
import { hasUrlCredentials, maskUrlCredentials } from "../lib/url_credentials.ts";
import { parseIp } from "../lib/ip.ts";
import { describeStore } from "../lib/store/factory.ts";
import { postgresSchemaSql } from "../lib/store/postgres_schema.ts";
import { versionLine } from "../lib/version.ts";
import { parseDuration } from "../lib/duration.ts";
import { DEFAULT_HEALTHCHECK_TIMEOUT_SECONDS, defaultHealthUrl, probeHealth } from "./healthcheck.ts";
import { keysGenerate } from "./keys_command.ts";
import { bufferedJsonLineLogger } from "./logger.ts";
import { pruneAudit } from "./audit_prune.ts";
import { PROVIDER_SYNOPSIS, providerHelp } from "./provider_help.ts";
import { serve } from "./serve.ts";
import { checkConnections } from "./startup_checks.ts";

const COMMANDS: readonly string[] = ["serve", "migrate", "config", "healthcheck", "audit", "keys"];
/** The words after `audit` and `keys`. */
const SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = { audit: ["prune"], keys: ["generate"] };

/** The options below, as typed on the command line, for "did you mean" answers. */
const OPTIONS = {
  listen: { type: "string" },
  dev: { type: "boolean" },
  "dev-in-container": { type: "boolean" },
  "check-connections": { type: "boolean" },
  "print-sql": { type: "boolean" },
  url: { type: "string" },
  timeout: { type: "string" },
  alg: { type: "string" },
  out: { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** `bus-api-provider-auth`. */
export const providerProgram: Program = {
  name: "bus-api-provider-auth",
  summary: "run the auth provider (serve, migrate, config, healthcheck, audit prune, keys generate)",
  run: runProvider,
};

async function runProvider(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    return usage(io, optionProblem(error as Error));
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  if (values.help || first === "help") return help(io, first === "help" ? rest : []);
  if (values.version) {
    io.stdout(versionLine("bus-api-provider-auth", io.build));
    return EXIT.ok;
  }
  const command = first ?? "serve";
  if (!COMMANDS.includes(command)) {
    return usage(io, `unknown command "${command}"${didYouMean(command, [...COMMANDS, "help"])}`);
  }
  const words = SUBCOMMANDS[command];
  const [word, ...extra] = words !== undefined ? rest : [undefined, ...rest];
  if (words !== undefined && word === undefined) return usage(io, `${command} needs a command: ${words.join(", ")}`);
  if (word !== undefined && !words.includes(word)) {
    return usage(io, `unknown ${command} command "${word}"${didYouMean(word, words)}`);
  }
  if (extra.length > 0) return usage(io, `unexpected argument "${extra[0]}"`);
  if (values["print-sql"] && command !== "migrate") return usage(io, "--print-sql only goes with migrate");
  if (values.listen !== undefined && command !== "serve") return usage(io, "--listen only goes with serve");
  if (values["check-connections"] && command !== "config") {
    return usage(io, "--check-connections only goes with config");
  }
  for (const option of ["url", "timeout"] as const) {
    if (values[option] !== undefined && command !== "healthcheck") {
      return usage(io, `--${option} only goes with healthcheck`);
    }
  }
  for (const option of ["alg", "out", "format"] as const) {
    if (values[option] !== undefined && command !== "keys") {
      return usage(io, `--${option} only goes with keys generate`);
    }
  }
  // Before the configuration is loaded: a new key needs none.
  if (command === "keys") {
    const result = keysGenerate(values, io);
    return typeof result === "number" ? result : usage(io, result.usage);
  }
  // Before the configuration is loaded: a health check needs no secret.
  if (command === "healthcheck") return await healthcheck(io, values.url, values.timeout);
  if (command === "migrate" && values["print-sql"]) {
    io.stdout(postgresSchemaSql());
    return EXIT.ok;
  }
  // serve always checks that the SMTP relay takes a connection; config does when asked.
  const checks = command === "serve" || (command === "config" && values["check-connections"] === true);
  let config: Config;
  try {
    config = loadConfig(io.env, { dev: values.dev || values["dev-in-container"], listen: values.listen });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const found = checks && error.config !== null
      ? await checkConnections(error.config, { knownProblems: error.problems })
      : null;
    return invalidConfiguration(io, [...error.problems, ...found?.problems ?? []]);
  }
  if (values.dev && !values["dev-in-container"] && !isLoopback(config.listen.hostname)) {
    return usage(
      io,
      `--dev uses public development secrets and only listens on loopback, not "${config.listen.hostname}" ` +
        "(in a container whose port is published on the host's loopback only, use --dev-in-container)",
    );
  }
  const connections = checks ? await checkConnections(config) : null;
  if (connections !== null && connections.problems.length > 0) return invalidConfiguration(io, connections.problems);
  switch (command) {
    case "config":
      for (const warning of config.warnings) io.stderr(`warning: ${warning}\n`);
      io.stdout(describeConfig(config));
      if (connections?.smtpCheckedAt) io.stderr(`checked: the SMTP relay ${smtpRelay(config)} took a connection\n`);
      return EXIT.ok;
    case "migrate":
      return await migrate(config, io);
    case "audit":
      return await pruneAudit(config, io);
    default: {
      // Request lines are written in batches; whatever is left is written when serve returns.
      const logger = bufferedJsonLineLogger((text) => io.stderr(text));
      try {
        return await serve(config, {
          log: logger.log,
          writeOtpLine: (line) => io.stdout(`${line}\n`),
          smtpCheckedAt: connections?.smtpCheckedAt ?? undefined,
        });
      } finally {
        logger.flush();
      }
    }
  }
}

/**
 * `help [COMMAND]` and `--help`: the program help, also for each command
 * (none has a help of its own); an unknown topic is a usage error.
 */
function help(io: Io, topics: string[]): number {
  const [topic, ...words] = topics;
  if (topic !== undefined && topic !== "help" && !COMMANDS.includes(topic)) {
    return usage(io, `unknown command "${topic}"${didYouMean(topic, [...COMMANDS, "help"])}`);
  }
  const extra = SUBCOMMANDS[topic]?.includes(words[0]) ? words[1] : words[0];
  if (extra !== undefined) return usage(io, `unexpected argument "${extra}"`);
  io.stdout(providerHelp());
  return EXIT.ok;
}

/** A parseArgs failure in one line, an unknown option with the nearest known one. */
function optionProblem(error: Error): string {
  const message = error.message.replace(/\. To specify a positional.*$/s, "").split("\n")[0];
  const unknown = /^Unknown option '(--?[^'=]+)/.exec(message);
  if (unknown === null) return message;
  // Only long options are suggested: one letter away from "-h" is no evidence of a typo.
  const known = Object.keys(OPTIONS).map((name) => `--${name}`);
  return `unknown option "${unknown[1]}"${didYouMean(unknown[1], known)}`;
}

/**
 * `healthcheck [--url URL] [--timeout DURATION]`: exit 0 when the provider
 * answers 200 `{"ok":true}`, else exit 1 with the reason in one line.
 */
async function healthcheck(io: Io, url: string | undefined, timeout: string | undefined): Promise<number> {
  let timeoutSeconds = DEFAULT_HEALTHCHECK_TIMEOUT_SECONDS;
  if (timeout !== undefined) {
    try {
      timeoutSeconds = parseDuration(timeout);
    } catch (error) {
      return usage(io, `--timeout: ${(error as Error).message}`);
    }
  }
  const target = url ?? defaultHealthUrl(io.env);
  if (target === null) {
    return usage(io, `cannot tell the health URL from BUS_AUTH_LISTEN="${io.env.BUS_AUTH_LISTEN}": give --url`);
  }
  if (hasUrlCredentials(target)) {
    return usage(io, `--url: "${maskUrlCredentials(target)}" carries a user name or password; /healthz needs none`);
  }
  if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) {
    return usage(io, `--url: expected an http:// or https:// URL, got "${maskUrlCredentials(target)}"`);
  }
  const result = await probeHealth(target, timeoutSeconds);
  if (!result.ok) {
    io.stderr(`bus-api-provider-auth: unhealthy: ${target}: ${result.reason}\n`);
    return EXIT.failure;
  }
  io.stdout(`healthy: ${target}\n`);
  return EXIT.ok;
}

async function migrate(config: Config, io: Io): Promise<number> {
  const where = describeStore(config.store, maskDsn);
  try {
    switch (config.store.kind) {
      case "memory":
        io.stdout("The memory store keeps no schema: nothing to migrate.\n");
        return EXIT.ok;
      case "sqlite": {
        const { SqliteStore } = await import("../lib/store/sqlite.ts");
        const store = SqliteStore.open(config.store.path, { migrate: false, synchronous: config.store.synchronous });
        const applied = store.migrate();
        await store.close();
        io.stdout(appliedText(applied, where));
        return EXIT.ok;
      }
      case "postgres": {
        const { PostgresStore } = await import("../lib/store/postgres.ts");
        const store = await PostgresStore.open(config.store, { migrate: false });
        try {
          io.stdout(appliedText(await store.migrate(), where));
        } finally {
          await store.close();
        }
        return EXIT.ok;
      }
    }
  } catch (error) {
    io.stderr(`bus-api-provider-auth: cannot migrate ${where}: ${(error as Error).message.split("\n")[0]}\n`);
    return EXIT.failure;
  }
}

function appliedText(applied: number[], where: string): string {
  return applied.length === 0
    ? `Schema of ${where} is up to date.\n`
    : `Applied migration${applied.length === 1 ? "" : "s"} ${applied.join(", ")} to ${where}.\n`;
}

/** The effective configuration as `NAME=value` lines, secrets replaced by their length. */
function describeConfig(config: Config): string {
  const secret = (value: Uint8Array | string | null) =>
    value === null
      ? "(unset)"
      : `(set, ${typeof value === "string" ? new TextEncoder().encode(value).length : value.length} bytes, hidden)`;
  const { policy, store, sender } = config;
  const lines: [string, string | number | boolean][] = [
    ["BUS_AUTH_LISTEN", `${config.listen.hostname}:${config.listen.port}`],
    ["BUS_AUTH_ROUTE_PREFIX", config.routePrefix ?? ""],
    ["BUS_AUTH_HS256_SECRET", secret(config.signingKey)],
    ...describeSigning(config.signing),
    ["BUS_AUTH_PUBLIC_URL", config.publicUrl ?? ""],
    ["BUS_AUTH_INTERNAL_SHARED_KEY", secret(config.internalKey)],
  ];
  if (store.kind === "memory") lines.push(["# store", "memory (lost on restart)"]);
  if (store.kind === "sqlite") {
    lines.push(["BUS_AUTH_STORE_PATH", store.path], ["BUS_AUTH_SQLITE_SYNCHRONOUS", store.synchronous]);
  }
  if (store.kind === "postgres") lines.push(["BUS_AUTH_POSTGRES_DSN", maskDsn(store.dsn)]);
  if (store.kind === "postgres") {
    lines.push(
      ["BUS_AUTH_POSTGRES_POOL_MAX", store.poolMax],
      ["BUS_AUTH_POSTGRES_CONNECT_TIMEOUT_SECONDS", store.connectTimeoutSeconds],
      ["BUS_AUTH_POSTGRES_STATEMENT_TIMEOUT_SECONDS", store.statementTimeoutSeconds],
      ["BUS_AUTH_POSTGRES_CACHE", store.cache ? "on" : "off"],
    );
  }
  lines.push(["BUS_AUTH_OTP_SENDER", sender.kind]);
  if (sender.kind === "smtp") {
    lines.push(
      ["BUS_AUTH_SMTP_HOST", sender.host],
      ["BUS_AUTH_SMTP_PORT", sender.port],
      ["BUS_AUTH_SMTP_TLS", sender.tls],
      ["BUS_AUTH_SMTP_FROM", sender.from],
      ["BUS_AUTH_SMTP_USERNAME", sender.username ?? ""],
      ["BUS_AUTH_SMTP_PASSWORD", secret(sender.password)],
    );
  }
  lines.push(
    ["BUS_AUTH_API_USER_SCOPES", policy.apiUserScopes.join(" ")],
    ["BUS_AUTH_OTP_TTL_SECONDS", policy.otpTtlSeconds],
    ["BUS_AUTH_OTP_MAX_ATTEMPTS", policy.otpMaxAttempts],
    ["BUS_AUTH_OTP_RESEND_SECONDS", policy.otpResendSeconds],
    ["BUS_AUTH_RATE_LIMIT_PER_IP", policy.rateLimitPerIp],
    ["BUS_AUTH_RATE_LIMIT_WINDOW_SECONDS", policy.rateLimitWindowSeconds],
    ["BUS_AUTH_TRUSTED_PROXIES", config.trustedProxies.map((range) => range.text).join(" ")],
    ["BUS_AUTH_SESSION_TTL_SECONDS", policy.sessionTtlSeconds],
    ["BUS_AUTH_SESSION_REFRESH", policy.sessionRefresh],
    ["BUS_AUTH_SESSION_MAX_SECONDS", policy.sessionMaxSeconds],
    ["BUS_AUTH_API_TOKEN_MAX_TTL_SECONDS", policy.apiTokenMaxTtlSeconds],
    ["BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS", policy.internalTokenTtlSeconds],
    ["BUS_AUTH_ISSUER", policy.issuer],
    ["BUS_AUTH_MAX_BODY_BYTES", config.maxBodyBytes],
    ["BUS_AUTH_CACHE_ENTRIES", config.cacheEntries],
    ["BUS_AUTH_AUDIT_RETENTION_DAYS", config.auditRetentionDays],
    ["BUS_AUTH_METRICS_LISTEN", config.metricsListen === null ? "" : hostPort(config.metricsListen)],
  );
  const dev = config.devDefaults.length > 0
    ? `# development defaults (not secret): ${config.devDefaults.join(" ")}\n`
    : "";
  return dev + lines.map(([name, value]) => `${name}=${value}\n`).join("");
}

/** Every problem of the configuration, environment and connections alike, in one list; exit 2. */
function invalidConfiguration(io: Io, problems: readonly string[]): number {
  io.stderr(`bus-api-provider-auth: invalid configuration:\n${problems.map((p) => `  ${p}\n`).join("")}`);
  return EXIT.usage;
}

function hostPort({ hostname, port }: { hostname: string; port: number }): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

function smtpRelay(config: Config): string {
  return config.sender.kind === "smtp" ? `"${config.sender.host}:${config.sender.port}"` : "";
}

function isLoopback(hostname: string): boolean {
  if (hostname === "localhost") return true;
  const bytes = parseIp(hostname);
  if (bytes === null) return false;
  return bytes.length === 4 ? bytes[0] === 127 : bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

function usage(io: Io, problem: string): number {
  io.stderr(`bus-api-provider-auth: ${problem}\n${PROVIDER_SYNOPSIS}`);
  return EXIT.usage;
}
