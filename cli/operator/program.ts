/**
 * `bus operator` / `bus-operator`: the umbrella of the operator families.
 * `auth` and `token` are built in; any other family runs the program
 * `bus-operator-<family>` found on PATH, as git runs `git-X`.
 *
 * @module
 */

import { versionLine } from "../../lib/version.ts";
import { findOnPath, listOnPath, withoutPermission } from "../external/path.ts";
import { runModule } from "../external/spawn.ts";
import { EXIT, type Io, type Program, type ProgramLoader } from "../../lib/program.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { OPERATOR_SYNOPSIS, operatorHelp } from "./help.ts";

/** The built-in families, each loaded when it runs. */
export const OPERATOR_FAMILIES: Readonly<Record<string, ProgramLoader>> = {
  auth: () => import("./auth_family.ts").then((module) => module.operatorAuthProgram),
  token: () => import("./token_family.ts").then((module) => module.operatorTokenProgram),
};
const FAMILIES = OPERATOR_FAMILIES;
const PREFIX = "bus-operator-";

/** `bus operator`. */
export const operatorProgram: Program = {
  name: "bus-operator",
  summary: "operator families: auth, token, and bus-operator-* on PATH",
  run: runOperator,
};

async function runOperator(args: string[], io: Io): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    io.stderr(`bus-operator: a family is required\n${OPERATOR_SYNOPSIS}`);
    return EXIT.usage;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout(operatorHelp(await familiesOnPath(io).catch(withoutPermission)));
    return EXIT.ok;
  }
  if (first === "--version") {
    io.stdout(versionLine("bus-operator", io.build));
    return EXIT.ok;
  }
  if (Object.hasOwn(FAMILIES, first)) return await (await FAMILIES[first]()).run(rest, io);
  if (first.startsWith("-")) {
    io.stderr(`bus-operator: unknown option "${first}"\n${OPERATOR_SYNOPSIS}`);
    return EXIT.usage;
  }
  if (!/^[^\s/\\]+$/.test(first)) {
    io.stderr(`bus-operator: unknown family "${first}"\n${OPERATOR_SYNOPSIS}`);
    return EXIT.usage;
  }
  const command = `${PREFIX}${first}`;
  const path = await findOnPath(command, io.env);
  if (path !== undefined) return await runModule("bus-operator", path, rest, io);
  const known = [...Object.keys(FAMILIES), ...await familiesOnPath(io)];
  io.stderr(`bus-operator: no ${command} on PATH${didYouMean(first, known)}\n`);
  return EXIT.usage;
}

/** Family names of the `bus-operator-<family>` programs on PATH, other than the built-in ones. */
async function familiesOnPath(io: Io): Promise<string[]> {
  const names = [...(await listOnPath(PREFIX, io.env)).keys()].map((command) => command.slice(PREFIX.length));
  return names.filter((name) => !Object.hasOwn(FAMILIES, name));
}
