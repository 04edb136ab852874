/**
 * Every environment variable of the auth provider, with its help text. The
 * provider's `--help` ENVIRONMENT section and the unknown-variable warning
 * are built from this one table.
 *
 * @module
 */

/** One documented variable. */
export interface VariableDoc {
  name: string;
  /** Shown default, or an empty string when there is none. */
  default: string;
  /** One or two sentences. */
  help: string;
  /** Holds a secret: never printed, and has a `_FILE` form. */
  secret?: boolean;
  /**
   * Whole-number variables: the smallest and largest value accepted, both
   * inclusive. `loadConfig` validates against it and `--help` shows it.
   */
  range?: readonly [min: number, max: number];
}

/** The provider's variables, in help order. */
export const PROVIDER_VARIABLES: readonly VariableDoc[] = [
  {
    name: "BUS_AUTH_LISTEN",
    default: "127.0.0.1:8080",
    help: "Address and port to listen on (HOST:PORT, [IPv6]:PORT); the port is 0 to 65535, 0 picks a free one.",
  },
  {
    name: "BUS_AUTH_ROUTE_PREFIX",
    default: "",
    help: "Extra path prefix under which every route is also served, such as /local-dev/v1.",
  },
  {
    name: "BUS_AUTH_HS256_SECRET",
    default: "",
    secret: true,
    help: "Required. At least 32 bytes; base64:<value> for base64-encoded secrets. Signs the tokens with HS256, " +
      "keys the OTP hashes whatever signs, and verifies HS256 tokens while BUS_AUTH_ACCEPT_HS256 allows it.",
  },
  {
    name: "BUS_AUTH_SIGNING_ALG",
    default: "HS256",
    help: "Algorithm of new tokens: HS256 (the secret), EdDSA (Ed25519) or ES256 (P-256) with " +
      "BUS_AUTH_SIGNING_KEY_FILE; key-file tokens carry kid and /.well-known/jwks.json publishes the public key.",
  },
  {
    name: "BUS_AUTH_SIGNING_KEY_FILE",
    default: "",
    help: "Private key file (PKCS#8 PEM or a private JWK) that signs with EdDSA or ES256; required with them. " +
      "bus-api-provider-auth keys generate writes one.",
  },
  {
    name: "BUS_AUTH_VERIFY_KEY_FILES",
    default: "",
    help: "Comma- or space-separated key files (public or private, PEM or JWK) of older or coming keys: their " +
      "tokens are accepted and they are published in the JWKS, for rotation without downtime.",
  },
  {
    name: "BUS_AUTH_ACCEPT_HS256",
    default: "true with HS256, else false",
    help: "Whether HS256 tokens without kid are still accepted when EdDSA or ES256 sign: true while moving " +
      "from HS256, until the last HS256 token has expired.",
  },
  {
    name: "BUS_AUTH_PUBLIC_URL",
    default: "",
    help: "Public base URL of the provider, such as https://auth.example.com, for the absolute URLs of " +
      "/.well-known/oauth-authorization-server; unset, they follow each request's Host and scheme.",
  },
  {
    name: "BUS_AUTH_INTERNAL_SHARED_KEY",
    default: "",
    secret: true,
    help: "Key for the X-Bus-Internal-Key header of /api/internal/auth/token (at least 16 bytes); unset turns it off.",
  },
  {
    name: "BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS",
    default: "600",
    range: [60, 30 * 86400],
    help: "Lifetime of internal tokens in seconds; longer requests are capped.",
  },
  { name: "BUS_AUTH_STORE_PATH", default: "", help: "SQLite file for durable state (users, approvals, revocations)." },
  {
    name: "BUS_AUTH_POSTGRES_DSN",
    default: "",
    secret: true,
    help:
      "PostgreSQL URL for durable state shared by replicas, such as postgres://user:pw@host:5432/db?sslmode=require.",
  },
  { name: "BUS_AUTH_POSTGRES_POOL_MAX", default: "10", range: [1, 1000], help: "Connections per provider process." },
  {
    name: "BUS_AUTH_POSTGRES_CONNECT_TIMEOUT_SECONDS",
    default: "5",
    range: [1, 300],
    help: "Seconds to wait for a PostgreSQL connection before answering 503.",
  },
  {
    name: "BUS_AUTH_POSTGRES_STATEMENT_TIMEOUT_SECONDS",
    default: "10",
    range: [1, 3600],
    help: "Longest time in seconds one database statement may run.",
  },
  {
    name: "BUS_AUTH_POSTGRES_CACHE",
    default: "on",
    help: "on: sessions, revocations, accounts and clients that token checks read are kept in memory, kept current " +
      "by LISTEN/NOTIFY and used only while that is proven; off: every check asks the database.",
  },
  {
    name: "BUS_AUTH_CACHE_ENTRIES",
    default: "10000",
    range: [100, 1_000_000],
    help: "Most values token checks keep in memory of each kind: verified tokens, and with SQLite or PostgreSQL " +
      "sessions, users, accounts and service clients (about 0.3-0.9 KB each). Keep it above the tokens and " +
      "sessions in use at once: past it, more and more checks read them again.",
  },
  {
    name: "BUS_AUTH_OTP_SENDER",
    default: "memory",
    help: "OTP delivery: memory, console (stdout, development) or smtp.",
  },
  { name: "BUS_AUTH_SMTP_HOST", default: "", help: "SMTP relay host; required with BUS_AUTH_OTP_SENDER=smtp." },
  {
    name: "BUS_AUTH_SMTP_PORT",
    default: "587",
    range: [1, 65535],
    help: "SMTP port: 587 STARTTLS, 465 implicit TLS, 1025 MailHog.",
  },
  {
    name: "BUS_AUTH_SMTP_TLS",
    default: "auto",
    help: "auto (by port), starttls (required), implicit, or none (plain; local catchers only).",
  },
  { name: "BUS_AUTH_SMTP_FROM", default: "", help: "Sender address of OTP mail; required with smtp." },
  { name: "BUS_AUTH_SMTP_USERNAME", default: "", help: "SMTP user; authentication is used when set." },
  { name: "BUS_AUTH_SMTP_PASSWORD", default: "", secret: true, help: "SMTP password." },
  {
    name: "BUS_AUTH_API_USER_SCOPES",
    default: "llm:proxy billing:read billing:setup vm:read container:read container:run",
    help: "Space-separated scopes approved users may request; operator scopes are refused.",
  },
  { name: "BUS_AUTH_OTP_TTL_SECONDS", default: "600", range: [30, 600], help: "OTP lifetime in seconds." },
  { name: "BUS_AUTH_OTP_MAX_ATTEMPTS", default: "5", range: [1, 20], help: "Wrong guesses before a code is dead." },
  {
    name: "BUS_AUTH_OTP_MAX_FAILURES_PER_DAY",
    default: "20",
    range: [1, 1000],
    help: "Wrong guesses per email in a rolling 24 h across codes; then 429 otp_locked until the oldest ages out.",
  },
  {
    name: "BUS_AUTH_OTP_RESEND_SECONDS",
    default: "60",
    range: [0, 3600],
    help: "Minimum seconds between two codes for one email; 0 allows a new code at once.",
  },
  {
    name: "BUS_AUTH_RATE_LIMIT_PER_IP",
    default: "30",
    range: [0, 1_000_000],
    help: "Register and OTP requests per client IP per window; 0 turns the limit off.",
  },
  {
    name: "BUS_AUTH_RATE_LIMIT_WINDOW_SECONDS",
    default: "300",
    range: [1, 86400],
    help: "Window of the per-IP limit in seconds.",
  },
  {
    name: "BUS_AUTH_TRUSTED_PROXIES",
    default: "",
    help: "Comma- or space-separated proxy addresses or CIDRs whose X-Forwarded-For is believed.",
  },
  {
    name: "BUS_AUTH_SESSION_TTL_SECONDS",
    default: "3600",
    range: [60, 86400],
    help: "Lifetime in seconds of one auth-service session token; at most BUS_AUTH_SESSION_MAX_SECONDS.",
  },
  { name: "BUS_AUTH_SESSION_REFRESH", default: "true", help: "Whether session tokens may be refreshed." },
  {
    name: "BUS_AUTH_SESSION_MAX_SECONDS",
    default: "2592000",
    range: [60, 365 * 86400],
    help: "Absolute session lifetime in seconds across refreshes; the default is 30 days.",
  },
  {
    name: "BUS_AUTH_API_TOKEN_MAX_TTL_SECONDS",
    default: "3600",
    range: [60, 86400],
    help: "Longest user API token lifetime in seconds.",
  },
  { name: "BUS_AUTH_ISSUER", default: "bus-api-provider-auth", help: "The iss claim of issued tokens." },
  {
    name: "BUS_AUTH_MAX_BODY_BYTES",
    default: "65536",
    range: [1024, 10 * 1024 * 1024],
    help: "Largest request body in bytes; larger ones get 413.",
  },
  {
    name: "BUS_AUTH_HEADER_TIMEOUT_SECONDS",
    default: "10",
    range: [1, 300],
    help: "A connection that has not sent its request headers within this time is closed.",
  },
  {
    name: "BUS_AUTH_BODY_TIMEOUT_SECONDS",
    default: "30",
    range: [1, 600],
    help: "A request whose body has not arrived within this time is closed.",
  },
  {
    name: "BUS_AUTH_AUDIT_RETENTION_DAYS",
    default: "365",
    range: [30, 3650],
    help:
      "Days the audit trail keeps a record; bus-api-provider-auth audit prune deletes older ones (serve never does).",
  },
  {
    name: "BUS_AUTH_SQLITE_SYNCHRONOUS",
    default: "NORMAL",
    help:
      "SQLite durability: NORMAL survives a process crash but may lose the last commit on power loss; FULL does not.",
  },
  {
    name: "BUS_AUTH_METRICS_LISTEN",
    default: "",
    help: "Address (HOST:PORT) of a separate listener that serves Prometheus metrics at /metrics, such as " +
      "127.0.0.1:9464; unset, metrics are off. Never served on the public listener.",
  },
];

/** `BUS_AUTH_*` names used by the clients, which the provider ignores without warning. */
export const CLIENT_VARIABLES: readonly string[] = [
  "BUS_AUTH_API_URL",
  "BUS_AUTH_TOKEN",
  "BUS_AUTH_INTERNAL_TOKEN_URL",
];

/**
 * Default and inclusive range of a whole-number variable, as `loadConfig`
 * applies them.
 *
 * @throws {Error} when `name` is not a whole-number variable of the table (a programming error)
 */
export function integerVariable(name: string): { fallback: number; min: number; max: number } {
  const variable = PROVIDER_VARIABLES.find((candidate) => candidate.name === name);
  if (variable?.range === undefined) throw new Error(`${name} is not a whole-number variable`);
  const [min, max] = variable.range;
  return { fallback: Number(variable.default), min, max };
}

/** Every name the provider knows, including the `_FILE` forms of secrets. */
export function knownVariableNames(): Set<string> {
  const names = new Set<string>(CLIENT_VARIABLES);
  for (const variable of PROVIDER_VARIABLES) {
    names.add(variable.name);
    if (variable.secret) names.add(`${variable.name}_FILE`);
  }
  return names;
}
