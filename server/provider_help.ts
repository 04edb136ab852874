/**
 * Help text of `bus-api-provider-auth`, with the Git-style sections; the
 * ENVIRONMENT section is built from the variable table.
 *
 * @module
 */

import { PROVIDER_VARIABLES } from "../lib/config/variables.ts";
import { AUTH_BASES } from "./app.ts";

/** Short synopsis printed with usage errors. */
export const PROVIDER_SYNOPSIS = `usage: bus-api-provider-auth [serve] [--listen HOST:PORT] [--dev | --dev-in-container]
       bus-api-provider-auth migrate [--print-sql]
       bus-api-provider-auth config [--dev | --dev-in-container] [--check-connections]
       bus-api-provider-auth healthcheck [--url URL] [--timeout DURATION]
       bus-api-provider-auth audit prune
       bus-api-provider-auth keys generate --alg EdDSA|ES256 --out FILE [--format json]
       bus-api-provider-auth help [COMMAND] | --help | --version
`;

function environmentSection(): string {
  return PROVIDER_VARIABLES.map((variable) => {
    const secret = variable.secret ? ` Secret; ${variable.name}_FILE reads it from a file.` : "";
    const fallback = variable.default === "" ? "" : ` Default: ${variable.default}.`;
    const range = variable.range === undefined ? "" : ` Range: ${variable.range[0]} to ${variable.range[1]}.`;
    return `    ${variable.name}\n        ${
      wrap(`${variable.help}${fallback}${range}${secret}`, 70).join("\n        ")
    }`;
  }).join("\n\n");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The full `--help` text. */
export function providerHelp(): string {
  return `NAME
    bus-api-provider-auth - Bus API auth provider: email waitlist, OTP, operator
    approval and short-lived scoped JWTs

SYNOPSIS
    bus-api-provider-auth [serve] [--listen HOST:PORT] [--dev | --dev-in-container]
    bus-api-provider-auth migrate [--print-sql]
    bus-api-provider-auth config [--dev | --dev-in-container] [--check-connections]
    bus-api-provider-auth healthcheck [--url URL] [--timeout DURATION]
    bus-api-provider-auth audit prune
    bus-api-provider-auth keys generate --alg EdDSA|ES256 --out FILE [--format json]
    bus-api-provider-auth help [COMMAND] | --help | --version

DESCRIPTION
    Users register an email into a waitlist, prove the mailbox with a one-time
    code, and wait for an operator to approve them. Approved users request
    short-lived JWTs (aud=ai.hg.fi/api) with scopes from
    BUS_AUTH_API_USER_SCOPES that the account's scope policy allows (by
    default all of them); the token subject is the stable account UUID,
    never the email. OTP verification returns an auth-service session token
    (aud=ai.hg.fi/auth) that grants no API access by itself. Tokens are
    signed with HS256 (BUS_AUTH_HS256_SECRET) by default, or with an EdDSA or
    ES256 key file whose public key, with the older keys still accepted, is
    published at /.well-known/jwks.json, so Bus APIs verify tokens without
    being able to mint them.

    Routes, served at the root and under BUS_AUTH_ROUTE_PREFIX when set, where
    {A} is each of ${AUTH_BASES.join(", ")}:
        GET  /healthz
        GET  /.well-known/jwks.json, /.well-known/oauth-authorization-server
             (also under each {A})
        POST {A}/register, {A}/otp/request, {A}/otp/verify
        GET  {A}/status, {A}/me (also /me), {A}/check
        POST {A}/token, {A}/token/refresh, {A}/logout
        GET  {A}/admin/waitlist    POST {A}/admin/approve, {A}/admin/reject
        POST {A}/admin/tokens/revoke
        GET|PUT {A}/admin/accounts/{account_id}/policy, {A}/admin/accounts/policy?email=
        GET|POST {A}/admin/clients    POST {A}/admin/clients/{client_id}/rotate,
             {A}/admin/clients/{client_id}/revoke, {A}/admin/clients/{client_id}/verify-key
        GET  {A}/admin/audit?since=&actor=&target=&action=&cursor=&limit=
        POST /api/internal/auth/token (also /internal/token): X-Bus-Internal-Key
             with JSON, or a service client's grant_type=client_credentials form
        GET  /livez (the process runs), /readyz (the store answers with a
             current schema; the SMTP relay took a connection in the last minute)
        GET  /openapi.json: every route, body, answer and error code (OpenAPI 3.1)
    With BUS_AUTH_METRICS_LISTEN, GET /metrics (Prometheus) is served on that
    address alone, never on the public listener.

    Errors are JSON {"error":"<code>","message":"<sentence>"} with 400, 401,
    403, 404, 408, 409, 413, 429 (with Retry-After), 502 or 503; the
    client-credentials grant adds OAuth's error_description (RFC 6749 §5.2).

COMMANDS
    serve
        Run the provider (the default). Logs one JSON line per request on
        stderr; the console OTP sender prints codes on stdout. With
        BUS_AUTH_OTP_SENDER=smtp it first checks that the relay takes a
        connection (EHLO, STARTTLS and AUTH as configured, within 5 s; no mail
        is sent) and lists a failure with the configuration problems (exit 2).

    migrate
        Apply the store schema and exit. The server also migrates at start-up.

    config
        Validate the environment and print the effective configuration with
        secrets hidden; exit 2 when it is invalid. With --check-connections
        it also checks the SMTP relay as serve does; without, it makes no
        network connection.

    healthcheck
        GET the /healthz of a running provider: exit 0 when it answers 200
        with {"ok":true}, else exit 1 with the reason on stderr (connection
        refused, timeout, HTTP 503 store_unavailable, ...). The URL defaults
        to the address BUS_AUTH_LISTEN names (127.0.0.1:8080 when unset;
        0.0.0.0 and :: are asked on loopback). Needs no secret and reads no
        other variable, so it serves as a container HEALTHCHECK.

    audit prune
        Delete the audit records older than BUS_AUTH_AUDIT_RETENTION_DAYS
        and print how many went; exit 1 when the store cannot be reached.
        serve never prunes: run this daily from a systemd timer or cron job
        (deploy/systemd/bus-api-provider-auth-audit-prune.timer). On
        PostgreSQL the trail is append-only for the provider's role; this
        command grants its role DELETE, deletes and revokes it again in one
        transaction.

    keys generate --alg EdDSA|ES256 --out FILE [--format json]
        Write a new signing key (Ed25519 or P-256) to FILE as PKCS#8 PEM,
        mode 0600, atomically; an existing FILE is never replaced. Prints only
        the key's kid (its RFC 7638 thumbprint; with --format json also the
        public JWK), never the private key. Needs no configuration. The
        compiled provider may write only below /var/lib/bus-auth;
        bus operator token keys generate writes anywhere. Rotation: README,
        "Signing keys".

    help [COMMAND]
        Print this help, as --help does; COMMAND is serve, migrate, config,
        healthcheck, audit or keys.
        A mistyped command or option is answered with the nearest known one.

OPTIONS
    --listen HOST:PORT
        Address to listen on; wins over BUS_AUTH_LISTEN. Port 0 picks a free port.

    --dev
        Local development only: unset variables take the non-secret defaults
        of the local examples (HS256 secret
        not-a-secret-local-development-hs256-key, internal key
        not-a-secret-local-development-internal-key, SQLite store
        ./local/bus-auth.sqlite, console OTP sender, route prefix
        /local-dev/v1, user scopes of every local example). Refused on
        non-loopback addresses. Only --dev accepts the published development
        secrets; without it they, and any secret of whitespace or with fewer
        than 8 distinct bytes, stop start-up with exit 2.

    --dev-in-container
        --dev for a local container stack (compose/): also listens on the
        container's addresses, since the stack publishes its port on the
        host's loopback only. Never on a host a network can reach.

    --print-sql
        With migrate: print the PostgreSQL DDL for an operator to apply by hand
        (psql -v ON_ERROR_STOP=1 -f schema.sql) instead of applying anything.

    --check-connections
        With config: also check that the SMTP relay of BUS_AUTH_OTP_SENDER=smtp
        takes a connection, as serve does before it listens.

    --url URL
        With healthcheck: the health URL to ask instead of the one
        BUS_AUTH_LISTEN implies, such as http://127.0.0.1:8080/healthz.

    --timeout DURATION
        With healthcheck: how long to wait for the answer (3s by default;
        90s, 1m, or a number of seconds).

    --alg EdDSA|ES256, --out FILE, --format text|json
        With keys generate: the algorithm, the new key file, and the output
        (text: the kid alone).

    -h, --help
        Print this help.

    --version
        Print the version.

ENVIRONMENT
${environmentSection()}

EXAMPLES
    Local development with the non-secret defaults:
        deno task dev
        curl -fsS http://127.0.0.1:8080/local-dev/v1/healthz

    Hosted, on PostgreSQL and SMTP:
        export BUS_AUTH_HS256_SECRET_FILE=/run/secrets/bus-auth-hs256
        export BUS_AUTH_POSTGRES_DSN_FILE=/run/secrets/bus-auth-postgres-dsn
        export BUS_AUTH_OTP_SENDER=smtp BUS_AUTH_SMTP_HOST=smtp.example.internal
        export BUS_AUTH_SMTP_FROM=auth@example.test BUS_AUTH_SMTP_USERNAME=bus-auth
        export BUS_AUTH_SMTP_PASSWORD_FILE=/run/secrets/bus-auth-smtp-password
        export BUS_AUTH_API_USER_SCOPES="llm:proxy billing:read"
        bus-api-provider-auth config && bus-api-provider-auth serve --listen 0.0.0.0:8080

    Container or systemd health check:
        bus-api-provider-auth healthcheck
        bus-api-provider-auth healthcheck --url http://127.0.0.1:8080/healthz
        bus-api-provider-auth healthcheck --url http://127.0.0.1:8080/readyz

    Schema for a database administrator:
        bus-api-provider-auth migrate --print-sql > bus-auth-schema.sql

    Audit retention, run daily with the provider's environment:
        bus-api-provider-auth audit prune

    A new EdDSA signing key, published before it signs:
        bus-api-provider-auth keys generate --alg EdDSA --out /var/lib/bus-auth/signing-2.pem
        export BUS_AUTH_VERIFY_KEY_FILES=/var/lib/bus-auth/signing-2.pem

SEE ALSO
    bus-auth(1), bus-operator(1), bus-operator-token(1), README.md
`;
}
