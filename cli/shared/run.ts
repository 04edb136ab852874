/**
 * The error boundary of every CLI program: turns thrown errors into the
 * message on stderr and the exit code of DESIGN §6.
 *
 * @module
 */

import { InvalidInputError } from "../../lib/errors.ts";
import { EXIT, type Io } from "../program.ts";
import { CliError, UsageError } from "./errors.ts";

/**
 * Runs a command body; a {@link CliError} prints `<program>: <message>`
 * (plus the synopsis for usage errors) and returns its exit code. Invalid
 * input caught by `lib/` validation (emails, scopes, durations) is a usage
 * error too.
 */
export async function runGuarded(
  program: string,
  synopsis: string,
  io: Io,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidInputError) {
      io.stderr(`${program}: ${error.message}\n${synopsis}`);
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr(`${program}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
