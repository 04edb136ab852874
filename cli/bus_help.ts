/**
 * Help texts of `bus`.
 *
 * @module
 */

/** Shown instead of the programs found on PATH when PATH could not be searched. */
export const NOT_SEARCHED = "PATH not searched: this program may not read the environment or the folders";

/** Short synopsis of `bus`. */
export const BUS_SYNOPSIS = `usage: bus auth|operator|api provider auth [<args>]
       bus <module> [<args>]
       bus <file>.bus
       bus --help | --version
`;

/**
 * `bus --help`, listing `modules` (typed words → program name) found on
 * PATH, or `null` when PATH could not be searched for lack of permission.
 */
export function busHelp(modules: ReadonlyMap<string, string> | null): string {
  const found = modules === null
    ? `    (${NOT_SEARCHED})`
    : modules.size === 0
    ? "    (no bus-<module> programs on PATH)"
    : [...modules].map(([typed, command]) => `    ${column(typed, 21)}${command}`).join("\n");
  return `NAME
    bus - Bus command dispatcher (auth toolchain)

SYNOPSIS
    bus auth <command> [<args>]
    bus operator <family> [<args>]
    bus api provider auth [<command>] [<args>]
    bus <module> [<args>]
    bus <file>.bus
    bus --help | --version

DESCRIPTION
    Dispatches to the Bus programs of this build. Each is also installed under
    its own name: bus-auth, bus-operator (bus-operator-auth,
    bus-operator-token) and bus-api-provider-auth.

    Modules of other Bus codebases are found the way git finds its
    subcommands: bus <module> runs the program bus-<module> from the first
    PATH folder that has it, passing the arguments, stdin, stdout, stderr,
    environment and exit status through unchanged. When bus-X is not on
    PATH, bus X Y ... tries bus-X-Y, and so on up to four words, shortest
    name first: bus api provider llm runs bus-api-provider-llm.

    bus <file>.bus runs a file of bus commands (see BUS FILES). A first
    argument that ends in .bus or contains a / is such a file, so a file whose
    first line is #!/usr/bin/env bus can be run as a program.

COMMANDS
    auth                 end-user client: register, login, verify, status, token
    operator             operator families: auth, token, and bus-operator-* on PATH
    api provider auth    the auth provider: serve, migrate, config, healthcheck
    <file>.bus           run the bus commands of a file, one per line

    Modules found on PATH:
${found}

BUS FILES
    One command per line, written as it would follow bus (auth status,
    api provider auth --help). A word that starts with # starts a comment to
    the end of the line. Words are split as a POSIX shell splits them: '...'
    keeps its text literally; "..." too, except that \\ escapes $ \` " \\ and
    newline; outside quotes \\ keeps the next character literally, and a \\ at
    the end of a line continues the command on the next one. Nothing is
    expanded: $VAR, globs and ~ stay literal. Lines are not shell: an unquoted
    | ; & < > \` or $(, or a \` or $( inside double quotes, is an error; quote
    it ('|') if it is meant literally.

    run command -- <program> [<args>]
        Runs <program>, found on PATH (or a path with a /), directly, without
        a shell, with this process's stdin, stdout, stderr and environment.
        bus as <program> is this same program. A program that a signal ends
        fails with 128 + the signal number.

    The whole file is checked before anything runs. Lines then run in order,
    in this process; the first failing line stops the run with its exit
    status, and a message on stderr names it as FILE:LINE. A .bus file takes
    no arguments; relative paths in it are relative to the current folder. A
    .bus file may run other .bus files, at most 8 deep.

OPTIONS
    -h, --help
        Print this help.

    --version
        Print the version.

ENVIRONMENT
    PATH
        Where bus-<module> programs and the programs of run command are found.

    BUS_FILE_DEPTH
        Set by bus for what a .bus file runs: how deeply .bus files are nested.

    The programs take their own variables, for example bus auth --help.

EXIT STATUS
    The exit status of the program or module that ran, or of the first failing
    line of a .bus file. 2 for a usage error, a module found neither built in
    nor on PATH, a run command program not on PATH or not executable, and a
    .bus file that is missing, a directory, unreadable or malformed (nothing
    runs then).

EXAMPLES
    bus auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth status
    bus operator token --help
    bus api provider auth --help
    bus ./deploy.bus

SEE ALSO
    bus-auth(1), bus-operator(1), bus-api-provider-auth(1)
`;
}

/** `text` padded to `width`, or followed by two spaces when it is longer. */
export function column(text: string, width: number): string {
  return text.length < width - 1 ? text.padEnd(width) : `${text}  `;
}
