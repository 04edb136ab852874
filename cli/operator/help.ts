/**
 * Help texts of `bus operator` and of its `auth` and `token` families.
 *
 * @module
 */

/**
 * Families of `bus operator` that other Bus codebases install as
 * `bus-operator-<family>` programs, with the summary the help shows for them.
 */
export const FOREIGN_FAMILIES: Readonly<Record<string, string>> = {
  billing: "billing operations",
  deploy: "complete deployment flows",
  cloud: "cloud phase of deployments",
  database: "database phase of deployments",
  node: "node phase of deployments",
  inference: "inference phase of deployments",
};

/** Short synopsis of the umbrella. */
export const OPERATOR_SYNOPSIS = `usage: bus operator <family> [<args>]
       bus operator --help | --version | <family> --help
`;

/** Short synopsis of `bus operator auth`. */
export const OPERATOR_AUTH_SYNOPSIS =
  `usage: bus operator auth [--api-url <url>] --token-file <path> [--timeout <duration>]
                         [--format text|json] [--output <file>] [--quiet]
                         waitlist [--status <status>] [--limit <n>] [--cursor <cursor>]
                         | approve --email <email> [--scopes "<scopes>"] | reject --email <email> [--reason <text>]
                         | policy show|set (--email <email> | --account-id <id>) [--scopes "<scopes>" | --default]
                         | client create|list|rotate|revoke [--name <name>] [--key-file <path>] ...
                         | audit [--since <time|duration>] [--actor <a>] [--target <t>] [--action <x>]
`;

/** Short synopsis of `bus operator token`. */
export const OPERATOR_TOKEN_SYNOPSIS =
  `usage: bus operator token [--api-url <url>] [--internal-key-file <path>] [--format json|token]
                          [--output <file>] [--quiet] [--timeout <duration>]
                          issue --subject <id> [--audience <aud>] [--scope "<scopes>"] [--ttl <duration>]
       bus operator token [--api-url <url>] [--format json|token] [--output <file>]
                          issue --client-id <id> --client-secret-file <path> [--scope "<scopes>"] [--ttl <duration>]
       bus operator token [--format json|token] issue --local [--signing-key-file <path> | --hs256-secret-file <path>]
                          --subject <id> ...
       bus operator token [--api-url <url>] --token-file <path> [--format json] revoke --jti <id>
       bus operator token [--format json] keys generate --alg EdDSA|ES256 --out <file>
`;

/**
 * `bus operator --help`, listing the `bus-operator-<family>` programs found
 * on PATH (`onPath`, family names; `null` when PATH could not be searched
 * for lack of permission) and the spec's other families that are not.
 */
export function operatorHelp(onPath: readonly string[] | null): string {
  const missing = onPath === null ? "" : ", not found on PATH";
  const entries: [string, string][] = [
    ["auth", "waitlist, approve, reject, policy, client, audit (bus-operator-auth)"],
    ["token", "issue service tokens, remotely or --local (bus-operator-token)"],
  ];
  for (const name of onPath ?? []) {
    const summary = FOREIGN_FAMILIES[name];
    entries.push([
      name,
      summary === undefined ? `bus-operator-${name} on PATH` : `${summary} (bus-operator-${name} on PATH)`,
    ]);
  }
  for (const [name, summary] of Object.entries(FOREIGN_FAMILIES)) {
    if (!onPath?.includes(name)) entries.push([name, `${summary} (bus-operator-${name}${missing})`]);
  }
  const width = Math.max(10, ...entries.map(([name]) => name.length + 2));
  const families = entries.map(([name, text]) => `    ${name.padEnd(width)}${text}`).join("\n");
  return `NAME
    bus-operator - Bus operator commands: waitlist administration and service-token bootstrap

SYNOPSIS
    bus operator <family> [<args>]
    bus-operator <family> [<args>]
    bus operator --help | --version | <family> --help

DESCRIPTION
    bus operator is the umbrella of the operator-facing command families. End
    users use bus auth; operators approve them with bus operator auth and
    bootstrap service tokens with bus operator token. Each family documents its
    own flags: bus operator <family> --help.

    Families of other Bus codebases are found the way git finds its
    subcommands: bus operator <family> runs the program bus-operator-<family>
    from the first PATH folder that has it, passing the arguments, stdin,
    stdout, stderr, environment and exit status through unchanged.

COMMANDS
${families}

OPTIONS
    -h, --help
        Print this help.

    --version
        Print the version.

ENVIRONMENT
    BUS_AUTH_API_URL
        Auth provider base URL for the auth and token families.

    BUS_OPERATOR_INTERNAL_KEY
        Internal shared key for bus operator token issue (prefer --internal-key-file).

    BUS_AUTH_HS256_SECRET
        Signing secret for bus operator token issue --local (prefer --hs256-secret-file).

    BUS_OPERATOR_SIGNING_KEY_FILE
        EdDSA or ES256 key file for bus operator token issue --local.

EXIT STATUS
    0 success; 1 network failure or provider error; 2 usage error or a family
    found neither built in nor on PATH; 3 the provider refused the request. A
    family found on PATH exits with its own status.

EXAMPLES
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token waitlist
    bus operator token --format token issue --local --hs256-secret-file ./local/hs256-secret \\
      --subject auth-operator --audience ai.hg.fi/auth --scope "waitlist:read waitlist:approve"

SEE ALSO
    bus-operator-auth(1), bus-operator-token(1), bus-auth(1), bus-api-provider-auth(1)
`;
}

/** `bus operator auth --help`. */
export function operatorAuthHelp(): string {
  return `NAME
    bus-operator-auth - review the waitlist, approve or reject registrations, manage service clients

SYNOPSIS
    bus operator auth [<options>] waitlist [--status waitlisted|approved|rejected|all]
                                           [--limit <n>] [--cursor <cursor>]
    bus operator auth [<options>] approve --email <email> [--scopes "<scopes>"]
    bus operator auth [<options>] reject --email <email> [--reason <text>]
    bus operator auth [<options>] policy show (--email <email> | --account-id <id>)
    bus operator auth [<options>] policy set (--email <email> | --account-id <id>)
                                             (--scopes "<scopes>" | --default)
    bus operator auth [<options>] client create --name <name> --audience <aud> --scopes "<scopes>"
                                                [--ttl-max <duration>] --key-file <path> [--if-missing]
    bus operator auth [<options>] client list
    bus operator auth [<options>] client rotate --name <name> --key-file <path> [--retire-after <duration>]
    bus operator auth [<options>] client revoke --name <name>
    bus operator auth [<options>] audit [--since <time|duration>] [--actor <actor>] [--target <id>]
                                        [--action <action>]

DESCRIPTION
    Calls the admin endpoints of the auth provider with an auth-service admin
    token (aud=ai.hg.fi/auth) read from --token-file (a file, or - for
    standard input). waitlist needs
    waitlist:read; approve needs waitlist:approve or admin:manage; reject also
    accepts waitlist:reject. Approval needs a verified email and creates the
    stable account id used as the subject of API tokens; repeating a decision
    is harmless.

    Each account has a scope policy: by default every scope of the
    provider's BUS_AUTH_API_USER_SCOPES. policy set narrows it to a subset
    (never wider than that list, never operator scopes); the account is then
    issued only those, and its live API tokens holding a dropped scope are
    refused by the provider from then on. policy show prints the policy and
    what it allows now; policy, and approve --scopes, need admin:manage.

    Service clients get internal tokens with the OAuth2 client-credentials
    grant (bus operator token issue --client-id) instead of the shared
    internal key, each within its own audience, scopes and longest lifetime.
    client create writes the client's key once to --key-file (0600,
    atomically; never under a repository-local .bus/) and prints only the
    client id, the key's first 8 characters and the path; the provider keeps
    only a hash. It creates or reuses: for a client that exists, a key file
    that holds one of its working keys is reused (exit 0, "Reused", no new
    key); with --if-missing and no key file (or an empty one) nothing changes
    (exit 0); otherwise it exits 1 and names the ways on: rotate, a key file
    with the working key, or --if-missing. client rotate writes a new key to
    --key-file while the old keys keep working for --retire-after; client
    revoke ends the client's keys and every token issued to it at once. The
    client commands need admin:manage.

    audit prints the provider's audit trail, oldest first, following every
    page: who (admin:<token subject>, client:<id>, bootstrap-key,
    user:<id>, anonymous) did what (user.approve, user.reject,
    token.revoke, otp.verify, otp.locked, session.logout, ...) to which
    target, when, from which address and request, and the outcome (ok, or
    the refusal's code). It needs admin:manage.

COMMANDS
    waitlist  print pending registrations as a table (every page, or one page
              with --limit/--cursor)
    approve   approve a verified registration and print the account id;
              --scopes also sets its scope policy
    reject    reject a registration: its API tokens stop working and new ones
              are refused; the user can still sign in to read the status
    policy    show an account's scope policy, or set it (--scopes) or
              restore the default (--default)
    client    service clients for the client-credentials grant: create (or
              reuse) with a key file, list, rotate a key, revoke
    audit     print the audit trail (every page, oldest first) as a table, or
              JSON lines with --format json

OPTIONS
    --api-url <url>
        Auth provider base URL (or BUS_AUTH_API_URL).

    --token-file <path>
        File with the admin token; - reads it from standard input, and named
        pipes work. Required; tokens are never accepted as values.

    --timeout <duration>
        HTTP timeout (90s, 10m, 1h). Default: 30s.

    --format text|json
        Human output (default) or JSON ({"users":[...],"next_cursor":...} for
        waitlist; for audit one record object per line). With json, a failure
        is a JSON object on stdout too:
        {"error":<code>,"message":...,"http_status":<n or null>,"exit_code":<n>}.

    --output <file>
        Write the output to a file (0600) instead of stdout.

    --quiet
        Print nothing on success.

    --status <status>
        waitlist only: which registrations to list. Default: waitlisted.

    --limit <n>, --cursor <cursor>
        waitlist only: fetch one page of at most n (1..500) registrations,
        starting after the cursor that the previous page printed; without
        them every page is fetched.

    --email <email>, --reason <text>
        The registration to decide on, and an optional operator note for reject.

    --scopes "<scopes>"
        approve and policy set: the account's scope policy, space-separated
        scopes from BUS_AUTH_API_USER_SCOPES ("" allows none). client create:
        the scopes the client's tokens may hold (internal scopes allowed).

    --default
        policy set only: restore the default policy, the whole
        BUS_AUTH_API_USER_SCOPES list.

    --account-id <id>
        policy only: name the account by its id instead of --email.

    --name <name>
        client: the client's name (lowercase letters, digits and dashes, at
        most 64), which is also the subject of its tokens.

    --audience <aud>
        client create: ai.hg.fi/auth, ai.hg.fi/api or ai.hg.fi/internal.

    --ttl-max <duration>
        client create: the longest lifetime of its tokens (at least 60s).
        Default, and ceiling: the provider's BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS.

    --key-file <path>
        client create and rotate: the file the key is written to (never
        printed); for create, a file that already holds the client's key.

    --if-missing
        client create only: a client that exists is left as it is when no
        key file holds its key.

    --retire-after <duration>
        client rotate only: how long the old keys keep working. Default: 1h;
        0 ends them at once.

    --since <time|duration>
        audit only: records from this time on: an ISO time with its offset
        (2026-11-24T08:00:00Z), a date (2026-11-24, midnight UTC), or a
        duration back from now (90m, 24h, 7d).

    --actor <actor>, --target <id>, --action <action>
        audit only: records of this actor (such as admin:ops or
        user:<user id>), on this target (a user id, account id, token id or
        client id), or of this action (such as user.approve); exact matches.

    -h, --help
        Print this help.

ENVIRONMENT
    BUS_AUTH_API_URL
        Auth provider base URL when --api-url is not given.

EXIT STATUS
    0 success; 1 network failure, provider error or unreadable token file, or
    a client that exists without a key file holding its key; 2 usage error;
    3 the provider refused (for example 403 insufficient_scope, 403
    scope_not_allowed, 404 user_not_found, 409 not_verified) or no client has
    the name.

EXAMPLES
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token waitlist
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token approve --email user@example.com
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/admin-token reject --email user@example.com
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/manager-token \\
      policy set --email user@example.com --scopes "llm:proxy"
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/manager-token \\
      client create --name billing-worker --audience ai.hg.fi/api \\
      --scopes "billing:entitlement:check" --ttl-max 10m --key-file ./local/billing-worker.key
    bus operator auth --api-url http://127.0.0.1:8080 --token-file ./local/manager-token \\
      audit --since 24h --action user.approve

SEE ALSO
    bus-operator-token(1), bus-auth(1), bus-api-provider-auth(1)
`;
}

/** `bus operator token --help`. */
export function operatorTokenHelp(): string {
  return `NAME
    bus-operator-token - issue trusted service tokens (remote or --local), revoke tokens, generate signing keys

SYNOPSIS
    bus operator token [<options>] issue --subject <id> [--audience <aud>] [--scope "<scopes>"] [--ttl <duration>]
    bus operator token [<options>] issue --client-id <id> --client-secret-file <path> [--scope "<scopes>"]
                                         [--ttl <duration>]
    bus operator token [<options>] issue --local [--signing-key-file <path> | --hs256-secret-file <path>]
                                         --subject <id> [...]
    bus operator token [<options>] --token-file <path> revoke --jti <id>
    bus operator token [--format json] keys generate --alg EdDSA|ES256 --out <file>
    bus-operator-token [<options>] issue ... | revoke ... | keys generate ...

DESCRIPTION
    Remote issuing posts to /api/internal/auth/token below --api-url with the
    internal shared key from --internal-key-file (or BUS_OPERATOR_INTERNAL_KEY_FILE)
    in the X-Bus-Internal-Key header. --local signs the same claims locally,
    without an HTTP call: with the EdDSA or ES256 key of --signing-key-file
    (the token carries its kid) or the HS256 secret of --hs256-secret-file
    (or the environment, see below). A provider that signs with or accepts
    that key (BUS_AUTH_SIGNING_KEY_FILE, BUS_AUTH_VERIFY_KEY_FILES), or has the
    same secret, accepts the token; any other rejects it. Literal keys and secrets are
    never accepted as flag values; every secret file may be - for standard
    input (pass show key | bus operator token --internal-key-file - ...).
    Options may stand before or after issue.

    With --client-id and --client-secret-file, issue uses a service client
    (bus operator auth client create) instead of the shared key: the OAuth2
    client-credentials grant (RFC 6749 §4.4), a form with the client's id
    and key as HTTP Basic credentials, posted to the same endpoint. The token
    gets the client's name as subject, its audience and, unless --scope
    names a subset, all its scopes; --ttl shortens it within the client's
    longest lifetime. --subject and --audience do not go with it.

    The token itself is printed only with --format token. The default JSON
    shows the claims, the expiry and the token's first 8 characters
    (token_prefix). With --output <file> the file gets the output (the raw
    token with --format token, else the JSON envelope with access_token),
    written 0600 atomically, and stdout names the file and the token prefix.
    Every form shows the token's id (jti): the handle to revoke it by.

    revoke ends a token before it expires, by its jti: admin and internal
    tokens, which may live up to 30 days, but also sessions and API tokens.
    It posts to admin/tokens/revoke below --api-url with an admin token
    (aud=ai.hg.fi/auth, scope admin:manage) from --token-file. Repeating it
    is harmless. The provider keeps the revocation for 30 days and a minute,
    the longest any token of this system can live.

    keys generate writes a new Ed25519 (EdDSA) or P-256 (ES256) signing key
    to --out as PKCS#8 PEM, mode 0600, atomically, never over an existing
    file, and prints only its kid (its RFC 7638 thumbprint; with --format
    json also the public JWK), never the private key. It writes wherever this
    program may write, such as /etc/credstore (the compiled provider's own
    keys generate writes only below /var/lib/bus-auth). The provider's README
    section "Signing keys" has the rotation runbook.

COMMANDS
    issue            issue one token
    revoke           revoke a token by its id (jti)
    keys generate    write a new signing key file and print its kid

OPTIONS
    --api-url <url>
        Auth provider base URL for remote issuing (or BUS_AUTH_API_URL).

    --internal-key-file <path>
        File with the provider's internal shared key (- for standard input).

    --client-id <id>, --client-secret-file <path>
        A service client's id (the UUID client create prints) and the file
        with its key (- for standard input): issue with the client-credentials
        grant instead of the shared key.

    --local
        Sign locally instead of calling the provider.

    --hs256-secret-file <path>
        File with the HS256 signing secret for --local (base64:<value> allowed).

    --signing-key-file <path>
        Key file (PKCS#8 PEM or a private JWK, EdDSA or ES256) for --local; the
        token carries the key's kid. Not with --hs256-secret-file.

    --alg EdDSA|ES256, --out <file>
        keys generate only: the new key's algorithm and file.

    --subject <id>
        Token subject ([A-Za-z0-9._:@-], at most 128 characters). Required.

    --audience <aud>
        ai.hg.fi/auth (default), ai.hg.fi/api or ai.hg.fi/internal.

    --scope "<scopes>"
        Space-separated scopes, such as "usage:read" or "waitlist:read waitlist:approve".
        With --client-id: a subset of the client's scopes (default: all of them).

    --ttl <duration>
        Lifetime (90s, 10m, 1h). Default: the provider's maximum remotely, 10m
        with --local. The provider caps longer requests and the output says so.

    --jti <id>
        revoke only: the id of the token to revoke (a UUID).

    --token-file <path>
        revoke only: file with an admin token holding admin:manage (- for
        standard input). Tokens are never accepted as values.

    --format json|token
        JSON without the token (default) or only the raw bearer token (issue
        only). With an explicit --format json, a failure is a JSON object on
        stdout too.

    --output <file>
        Write the output to a file (0600, atomically); stdout then shows only
        the path and the token's first 8 characters.

    --quiet
        Print nothing on success.

    --timeout <duration>
        HTTP timeout. Default: 30s.

    -h, --help
        Print this help.

    --version
        Print the version.

ENVIRONMENT
    BUS_AUTH_API_URL
        Auth provider base URL when --api-url is not given.

    BUS_OPERATOR_INTERNAL_KEY_FILE, BUS_OPERATOR_INTERNAL_KEY
        File with the internal shared key, or the key itself, when
        --internal-key-file is not given (set only one).

    BUS_OPERATOR_SIGNING_KEY_FILE
        Key file for --local when neither --signing-key-file nor
        --hs256-secret-file is given.

    BUS_OPERATOR_HS256_SECRET_FILE
        File with the signing secret for --local when neither flag is given
        (set only one of the two BUS_OPERATOR_ variables).

    BUS_AUTH_SIGNING_ALG, BUS_AUTH_SIGNING_KEY_FILE
        The provider's own signing key, used for --local when none of the
        above is set and BUS_AUTH_SIGNING_ALG is EdDSA or ES256.

    BUS_AUTH_HS256_SECRET_FILE, BUS_AUTH_HS256_SECRET
        The provider's own forms of the signing secret, used for --local when
        none of the above applies (set only one).

    BUS_AUTH_ISSUER
        Issuer of --local tokens. Default: bus-api-provider-auth.

EXIT STATUS
    0 success; 1 network failure, provider error or unreadable secret file;
    2 usage error; 3 the provider refused (403 for a wrong key, subject or
    audience, or an admin token without admin:manage; with --client-id 401
    invalid_client for an unknown or revoked client or a wrong or retired
    key, 400 invalid_scope for a scope the client may not hold).

EXAMPLES
    bus operator token --api-url http://127.0.0.1:8080 --internal-key-file ./local/internal-key \\
      issue --subject usage-exporter --audience ai.hg.fi/internal --scope "usage:read"

    bus operator token --format token issue --local --hs256-secret-file ./local/hs256-secret \\
      --subject local-codex --audience ai.hg.fi/api --scope llm:proxy --ttl 1h

    bus operator token keys generate --alg EdDSA --out /etc/credstore/bus-auth-signing-2

    bus operator token --format token issue --local --signing-key-file /etc/credstore/bus-auth-signing-2 \\
      --subject local-codex --audience ai.hg.fi/api --scope llm:proxy --ttl 1h

    pass show bus/internal-key | bus operator token --internal-key-file - --format token \\
      --output /run/secrets/billing-worker.token issue --subject billing-worker \\
      --audience ai.hg.fi/api --scope "billing:entitlement:check"

    bus operator token --api-url http://127.0.0.1:8080 --format token --output /run/secrets/billing.token \\
      issue --client-id 0b6f9a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b --client-secret-file ./local/billing-worker.key

    bus operator token --api-url http://127.0.0.1:8080 --token-file ./local/admin-token \\
      revoke --jti 6f1c2a0e-3b4d-4e5f-8a9b-0c1d2e3f4a5b

SEE ALSO
    bus-operator-auth(1), bus-auth(1), bus-api-provider-auth(1)
`;
}
