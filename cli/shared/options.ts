/**
 * Command-line parsing shared by the CLIs: `node:util` parseArgs with usage
 * errors, the refusal of literal secrets, and durations.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseDuration } from "../../lib/duration.ts";
import { InvalidInputError } from "../../lib/errors.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { UsageError } from "./errors.ts";

/** Option table in `node:util` parseArgs form. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Options every client program takes: provider URL, timeout, output shape and target, help, version. */
export const CLIENT_OPTIONS = {
  "api-url": { type: "string" },
  timeout: { type: "string" },
  output: { type: "string" },
  quiet: { type: "boolean" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Flags that would carry a secret value; always refused with a pointer to the file form. */
const SECRET_FLAGS: Record<string, string> = {
  "--token": "--token-file or BUS_AUTH_TOKEN",
  "--access-token": "--token-file or BUS_AUTH_TOKEN",
  "--bearer": "--token-file or BUS_AUTH_TOKEN",
  "--internal-key": "--internal-key-file or BUS_OPERATOR_INTERNAL_KEY",
  "--key": "--internal-key-file or BUS_OPERATOR_INTERNAL_KEY",
  "--hs256-secret": "--hs256-secret-file or BUS_AUTH_HS256_SECRET",
  "--secret": "--hs256-secret-file or BUS_AUTH_HS256_SECRET",
  "--password": "a file or the environment",
  "--client-secret": "--client-secret-file",
  "--signing-key": "--signing-key-file or BUS_OPERATOR_SIGNING_KEY_FILE",
  "--private-key": "--signing-key-file or BUS_OPERATOR_SIGNING_KEY_FILE",
};
const JWT_SHAPE = /^(Bearer\s+)?eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** A service client's key (`bsk_…`, lib/client_keys.ts), anywhere in an argument. */
const CLIENT_KEY_SHAPE = /bsk_[A-Za-z0-9_-]{43}/;

/**
 * Refuses literal secrets on the command line: secret-carrying flags and
 * any argument shaped like a JWT or holding a client key. The value is never echoed.
 *
 * @throws {UsageError}
 */
export function refuseLiteralSecrets(args: readonly string[]): void {
  for (const arg of args) {
    const flag = arg.split("=")[0];
    if (flag in SECRET_FLAGS) {
      throw new UsageError(
        `${flag} is refused: literal secrets are not accepted on the command line; use ${SECRET_FLAGS[flag]}`,
      );
    }
    if (JWT_SHAPE.test(arg)) {
      throw new UsageError("A token was given on the command line and refused: use --token-file or BUS_AUTH_TOKEN");
    }
    if (CLIENT_KEY_SHAPE.test(arg)) {
      throw new UsageError("A client key was given on the command line and refused: use --client-secret-file");
    }
  }
}

/**
 * Parses arguments; options may stand before or after the command word. An
 * unknown option is answered with the nearest known one.
 *
 * @throws {UsageError} for unknown options, missing values or literal secrets
 */
export function parseCommandLine<const T extends OptionSpec>(args: string[], options: T) {
  refuseLiteralSecrets(args);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional.*$/s, "").split("\n")[0];
    const unknown = /^Unknown option '(--?[^'=]+)/.exec(message);
    if (unknown === null) throw new UsageError(message);
    const known = Object.keys(options).map((name) => `--${name}`);
    throw new UsageError(`unknown option "${unknown[1]}"${didYouMean(unknown[1], known)}`);
  }
}

/**
 * The output format asked for on a raw command line (`--format X` or
 * `--format=X` before any `--`), read before parsing so that even a usage
 * error can be reported in that format.
 */
export function requestedFormat(args: readonly string[]): string | undefined {
  let format: string | undefined;
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    if (args[i] === "--format") format = args[i + 1];
    else if (args[i].startsWith("--format=")) format = args[i].slice("--format=".length);
  }
  return format;
}

/**
 * Parses `--timeout`/`--ttl` style durations into seconds.
 *
 * @throws {UsageError} naming the option
 */
export function durationOption(name: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`--${name}: ${error.message}`);
    throw error;
  }
}

/** The value of a one-of option. @throws {UsageError} */
export function choiceOption<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be one of ${choices.join(", ")}, not "${value}"`);
}
