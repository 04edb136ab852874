/**
 * `bus operator` / `bus-operator`: the umbrella of the operator families.
 * Families of other codebases are listed as not installed and refused
 * with exit 2.
 *
 * @module
 */

import { VERSION } from "../../version.ts";
import { EXIT, type Io, type Program } from "../program.ts";
import { operatorAuthProgram } from "./auth_family.ts";
import { FOREIGN_FAMILIES, OPERATOR_SYNOPSIS, operatorHelp } from "./help.ts";
import { operatorTokenProgram } from "./token_family.ts";

const FAMILIES: Readonly<Record<string, Program>> = { auth: operatorAuthProgram, token: operatorTokenProgram };

/** `bus operator`. */
export const operatorProgram: Program = {
  name: "bus-operator",
  summary: "operator families: auth, token",
  run: runOperator,
};

function runOperator(args: string[], io: Io): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    io.stderr(`bus-operator: a family is required\n${OPERATOR_SYNOPSIS}`);
    return Promise.resolve(EXIT.usage);
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout(operatorHelp());
    return Promise.resolve(EXIT.ok);
  }
  if (first === "--version") {
    io.stdout(`bus-operator ${VERSION}\n`);
    return Promise.resolve(EXIT.ok);
  }
  if (first in FAMILIES) return FAMILIES[first].run(rest, io);
  if (first in FOREIGN_FAMILIES) {
    io.stderr(`bus-operator: the "${first}" family (${FOREIGN_FAMILIES[first]}) is not installed in this build\n`);
    return Promise.resolve(EXIT.usage);
  }
  io.stderr(`bus-operator: unknown family "${first}"\n${OPERATOR_SYNOPSIS}`);
  return Promise.resolve(EXIT.usage);
}
