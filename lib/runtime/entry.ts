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
import { maskUrlCredentials } from "../url_credentials.ts";
import { readBuildCommit } from "./build_commit.ts";
import { writeText } from "./write_text.ts";

/** What an executable holds. */
export interface Entry {
  /** Its programs by invocation name. */
  programs: ProgramTable;
  /** The program when neither the invocation name nor the first argument names one (a renamed binary, `deno run`). */
  fallback?: string;
}

/** Runs the program this process was invoked as and returns its exit code. */
export async function runEntry(entry: Entry, args: readonly string[] = Deno.args): Promise<number> {
  const io = processIo();
  const selected = await pickProgram(entry, args);
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
      io.stderr(
        `${name}: unexpected failure: ${maskUrlCredentials(error instanceof Error ? error.message : String(error))}\n`,
      );
    }
    return EXIT.failure;
  }
}

/** This process's standard streams, and its environment and build read on first use. */
function processIo(): Io {
  let env: Record<string, string> | undefined;
  let build: BuildInfo | undefined;
  return {
    stdout: (text) => writeText(Deno.stdout, text),
    stderr: (text) => writeText(Deno.stderr, text),
    get env() {
      return env ??= Deno.env.toObject();
    },
    get build() {
      return build ??= { version: VERSION, commit: readBuildCommit() };
    },
  };
}

/**
 * The program to run. The invocation name (`argv[0]`, a symlink's own name)
 * decides, else the first argument, else the fallback. `argv[0]` is only
 * known through Node's `process`, which costs ~13 ms of start-up, and Deno
 * guards `/proc/self` behind --allow-all; so it is asked only when the
 * answer can differ: in a compiled executable that answers to more than
 * one name (its alias links), and under `deno run main.ts` (which has no
 * program of its own) when the first argument names none, as when deno
 * itself is linked under a program's name.
 */
async function pickProgram(entry: Entry, args: readonly string[]) {
  const names = Object.keys(entry.programs);
  const executable = executableName();
  if (executable === null || !names.includes(executable)) {
    // Run by deno, or renamed: the first argument, else the entry's own program.
    if (args.length > 0 && names.includes(args[0])) return { name: args[0], args: args.slice(1) };
    if (entry.fallback !== undefined) return { name: entry.fallback, args: [...args] };
  } else if (names.length === 1) {
    return { name: executable, args: [...args] };
  }
  return selectProgram(entry.programs, await argv0(), args, entry.fallback);
}

/** The file name of the running executable (symlinks resolved), or `null` when reading it is not allowed. */
function executableName(): string | null {
  try {
    if (Deno.permissions.querySync({ name: "read" }).state !== "granted") return null;
    return Deno.execPath().split(/[\\/]/).pop()!.replace(/\.exe$/i, "");
  } catch {
    return null;
  }
}

async function argv0(): Promise<string> {
  const { default: process } = await import("node:process");
  return process.argv0;
}
