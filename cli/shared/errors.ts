/**
 * Errors of the command-line programs, each carrying its exit code
 * (DESIGN §6). Commands throw them; the program prints the message on
 * stderr and returns the code.
 *
 * @module
 */

import { EXIT } from "../program.ts";

/** A failure of a command with the exit code it maps to. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command line or configuration (exit 2); the synopsis is printed with it. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The server answered 4xx (exit 3); `code` is the server's error code. */
export class RefusedError extends CliError {
  readonly code: string;
  readonly status: number;

  constructor(message: string, code: string, status: number) {
    super(message, EXIT.refused);
    this.code = code;
    this.status = status;
  }
}

/** Network failure, server error or local I/O failure (exit 1). */
export class FailureError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.failure, options);
  }
}
