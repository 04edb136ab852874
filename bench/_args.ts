/**
 * The command line of a benchmark script: `node:util`'s `parseArgs` with
 * `--help` (`-h`), which prints the script's usage, and a one-line error
 * with the usage, exit 2, for an option it does not know or a missing value,
 * instead of a stack trace.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** Parses `Deno.args` against `options`; `usage` is what `--help` and a wrong option print. */
export function benchArgs<T extends ParseArgsOptionsConfig>(options: T, usage: string) {
  return parse(options, usage, false).values;
}

/** {@link benchArgs} for a script that also takes operands (file names): the options and the operands. */
export function benchArgsWithOperands<T extends ParseArgsOptionsConfig>(options: T, usage: string) {
  const { values, positionals } = parse(options, usage, true);
  return { values, operands: positionals };
}

function parse<T extends ParseArgsOptionsConfig>(options: T, usage: string, allowPositionals: boolean) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(usage);
    Deno.exit(0);
  }
  try {
    return parseArgs({ args: Deno.args, options, strict: true, allowPositionals });
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    Deno.exit(2);
  }
}

/**
 * The whole number of at least 1 an option gave as `text`; a one-line error
 * naming the option, exit 2, for anything else.
 */
export function wholeNumberArg(name: string, text: string): number {
  const value = Number(text);
  if (Number.isSafeInteger(value) && value >= 1) return value;
  console.error(`error: ${name}: expected a whole number of at least 1, got "${text}"`);
  Deno.exit(2);
}
