import { EXIT, type Program } from "./program.ts";

/** A client program whose issue has not landed yet (issue 3). */
export function pendingProgram(name: string): Program {
  return {
    name,
    summary: "not implemented yet",
    run: (_args, io) => {
      io.stderr(`${name}: not implemented yet\n`);
      return Promise.resolve(EXIT.usage);
    },
  };
}
