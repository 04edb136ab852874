/**
 * Programs of this toolchain that a compiled executable does not carry
 * itself: `bus api provider auth` in the `bus` alias of the `bus-auth`
 * binary runs the `bus-api-provider-auth` executable installed beside it
 * (else the one on PATH), with arguments, stdio and exit status passed
 * through, as git runs its subcommands.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { EXIT, type ProgramLoader } from "../../lib/program.ts";
import { findOnPath, isExecutable } from "./path.ts";
import { runModule } from "./spawn.ts";

/** A loader of the program that runs the executable `name` beside this one, else from PATH. */
export function siblingProgram(name: string): ProgramLoader {
  return () =>
    Promise.resolve({
      name,
      summary: `the ${name} executable`,
      run: async (args, io) => {
        const beside = join(dirname(Deno.execPath()), name);
        const path = await isExecutable(beside) ? beside : await findOnPath(name, io.env);
        if (path === undefined) {
          io.stderr(`bus: no ${name} beside ${dirname(Deno.execPath())} or on PATH\n`);
          return EXIT.usage;
        }
        return await runModule("bus", path, args, io);
      },
    });
}
