/**
 * The single entry point of every Bus auth program (DESIGN §1). Only this
 * file exits the process.
 *
 * @module
 */

import process from "node:process";
import { PROGRAMS, selectProgram } from "./cli/dispatch.ts";
import { EXIT, type Io } from "./lib/program.ts";

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

async function main(): Promise<number> {
  let env: Record<string, string> | undefined;
  const io: Io = {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    // Read on first use, so that --help and --version need no permission.
    get env() {
      return env ??= Deno.env.toObject();
    },
  };
  const selected = selectProgram(process.argv0, Deno.args);
  if (selected === null) {
    io.stderr(
      `Run as one of ${Object.keys(PROGRAMS).join(", ")}, or name one as the first argument:\n` +
        `  deno run -A main.ts bus-auth --help\n`,
    );
    return EXIT.usage;
  }
  try {
    return await selected.program.run(selected.args, io);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      io.stderr(`${selected.program.name}: missing permission: ${error.message.split("\n")[0]}\n`);
    } else {
      io.stderr(`${selected.program.name}: unexpected failure: ${error instanceof Error ? error.message : error}\n`);
    }
    return EXIT.failure;
  }
}

if (import.meta.main) Deno.exit(await main());
