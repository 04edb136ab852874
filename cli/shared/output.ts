/**
 * Where command output goes: stdout, a file (`--output`, written 0600
 * atomically since it may hold a token), or nowhere (`--quiet`). Also the
 * aligned tables of the human output.
 *
 * @module
 */

import type { Io } from "../program.ts";
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

/** Pretty JSON with a final newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
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
