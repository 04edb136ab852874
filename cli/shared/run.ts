/**
 * The error boundary of every CLI program: turns thrown errors into one line
 * on stderr (or, under `--format json`, one JSON object on stdout) and the
 * exit code of DESIGN §6. Only usage errors print the synopsis.
 *
 * @module
 */

import { InvalidInputError } from "../../lib/errors.ts";
import { maskUrlCredentials } from "../../lib/url_credentials.ts";
import type { Io } from "../../lib/program.ts";
import { CliError, FailureError, UsageError } from "./errors.ts";
import { requestedFormat } from "./options.ts";

/** The JSON object printed for a failure under `--format json`. */
export interface JsonFailure {
  /** Stable snake_case code: the provider's, or a local one (`usage`, `unreachable`, `not_signed_in`, …). */
  error: string;
  message: string;
  /** The provider's HTTP status, or `null` when there was no answer. */
  http_status: number | null;
  exit_code: number;
}

/**
 * Runs a command body. A {@link CliError} prints `<program>: <message>` on
 * stderr (plus the synopsis for usage errors) and returns its exit code;
 * with `--format json` on the command line the failure is a
 * {@link JsonFailure} on stdout instead. Invalid input caught by `lib/`
 * validation (emails, scopes, durations) is a usage error; a missing Deno
 * permission is a failure that names the permission.
 */
export async function runGuarded(
  program: string,
  synopsis: string,
  io: Io,
  args: readonly string[],
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (thrown) {
    const error = asCliError(thrown);
    if (error === null) throw thrown;
    // Defence in depth: no message repeats a password written into a URL.
    const message = maskUrlCredentials(error.message);
    if (requestedFormat(args) === "json") {
      const failure: JsonFailure = {
        error: error.code,
        message,
        http_status: error.httpStatus,
        exit_code: error.exitCode,
      };
      io.stdout(`${JSON.stringify(failure)}\n`);
    } else {
      io.stderr(`${program}: ${message}\n${error instanceof UsageError ? synopsis : ""}`);
    }
    return error.exitCode;
  }
}

function asCliError(error: unknown): CliError | null {
  if (error instanceof CliError) return error;
  if (error instanceof InvalidInputError) return new UsageError(error.message, error.code);
  if (error instanceof Deno.errors.NotCapable) return missingPermission(error);
  return null;
}

/** A Deno permission the program was not started with, as a one-line failure. */
export function missingPermission(error: Error): FailureError {
  return new FailureError(`missing permission: ${error.message.split("\n")[0]}`, "missing_permission");
}
