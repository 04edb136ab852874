/**
 * Help texts of `bus auth` (`bus-auth`) and of each of its commands.
 *
 * @module
 */

/** One command's help facts. */
export interface CommandHelp {
  usage: string;
  summary: string;
  description: string;
}

/** Every `bus auth` command, in help order. */
export const AUTH_COMMANDS: Readonly<Record<string, CommandHelp>> = {
  register: {
    usage: "bus auth register --email <email>",
    summary: "enter the waitlist with an email address",
    description: "Registers the email (or finds the existing registration) and prints its waitlist status.",
  },
  login: {
    usage: "bus auth login --email <email>",
    summary: "send a one-time sign-in code to an email",
    description:
      "Asks the provider to send a six-digit code to the mailbox. An email that never registered is registered\n(waitlisted) on the way, so login works without register. One code per minute per email.",
  },
  verify: {
    usage: "bus auth verify --email <email> --otp <code>",
    summary: "exchange the code for an auth-service session",
    description:
      "Verifies the code and stores the auth-service session token (0600) as auth/token under the Bus config folder,\nor at --token-file.",
  },
  status: {
    usage: "bus auth status",
    summary: "show verification and approval status",
    description: "Shows whether the email is verified and whether the account is waitlisted, approved or rejected.",
  },
  token: {
    usage: 'bus auth token --scope "<scopes>" [--ttl <duration>]',
    summary: "request a Bus API token after approval",
    description:
      "Requests an aud=ai.hg.fi/api JWT with the given space-separated scopes and stores it (0600) as auth/api-token\nunder the Bus config folder. --ttl accepts 90s, 10m, 1h; the provider caps it.",
  },
  refresh: {
    usage: "bus auth refresh",
    summary: "replace the session token with a fresh one",
    description: "Refreshes the stored session (or --token-file); the old token stops working.",
  },
  logout: {
    usage: "bus auth logout",
    summary: "end the session and remove the stored tokens",
    description:
      "Ends the session at the provider and removes auth/token (or --token-file) and auth/api-token.\nSigning out when not signed in succeeds and does nothing.",
  },
  me: {
    usage: "bus auth me",
    summary: "show the signed-in identity",
    description: "Shows user id, email, verification, status and, once approved, the account id.",
  },
  check: {
    usage: "bus auth check [--api]",
    summary: "validate a token and show its claims",
    description: "Asks the provider to validate the session token, or with --api the stored API token.",
  },
};

/** Short synopsis printed with usage errors. */
export const AUTH_SYNOPSIS = `usage: bus auth [--api-url <url>] [--token-file <path>] [--timeout <duration>]
                [--format text|json|token] [--output <file>] [--quiet] <command> [<args>]
       bus auth --help | --version | <command> --help
`;

/** The full `bus auth --help`. */
export function authHelp(): string {
  const commands = Object.entries(AUTH_COMMANDS)
    .map(([name, help]) => `    ${name.padEnd(9)} ${help.summary}`)
    .join("\n");
  return `NAME
    bus-auth - Bus auth client: register, sign in with an email code, request API tokens

SYNOPSIS
    bus auth [<options>] <command> [<args>]
    bus-auth [<options>] <command> [<args>]

DESCRIPTION
    bus auth is the command-line client of the Bus auth provider. It sends HTTP
    requests to the provider at --api-url (or BUS_AUTH_API_URL). Register to enter
    the waitlist, login to receive a one-time code, verify to exchange it for an
    auth-service session, status to check approval, and token to request a Bus
    API JWT with feature scopes (such as llm:proxy) once an operator approved you.

    Tokens are stored under the Bus config folder: BUS_CONFIG_DIR, else
    $XDG_CONFIG_HOME/bus, else ~/.config/bus. verify writes auth/token and token
    writes auth/api-token, as 0600 files in 0700 folders, atomically. Tokens are
    never written under a repository-local .bus/ folder, and literal tokens are
    never accepted on the command line. No command prints a token unless asked
    with --format token; --format json names the token file and the expiry.

COMMANDS
${commands}

OPTIONS
    --api-url <url>
        Auth provider base URL: an auth base (.../api/v1/auth, .../modules/auth)
        or an origin (http://127.0.0.1:8080), where /api/v1/auth is used.

    --token-file <path>
        Read the session token from, and verify and refresh write it to, this
        file. - (or a named pipe) reads it from standard input.

    --timeout <duration>
        HTTP timeout (90s, 10m, 1h). Default: 30s.

    --format text|json|token
        Human output (default); JSON for scripts (the provider's answer, with
        token_file instead of the token); or, for verify, token and refresh,
        only the raw token. With json, a failure is a JSON object on stdout:
        {"error":<code>,"message":...,"http_status":<n or null>,"exit_code":<n>}.

    --output <file>
        Write the command output to a file (0600) instead of stdout.

    --quiet
        Print nothing on success.

    --email <email>, --otp <code>, --scope "<scopes>", --ttl <duration>, --api
        Command arguments; see the commands above.

    -h, --help
        Print this help, or a command's help after the command.

    --version
        Print the version.

ENVIRONMENT
    BUS_AUTH_API_URL
        Auth provider base URL when --api-url is not given.

    BUS_AUTH_TOKEN_FILE
        The session token file when --token-file is not given (as --token-file).

    BUS_AUTH_TOKEN
        Session token for automation, used when neither --token-file nor
        BUS_AUTH_TOKEN_FILE is given (set only one of the two variables).

    BUS_CONFIG_DIR, XDG_CONFIG_HOME, HOME
        Locate the Bus config folder (see DESCRIPTION).

EXIT STATUS
    0 success; 1 failure: the provider cannot be reached (the reason is shown)
    or failed, not signed in, or a token file cannot be read; 2 usage or
    configuration error (only these print the usage); 3 the provider refused
    the request (its message and code are shown, with what to do next).

EXAMPLES
    Sign up against the local development provider (deno task dev):
        export BUS_AUTH_API_URL=http://127.0.0.1:8080/local-dev/v1/modules/auth
        bus auth register --email user@example.com
        bus auth login --email user@example.com
        bus auth verify --email user@example.com --otp 123456
        bus auth status

    After an operator approved the account:
        bus auth token --scope "llm:proxy billing:read"
        curl -fsS -H "Authorization: Bearer $(cat ~/.config/bus/auth/api-token)" \\
          https://ai.hg.fi/v1/models

SEE ALSO
    bus-operator(1), bus-api-provider-auth(1), README.md
`;
}

/** Help of one command. */
export function commandHelp(name: string): string {
  const help = AUTH_COMMANDS[name];
  return `NAME
    bus auth ${name} - ${help.summary}

SYNOPSIS
    ${help.usage}

DESCRIPTION
    ${help.description.replace(/\n/g, "\n    ")}

    Global options (--api-url, --token-file, --timeout, --format, --output,
    --quiet) are described in bus auth --help.
`;
}
