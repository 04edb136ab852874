/**
 * What every entry module does: build the {@link Io} of this process, pick
 * the program by invocation name, run it, and turn what escapes into one
 * line and an exit code. The entry module itself passes that code to
 * `Deno.exit`. `--version` alone is answered without loading the program,
 * and nothing here needs a permission before the program does.
 *
 * @module
 */

import { EXIT, type Io, type ProgramTable, selectProgram } from "../program.ts";
import { type BuildInfo, VERSION, versionLine } from "../version.ts";
import { readBuildCommit } from "./build_commit.ts";

/** What an executable holds. */
export interface Entry {
  /** Its programs by invocation name. */
  programs: ProgramTable;
  /** The program when neither the invocation name nor the first argument names one (a renamed binary, `deno run`). */
  fallback?: string;
}

const encoder = new TextEncoder();

/** Runs the program this process was invoked as and returns its exit code. */
export async function runEntry(entry: Entry, args: readonly string[] = Deno.args): Promise<number> {
  const io = processIo();
  const selected = selectProgram(entry.programs, await invocationName(), args, entry.fallback);
  if (selected === null) {
    io.stderr(
      `Run as one of ${Object.keys(entry.programs).join(", ")}, or name one as the first argument:\n` +
        `  deno run -A main.ts bus-auth --help\n`,
    );
    return EXIT.usage;
  }
  const { name } = selected;
  try {
    if (selected.args.length === 1 && selected.args[0] === "--version") {
      io.stdout(versionLine(name, io.build));
      return EXIT.ok;
    }
    const program = await entry.programs[name]();
    return await program.run(selected.args, io);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      io.stderr(`${name}: missing permission: ${error.message.split("\n")[0]}\n`);
    } else {
      io.stderr(`${name}: unexpected failure: ${error instanceof Error ? error.message : error}\n`);
    }
    return EXIT.failure;
  }
}

/** This process's standard streams, and its environment and build read on first use. */
function processIo(): Io {
  let env: Record<string, string> | undefined;
  let build: BuildInfo | undefined;
  return {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    get env() {
      return env ??= Deno.env.toObject();
    },
    get build() {
      return build ??= { version: VERSION, commit: readBuildCommit() };
    },
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/**
 * `argv[0]` as the process was started (a symlink's own name, which
 * `Deno.execPath()` would resolve away). On Linux it comes from
 * `/proc/self/cmdline` when reading it needs no prompt; elsewhere from
 * `node:process`, loaded only then because it costs start-up time.
 */
async function invocationName(): Promise<string> {
  const cmdline = "/proc/self/cmdline";
  try {
    if (Deno.build.os === "linux" && Deno.permissions.querySync({ name: "read", path: cmdline }).state === "granted") {
      const first = Deno.readTextFileSync(cmdline).split("\0")[0];
      if (first !== "") return first;
    }
  } catch {
    // Fall back below.
  }
  const { default: process } = await import("node:process");
  return process.argv0;
}
