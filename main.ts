/**
 * The multi-call entry of every Bus auth program (DESIGN §1), for
 * development and `deno task install`: the program is the name this file
 * is invoked as, or else the first argument (`deno run -A main.ts bus-auth
 * status`). The compiled executables have entries of their own that carry
 * only their program: `cli/auth/main.ts`, `cli/operator/main.ts` and
 * `server/main.ts`. Programs load only when they run.
 *
 * @module
 */

import type { ProgramTable } from "./lib/program.ts";
import { runEntry } from "./lib/runtime/entry.ts";

const auth = () => import("./cli/auth/program.ts").then((module) => module.authProgram);
const operator = () => import("./cli/operator/program.ts").then((module) => module.operatorProgram);
const provider = () => import("./server/provider_cli.ts").then((module) => module.providerProgram);

/** Every program of the toolchain, by invocation name. */
export const PROGRAMS: ProgramTable = Object.freeze({
  "bus": () =>
    import("./cli/bus.ts").then((module) => module.createBusProgram({ auth, operator, "api provider auth": provider })),
  "bus-auth": auth,
  "bus-operator": operator,
  "bus-operator-auth": () => import("./cli/operator/auth_family.ts").then((module) => module.operatorAuthProgram),
  "bus-operator-token": () => import("./cli/operator/token_family.ts").then((module) => module.operatorTokenProgram),
  "bus-api-provider-auth": provider,
});

if (import.meta.main) Deno.exit(await runEntry({ programs: PROGRAMS }));
