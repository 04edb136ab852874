/**
 * The shape of one `bus operator auth` command: the options it adds to the
 * family's own, and what it does with the parsed command line. The family
 * (`auth_family.ts`) parses once, refuses options that do not belong to the
 * command, and hands over an {@link OperatorAuthRun}.
 *
 * @module
 */

import type { Io } from "../../../lib/program.ts";
import type { OptionSpec } from "../../shared/options.ts";
import type { OutputTarget } from "../../shared/output.ts";

/** Parsed option values (strings and booleans) by name. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** Everything a command gets after the family parsed and checked the command line. */
export interface OperatorAuthRun {
  io: Io;
  /** The auth base `{A}` of the provider, such as `http://127.0.0.1:8080/api/v1/auth`. */
  authBase: string;
  timeoutSeconds: number;
  json: boolean;
  target: OutputTarget;
  /** Every option value, the command's own included. */
  values: OptionValues;
  /** Positional words after the command word (`policy show` gives `["show"]`). */
  words: readonly string[];
  /** The admin token from `--token-file`, read on first call. */
  adminToken(): Promise<string>;
}

/** One command of the family. */
export interface OperatorAuthCommand {
  /** One line for the command list. */
  summary: string;
  /** Options only this command takes. */
  options: OptionSpec;
  /** Positional words it takes after its name (sub-commands); 0 by default. */
  maxWords?: number;
  run(run: OperatorAuthRun): Promise<number>;
}

/** A string option of the command line, or `undefined`. */
export function stringValue(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
