/**
 * The one place that reads the provider's environment. {@link loadConfig}
 * takes a plain record, applies defaults, validates every field, reports
 * every problem at once and returns a frozen object.
 *
 * @module
 */

import { DEFAULT_ISSUER } from "../claims.ts";
import { type Cidr, parseCidr } from "../ip.ts";
import { type AuthPolicy, DEFAULT_API_USER_SCOPES } from "../policy.ts";
import { isInternalScope, parseScope } from "../scopes.ts";
import { decodeSecret, MIN_HS256_SECRET_BYTES, weakSecretReason } from "../secret.ts";
import { EnvReader, type ReadTextFile } from "./reader.ts";
import { readPublicUrl, readSigning, type SigningConfig } from "./signing.ts";
import { integerVariable, knownVariableNames } from "./variables.ts";

/** Where state lives. */
export type StoreConfig =
  | { kind: "memory" }
  | {
    kind: "sqlite";
    path: string;
    /** `PRAGMA synchronous`: NORMAL (the default) or FULL. */
    synchronous: "NORMAL" | "FULL";
  }
  | {
    kind: "postgres";
    /** Holds a password: never print it; use {@link maskDsn}. */
    dsn: string;
    poolMax: number;
    connectTimeoutSeconds: number;
    statementTimeoutSeconds: number;
    /** `BUS_AUTH_POSTGRES_CACHE`: keep the state of token checks in memory, kept current by LISTEN/NOTIFY. */
    cache: boolean;
  };

/** How OTP codes travel. */
export type SenderConfig =
  | { kind: "memory" }
  | { kind: "console" }
  | {
    kind: "smtp";
    host: string;
    port: number;
    tls: "starttls" | "implicit" | "none" | "auto";
    from: string;
    username: string | null;
    /** Secret. */
    password: string | null;
  };

/** The validated provider configuration. */
export interface Config {
  listen: { hostname: string; port: number };
  /** Extra route prefix such as `/local-dev/v1`, or `null`. */
  routePrefix: string | null;
  /** Secret: the HS256 secret. Signs with HS256, keys the OTP hashes, verifies HS256 tokens when accepted. */
  signingKey: Uint8Array;
  /** Token signing: the algorithm, the key files, whether HS256 tokens are accepted. */
  signing: SigningConfig;
  /** The provider's public base URL for discovery, or `null`: derived from each request. */
  publicUrl: string | null;
  /** Secret: internal shared key, or `null` when internal issuing is off. */
  internalKey: Uint8Array | null;
  store: StoreConfig;
  sender: SenderConfig;
  policy: AuthPolicy;
  trustedProxies: readonly Cidr[];
  maxBodyBytes: number;
  /** Seconds a connection may take to send its request headers. */
  headerTimeoutSeconds: number;
  /** Seconds a request may take to send its body. */
  bodyTimeoutSeconds: number;
  /** Days an audit record is kept; `audit prune` deletes older ones. */
  auditRetentionDays: number;
  /** `BUS_AUTH_CACHE_ENTRIES`: most values token checks keep in memory of each kind. */
  cacheEntries: number;
  /** Address of the Prometheus `/metrics` listener, or `null`: metrics off. Never the public listener. */
  metricsListen: { hostname: string; port: number } | null;
  /** Names of the variables that took a development default (only with `dev`). */
  devDefaults: readonly string[];
  /** Non-fatal findings to print at start-up. */
  warnings: readonly string[];
}

/**
 * The configuration is unusable; `problems` has one line per problem.
 * `config` is what could be read, fallbacks in place of the faulty values,
 * so that checks beyond the environment (such as reaching the SMTP relay)
 * can add their problems to the same list.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  readonly config: Config | null;

  constructor(problems: readonly string[], config: Config | null = null) {
    super(`Invalid configuration: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
    this.name = "ConfigError";
    this.problems = problems;
    this.config = config;
  }
}

/** Non-secret development defaults of `deno task dev` (DESIGN §2, spec local examples). */
export const DEV_DEFAULTS = Object.freeze({
  BUS_AUTH_HS256_SECRET: "not-a-secret-local-development-hs256-key",
  BUS_AUTH_INTERNAL_SHARED_KEY: "not-a-secret-local-development-internal-key",
  BUS_AUTH_STORE_PATH: "./local/bus-auth.sqlite",
  BUS_AUTH_OTP_SENDER: "console",
  BUS_AUTH_ROUTE_PREFIX: "/local-dev/v1",
  // Every feature scope the spec's local examples request.
  BUS_AUTH_API_USER_SCOPES:
    "llm:proxy billing:read billing:setup vm:read container:read container:run container:delete terminal:read usage:read",
});

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Apply {@link DEV_DEFAULTS} to unset variables (only `deno task dev`). */
  dev?: boolean;
  /** Listen address from the command line; wins over `BUS_AUTH_LISTEN`. */
  listen?: string;
  readFile?: ReadTextFile;
  /** Permission bits of a file, or `null` when unknown. */
  fileMode?: (path: string) => number | null;
}

/**
 * Reads and validates the configuration.
 *
 * @throws {ConfigError} listing every problem, without secret values
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, options: LoadOptions = {}): Config {
  const devDefaults: string[] = [];
  const effective: Record<string, string | undefined> = { ...env };
  if (options.dev) {
    const hasStore = [env.BUS_AUTH_STORE_PATH, env.BUS_AUTH_POSTGRES_DSN, env.BUS_AUTH_POSTGRES_DSN_FILE]
      .some((value) => value?.trim());
    for (const [name, value] of Object.entries(DEV_DEFAULTS)) {
      if (name === "BUS_AUTH_STORE_PATH" && hasStore) continue;
      if (!env[name]?.trim() && !env[`${name}_FILE`]?.trim()) {
        effective[name] = value;
        devDefaults.push(name);
      }
    }
  }
  const read = new EnvReader(effective, options.readFile ?? Deno.readTextFileSync, options.fileMode ?? statMode);
  const config: Config = {
    listen: readListen(read, options.listen),
    routePrefix: readRoutePrefix(read),
    signingKey: readSigningKey(read, options.dev === true),
    signing: readSigning(read),
    publicUrl: readPublicUrl(read),
    internalKey: readInternalKey(read, options.dev === true),
    store: readStore(read),
    sender: readSender(read),
    policy: readPolicy(read),
    trustedProxies: readProxies(read),
    maxBodyBytes: readInteger(read, "BUS_AUTH_MAX_BODY_BYTES"),
    headerTimeoutSeconds: readInteger(read, "BUS_AUTH_HEADER_TIMEOUT_SECONDS"),
    bodyTimeoutSeconds: readInteger(read, "BUS_AUTH_BODY_TIMEOUT_SECONDS"),
    auditRetentionDays: readInteger(read, "BUS_AUTH_AUDIT_RETENTION_DAYS"),
    cacheEntries: readInteger(read, "BUS_AUTH_CACHE_ENTRIES"),
    metricsListen: readMetricsListen(read),
    devDefaults,
    warnings: read.warnings,
  };
  const known = knownVariableNames();
  for (const name of Object.keys(env)) {
    if (name.startsWith("BUS_AUTH_") && !known.has(name)) {
      read.warnings.push(`${name} is not a known variable: ignored`);
    }
  }
  const { metricsListen, listen } = config;
  if (metricsListen !== null && metricsListen.port !== 0 && metricsListen.port === listen.port) {
    read.problem(
      `BUS_AUTH_METRICS_LISTEN: "${metricsListen.hostname}:${metricsListen.port}" takes the port of the public ` +
        "listener: metrics are served on an address of their own",
    );
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems, Object.freeze(config));
  return Object.freeze(config);
}

/** A whole-number variable, with the default and range of its row in `variables.ts`. */
function readInteger(read: EnvReader, name: string): number {
  const { fallback, min, max } = integerVariable(name);
  return read.integer(name, fallback, min, max);
}

/** Listen address when neither `--listen` nor `BUS_AUTH_LISTEN` is given. */
export const DEFAULT_LISTEN = "127.0.0.1:8080";

/**
 * Parses a listen address as `BUS_AUTH_LISTEN` and `--listen` take it:
 * `HOST:PORT` or `[IPv6]:PORT`, port 0 to 65535.
 *
 * @returns the host (without brackets) and port, or `null` when malformed
 * @example
 * ```ts
 * parseListen("[::1]:8080"); // { hostname: "::1", port: 8080 }
 * ```
 */
export function parseListen(value: string): { hostname: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+)):([0-9]{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) return null;
  return { hostname: match[1] ?? match[2], port };
}

function readListen(read: EnvReader, flag: string | undefined): Config["listen"] {
  const value = flag ?? read.string("BUS_AUTH_LISTEN") ?? DEFAULT_LISTEN;
  const listen = parseListen(value);
  if (listen === null) {
    read.problem(
      `BUS_AUTH_LISTEN: expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:8080 or [::1]:8080, got "${value}"`,
    );
    return { hostname: "127.0.0.1", port: 8080 };
  }
  return listen;
}

function readMetricsListen(read: EnvReader): Config["metricsListen"] {
  const value = read.string("BUS_AUTH_METRICS_LISTEN");
  if (value === undefined) return null;
  const listen = parseListen(value);
  if (listen === null) {
    read.problem(
      `BUS_AUTH_METRICS_LISTEN: expected HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:9464, got "${value}"`,
    );
  }
  return listen;
}

function readRoutePrefix(read: EnvReader): string | null {
  const value = read.string("BUS_AUTH_ROUTE_PREFIX");
  if (value === undefined || value === "/") return null;
  const prefix = value.replace(/\/+$/, "");
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) {
    read.problem(`BUS_AUTH_ROUTE_PREFIX: expected a path such as /local-dev/v1, got "${value}"`);
    return null;
  }
  return prefix;
}

function readSigningKey(read: EnvReader, dev: boolean): Uint8Array {
  const value = read.secret("BUS_AUTH_HS256_SECRET");
  if (value === undefined) {
    if (!read.problems.some((p) => p.startsWith("BUS_AUTH_HS256_SECRET"))) {
      read.problem(
        "BUS_AUTH_HS256_SECRET is required: set it (or BUS_AUTH_HS256_SECRET_FILE) to a secret of 32+ bytes",
      );
    }
    return new Uint8Array();
  }
  const key = decodeSecret(value);
  if (key === null) {
    read.problem("BUS_AUTH_HS256_SECRET: the base64: value is not valid base64");
    return new Uint8Array();
  }
  if (key.length < MIN_HS256_SECRET_BYTES) {
    read.problem(
      `BUS_AUTH_HS256_SECRET: too short (${key.length} bytes), use at least ${MIN_HS256_SECRET_BYTES} bytes`,
    );
  } else {
    const weak = weakSecretReason(key, { dev });
    if (weak !== null) read.problem(`BUS_AUTH_HS256_SECRET: refused: ${weak}`);
  }
  return key;
}

function readInternalKey(read: EnvReader, dev: boolean): Uint8Array | null {
  const value = read.secret("BUS_AUTH_INTERNAL_SHARED_KEY");
  if (value === undefined) return null;
  const key = new TextEncoder().encode(value);
  if (key.length < 16) read.problem(`BUS_AUTH_INTERNAL_SHARED_KEY: too short (${key.length} bytes), use at least 16`);
  else {
    const weak = weakSecretReason(key, { dev });
    if (weak !== null) read.problem(`BUS_AUTH_INTERNAL_SHARED_KEY: refused: ${weak}`);
  }
  return key;
}

/** libpq's `sslmode` values, all honoured by the PostgreSQL store. */
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

function readStore(read: EnvReader): StoreConfig {
  const path = read.string("BUS_AUTH_STORE_PATH");
  const dsn = read.secret("BUS_AUTH_POSTGRES_DSN");
  const poolMax = readInteger(read, "BUS_AUTH_POSTGRES_POOL_MAX");
  const connectTimeoutSeconds = readInteger(read, "BUS_AUTH_POSTGRES_CONNECT_TIMEOUT_SECONDS");
  const statementTimeoutSeconds = readInteger(read, "BUS_AUTH_POSTGRES_STATEMENT_TIMEOUT_SECONDS");
  const cache = read.choice("BUS_AUTH_POSTGRES_CACHE", "on", ["on", "off"] as const) === "on";
  if (path !== undefined && dsn !== undefined) {
    read.problem("BUS_AUTH_STORE_PATH and BUS_AUTH_POSTGRES_DSN are both set: choose one store");
  }
  if (dsn !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(dsn) || !URL.canParse(dsn)) {
      read.problem("BUS_AUTH_POSTGRES_DSN: expected a postgres:// URL (value not shown)");
    } else {
      const sslmode = new URL(dsn).searchParams.get("sslmode");
      if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
        read.problem(
          `BUS_AUTH_POSTGRES_DSN: unknown sslmode "${sslmode.slice(0, 20)}", use one of ${SSL_MODES.join(", ")}`,
        );
      }
    }
    return { kind: "postgres", dsn, poolMax, connectTimeoutSeconds, statementTimeoutSeconds, cache };
  }
  const synchronous = read.choice("BUS_AUTH_SQLITE_SYNCHRONOUS", "normal", ["normal", "full"] as const) === "full"
    ? "FULL"
    : "NORMAL";
  return path === undefined ? { kind: "memory" } : { kind: "sqlite", path, synchronous };
}

function readSender(read: EnvReader): SenderConfig {
  const kind = read.choice("BUS_AUTH_OTP_SENDER", "memory", ["memory", "console", "smtp"] as const);
  const password = read.secret("BUS_AUTH_SMTP_PASSWORD");
  const port = readInteger(read, "BUS_AUTH_SMTP_PORT");
  const tls = read.choice("BUS_AUTH_SMTP_TLS", "auto", ["auto", "starttls", "implicit", "none"] as const);
  if (kind !== "smtp") return { kind };
  const host = read.string("BUS_AUTH_SMTP_HOST");
  const from = read.string("BUS_AUTH_SMTP_FROM");
  if (host === undefined) read.problem("BUS_AUTH_SMTP_HOST is required with BUS_AUTH_OTP_SENDER=smtp");
  if (from === undefined) read.problem("BUS_AUTH_SMTP_FROM is required with BUS_AUTH_OTP_SENDER=smtp");
  else if (!/^[^\s@<>"(),;:\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(from)) {
    read.problem(`BUS_AUTH_SMTP_FROM: expected a plain address such as auth@example.com, got "${from}"`);
  }
  const username = read.string("BUS_AUTH_SMTP_USERNAME") ?? null;
  if (password !== undefined && username === null) {
    read.problem("BUS_AUTH_SMTP_PASSWORD is set without BUS_AUTH_SMTP_USERNAME");
  }
  return { kind, host: host ?? "", port, tls, from: from ?? "", username, password: password ?? null };
}

function readPolicy(read: EnvReader): AuthPolicy {
  const policy: AuthPolicy = {
    issuer: read.string("BUS_AUTH_ISSUER") ?? DEFAULT_ISSUER,
    otpTtlSeconds: readInteger(read, "BUS_AUTH_OTP_TTL_SECONDS"),
    otpMaxAttempts: readInteger(read, "BUS_AUTH_OTP_MAX_ATTEMPTS"),
    otpResendSeconds: readInteger(read, "BUS_AUTH_OTP_RESEND_SECONDS"),
    otpMaxFailuresPerDay: readInteger(read, "BUS_AUTH_OTP_MAX_FAILURES_PER_DAY"),
    sessionTtlSeconds: readInteger(read, "BUS_AUTH_SESSION_TTL_SECONDS"),
    sessionRefresh: read.boolean("BUS_AUTH_SESSION_REFRESH", true),
    sessionMaxSeconds: readInteger(read, "BUS_AUTH_SESSION_MAX_SECONDS"),
    apiTokenMaxTtlSeconds: readInteger(read, "BUS_AUTH_API_TOKEN_MAX_TTL_SECONDS"),
    apiUserScopes: readUserScopes(read),
    internalTokenTtlSeconds: readInteger(read, "BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS"),
    rateLimitPerIp: readInteger(read, "BUS_AUTH_RATE_LIMIT_PER_IP"),
    rateLimitWindowSeconds: readInteger(read, "BUS_AUTH_RATE_LIMIT_WINDOW_SECONDS"),
  };
  if (!/^[\x21-\x7e]{1,256}$/.test(policy.issuer)) {
    read.problem("BUS_AUTH_ISSUER: expected printable text without spaces");
  }
  if (policy.sessionTtlSeconds > policy.sessionMaxSeconds) {
    read.problem("BUS_AUTH_SESSION_TTL_SECONDS is longer than BUS_AUTH_SESSION_MAX_SECONDS");
  }
  return Object.freeze(policy);
}

function readUserScopes(read: EnvReader): readonly string[] {
  const value = read.string("BUS_AUTH_API_USER_SCOPES");
  if (value === undefined) return DEFAULT_API_USER_SCOPES;
  let scopes: string[];
  try {
    scopes = parseScope(value);
  } catch (error) {
    read.problem(`BUS_AUTH_API_USER_SCOPES: ${(error as Error).message}`);
    return DEFAULT_API_USER_SCOPES;
  }
  const internal = scopes.filter(isInternalScope);
  if (internal.length > 0) {
    read.problem(
      `BUS_AUTH_API_USER_SCOPES: "${
        internal.join(" ")
      }" grant operator or service powers and cannot be issued to users`,
    );
  }
  return Object.freeze(scopes);
}

function readProxies(read: EnvReader): readonly Cidr[] {
  const value = read.string("BUS_AUTH_TRUSTED_PROXIES");
  if (value === undefined) return [];
  const ranges: Cidr[] = [];
  for (const item of value.split(/[\s,]+/).filter((part) => part !== "")) {
    const range = parseCidr(item);
    if (range) ranges.push(range);
    else read.problem(`BUS_AUTH_TRUSTED_PROXIES: "${item}" is not an IP address or CIDR range`);
  }
  return Object.freeze(ranges);
}

function statMode(path: string): number | null {
  try {
    return Deno.statSync(path).mode;
  } catch {
    return null;
  }
}

/**
 * Shows a PostgreSQL URL with its password replaced by `***`, for logs and
 * the `config` command.
 *
 * @example
 * ```ts
 * maskDsn("postgres://u:pw@db:5432/auth"); // "postgres://u:***@db:5432/auth"
 * ```
 */
export function maskDsn(dsn: string): string {
  try {
    const url = new URL(dsn);
    if (url.password) url.password = "***";
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|key/i.test(key)) url.searchParams.set(key, "***");
    }
    return url.toString();
  } catch {
    return "(unparseable DSN, not shown)";
  }
}
