/**
 * The shape every command-line program and family has: a name, a one-line
 * summary, and `run(args, io)` that returns the exit code. Both `cli/` and
 * `server/` build on it; only the entry modules exit the process.
 *
 * @module
 */

import type { BuildInfo } from "./version.ts";

/** Exit codes of DESIGN §6. */
export const EXIT = Object.freeze({
  ok: 0,
  /** Network failure, server error, or any other failure. */
  failure: 1,
  /** Usage or configuration error. */
  usage: 2,
  /** The server refused the request (a 4xx answer). */
  refused: 3,
});

/** What a program may touch besides its arguments. */
export interface Io {
  /** Writes text to standard output as it is (add the newline yourself). */
  stdout(text: string): void;
  /** Writes text to standard error as it is. */
  stderr(text: string): void;
  /** The environment, read once by the entry module (on first use). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Version and the commit the program was built from (read on first use). */
  readonly build: BuildInfo;
}

/** A program or command family. */
export interface Program {
  name: string;
  summary: string;
  run(args: string[], io: Io): Promise<number>;
}

/** Loads a program's module only when it runs, so that start-up pays only for what is used. */
export type ProgramLoader = () => Promise<Program>;

/** The programs an executable holds, by invocation name. */
export type ProgramTable = Readonly<Record<string, ProgramLoader>>;

/**
 * Picks the program from the invocation name (`argv0` basename, `.exe`
 * dropped), else from the first argument, else `fallback`.
 *
 * @returns the program's name and its arguments, or `null` when nothing names one
 * @example
 * ```ts
 * selectProgram(table, "/usr/local/bin/bus-operator-token", ["issue"]); // { name: "bus-operator-token", args: ["issue"] }
 * selectProgram(table, "deno", ["bus-auth", "status"]); // { name: "bus-auth", args: ["status"] }
 * ```
 */
export function selectProgram(
  table: ProgramTable,
  argv0: string,
  args: readonly string[],
  fallback?: string,
): { name: string; args: string[] } | null {
  const invoked = argv0.split(/[\\/]/).pop()!.replace(/\.exe$/i, "");
  if (Object.hasOwn(table, invoked)) return { name: invoked, args: [...args] };
  if (args.length > 0 && Object.hasOwn(table, args[0])) return { name: args[0], args: args.slice(1) };
  if (fallback !== undefined && Object.hasOwn(table, fallback)) return { name: fallback, args: [...args] };
  return null;
}
