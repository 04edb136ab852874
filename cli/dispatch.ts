/**
 * Multi-call dispatch (DESIGN §1): the program is chosen by the name the
 * binary was invoked as, or, under `deno run main.ts`, by the first argument.
 *
 * @module
 */

import { providerProgram } from "../server/provider_cli.ts";
import { authProgram } from "./auth/program.ts";
import { busProgram } from "./bus.ts";
import { operatorAuthProgram } from "./operator/auth_family.ts";
import { operatorProgram } from "./operator/program.ts";
import { operatorTokenProgram } from "./operator/token_family.ts";
import type { Program } from "../lib/program.ts";

/** The program behind each invocation name. */
export const PROGRAMS: Readonly<Record<string, Program>> = Object.freeze({
  "bus": busProgram,
  "bus-auth": authProgram,
  "bus-operator": operatorProgram,
  "bus-operator-auth": operatorAuthProgram,
  "bus-operator-token": operatorTokenProgram,
  "bus-api-provider-auth": providerProgram,
});

/**
 * Picks the program from the invocation name (`argv0` basename, `.exe`
 * dropped) or else from the first argument.
 *
 * @returns the program and its arguments, or `null` when neither names one
 */
export function selectProgram(argv0: string, args: string[]): { program: Program; args: string[] } | null {
  const invoked = argv0.split(/[\\/]/).pop()!.replace(/\.exe$/i, "");
  if (invoked in PROGRAMS) return { program: PROGRAMS[invoked], args };
  if (args.length > 0 && args[0] in PROGRAMS) return { program: PROGRAMS[args[0]], args: args.slice(1) };
  return null;
}
