/**
 * `bus`: the dispatcher of `bus auth …`, `bus operator …` and
 * `bus api provider auth …`.
 *
 * @module
 */

import { providerProgram } from "../server/provider_cli.ts";
import { VERSION } from "../version.ts";
import { authProgram } from "./auth/program.ts";
import { operatorProgram } from "./operator/program.ts";
import { EXIT, type Io, type Program } from "./program.ts";

/** Words after `bus` and the program they reach. */
const ROUTES: ReadonlyArray<[words: string[], program: Program]> = [
  [["auth"], authProgram],
  [["operator"], operatorProgram],
  [["api", "provider", "auth"], providerProgram],
];

const BUS_HELP = `NAME
    bus - Bus command dispatcher (auth toolchain)

SYNOPSIS
    bus auth <command> [<args>]
    bus operator <family> [<args>]
    bus api provider auth [<command>] [<args>]
    bus --help | --version

DESCRIPTION
    Dispatches to the Bus programs of this build. Each is also installed under
    its own name: bus-auth, bus-operator (bus-operator-auth,
    bus-operator-token) and bus-api-provider-auth.

COMMANDS
    auth                 end-user client: register, login, verify, status, token
    operator             operator families: auth, token
    api provider auth    the auth provider: serve, migrate, config

OPTIONS
    -h, --help
        Print this help.

    --version
        Print the version.

ENVIRONMENT
    See the help of each program, for example bus auth --help.

EXAMPLES
    bus auth --api-url http://127.0.0.1:8080/local-dev/v1/modules/auth status
    bus operator token --help
    bus api provider auth --help

SEE ALSO
    bus-auth(1), bus-operator(1), bus-api-provider-auth(1)
`;

const BUS_SYNOPSIS = `usage: bus auth|operator|api provider auth [<args>]
       bus --help | --version
`;

/** `bus`. */
export const busProgram: Program = {
  name: "bus",
  summary: "dispatcher",
  run: (args: string[], io: Io) => {
    if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
      io.stdout(BUS_HELP);
      return Promise.resolve(EXIT.ok);
    }
    if (args[0] === "--version") {
      io.stdout(`bus ${VERSION}\n`);
      return Promise.resolve(EXIT.ok);
    }
    for (const [words, program] of ROUTES) {
      if (words.every((word, i) => args[i] === word)) return program.run(args.slice(words.length), io);
    }
    io.stderr(
      `bus: ${args.length === 0 ? "a program is required" : `unknown program "${args.join(" ")}"`}\n${BUS_SYNOPSIS}`,
    );
    return Promise.resolve(EXIT.usage);
  },
};
