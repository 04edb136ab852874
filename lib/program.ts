/**
 * The shape every command-line program and family has: a name, a one-line
 * summary, and `run(args, io)` that returns the exit code. Only `main.ts`
 * exits the process.
 *
 * @module
 */

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
  /** The environment, read once by `main.ts` (on first use). */
  env: Readonly<Record<string, string | undefined>>;
}

/** A program or command family. */
export interface Program {
  name: string;
  summary: string;
  run(args: string[], io: Io): Promise<number>;
}
