/**
 * Errors of the command-line programs, each carrying its exit code
 * (DESIGN §6) and a stable snake_case code for `--format json`. Commands
 * throw them; the error boundary (`run.ts`) prints them and returns the code.
 *
 * @module
 */

import { EXIT } from "../../lib/program.ts";

/** A failure of a command with the exit code it maps to. */
export class CliError extends Error {
  readonly exitCode: number;
  /** Stable snake_case code: the provider's error code, or a local one such as `not_signed_in`. */
  readonly code: string;
  /** The provider's HTTP status, when the failure is an answer of the provider. */
  readonly httpStatus: number | null;

  constructor(message: string, exitCode: number, code: string, options?: ErrorOptions & { httpStatus?: number }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.code = code;
    this.httpStatus = options?.httpStatus ?? null;
  }
}

/** Bad command line or configuration (exit 2); the synopsis is printed with it. */
export class UsageError extends CliError {
  constructor(message: string, code = "usage") {
    super(message, EXIT.usage, code);
  }
}

/** The server answered 4xx (exit 3); `code` is the server's error code. */
export class RefusedError extends CliError {
  /** The HTTP status of the answer. */
  readonly status: number;

  constructor(message: string, code: string, status: number) {
    super(message, EXIT.refused, code, { httpStatus: status });
    this.status = status;
  }
}

/**
 * Network failure, server error, local I/O failure or a state that needs the
 * user to act first, such as not being signed in (exit 1). No synopsis.
 */
export class FailureError extends CliError {
  constructor(message: string, code = "failure", options?: ErrorOptions & { httpStatus?: number }) {
    super(message, EXIT.failure, code, options);
  }
}
