/**
 * Where command output goes: stdout, a file (`--output`, written 0600
 * atomically since it may hold a token), or nowhere (`--quiet`). Also the
 * aligned tables of the human output, and token prefixes: no command prints
 * a whole token unless asked with `--format token`.
 *
 * @module
 */

import type { Io } from "../../lib/program.ts";
import { writeSecretFile } from "./files.ts";

/** The output options every command understands. */
export interface OutputTarget {
  quiet: boolean;
  /** File for the output instead of stdout. */
  output?: string;
}

/** Writes a command's normal output according to `--quiet` and `--output`. */
export function emit(io: Io, target: OutputTarget, text: string): void {
  if (target.quiet) return;
  if (target.output !== undefined) writeSecretFile(target.output, text);
  else io.stdout(text);
}

/**
 * Writes output that holds a whole token (`--format token`): to stdout, or
 * with `--output` to the file, and then only the path and the token's first
 * characters on stdout (as the runbook prints only ids, prefixes and paths).
 * `--quiet` still writes the file.
 */
export function emitToken(io: Io, target: OutputTarget, content: string, token: string): void {
  if (target.output !== undefined) {
    writeSecretFile(target.output, content);
    if (!target.quiet) io.stdout(`Wrote the token ${tokenPrefix(token)} to ${target.output}\n`);
  } else if (!target.quiet) {
    io.stdout(content);
  }
}

/** The first 8 characters of a token and an ellipsis: enough to tell it in a log, never enough to use it. */
export function tokenPrefix(token: string): string {
  return `${token.slice(0, 8)}…`;
}

/** Pretty JSON with a final newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A copy of a provider answer without its token, for output that must not show it. */
export function withoutToken(answer: Record<string, unknown>): Record<string, unknown> {
  const { access_token: _token, ...rest } = answer;
  return rest;
}

/** Rows aligned in columns under a header, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].map((text) => `${text}\n`).join("");
}

/** `Label: value` lines with the values aligned. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length)) + 1;
  return pairs.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}\n`).join("");
}
