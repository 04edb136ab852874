/**
 * Reading secrets (tokens, keys, signing secrets) from files: regular files,
 * standard input (`-`), `/dev/stdin` and named pipes, so that
 * `pass show x | bus operator token --internal-key-file - …` works. Also the
 * environment forms `NAME_FILE` / `NAME`. Every failure names its cause:
 * a missing file, an OS permission, or a Deno permission.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Io } from "../../lib/program.ts";
import { FailureError, UsageError } from "./errors.ts";

/** The path that means standard input. */
export const STDIN_PATH = "-";
/** Paths that name this process's standard input. */
const STDIN_ALIASES = new Set([STDIN_PATH, "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]);
/** Largest secret read, in bytes. */
export const MAX_SECRET_BYTES = 64 * 1024;

let stdinTaken: string | null = null;

/** Whether a path names standard input (`-`, `/dev/stdin`, …). */
export function isStandardInput(path: string): boolean {
  return STDIN_ALIASES.has(path);
}

/**
 * Reads a secret: trailing line breaks removed, at most 64 KiB, a warning on
 * stderr when a regular file may be read by group or others.
 *
 * @param path a file, `-` for standard input, `/dev/stdin` or a named pipe
 * @param what what the file holds, for messages ("token file")
 * @throws {UsageError} when standard input is asked for twice or is a terminal
 * @throws {FailureError} when the file is missing, unreadable, empty, too large or not a file
 */
export async function readSecretFile(path: string, what: string, io: Io): Promise<string> {
  if (isStandardInput(path)) return finish(await readStdin(what), what, "on standard input");
  const shown = resolve(path);
  const fail = (why: string, code: string) => new FailureError(`Cannot read the ${what} "${shown}": ${why}`, code);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw fail(...accessProblem(error, shown));
  }
  if (info.isDirectory) throw fail("it is a folder, not a file", "file_unreadable");
  let bytes: Uint8Array;
  if (info.isFile) {
    if (info.size > MAX_SECRET_BYTES) throw fail("larger than 64 KiB", "file_too_large");
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      io.stderr(
        `warning: the ${what} "${shown}" is readable by group or others (mode 0${(info.mode & 0o777).toString(8)}): ` +
          `run chmod 600 "${shown}"\n`,
      );
    }
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      throw fail(...accessProblem(error, shown));
    }
  } else {
    // A named pipe, /dev/stdin, a character device: read until the end, bounded.
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (error) {
      throw fail(...accessProblem(error, shown));
    }
    try {
      bytes = await readBounded(file);
    } catch (error) {
      if (error instanceof TooLarge) throw fail("larger than 64 KiB", "file_too_large");
      throw fail(...accessProblem(error, shown));
    } finally {
      file.close();
    }
  }
  return finish(bytes, what, `"${shown}"`);
}

/**
 * A secret from the environment: the file named by `fileVariable` (which
 * may be `-` or a pipe) or the value of `valueVariable`; `undefined` when
 * neither is set.
 *
 * @throws {UsageError} when both are set
 */
export async function secretFromEnvironment(
  io: Io,
  fileVariable: string,
  valueVariable: string | null,
  what: string,
): Promise<string | undefined> {
  const file = io.env[fileVariable];
  const value = valueVariable === null ? undefined : io.env[valueVariable]?.trim();
  if (file && value) throw new UsageError(`${fileVariable} and ${valueVariable} are both set: keep one`);
  if (file) return await readSecretFile(file, what, io);
  return value || undefined;
}

/** [reason, code] of a failed stat, open or read. */
function accessProblem(error: unknown, shown: string): [string, string] {
  if (error instanceof Deno.errors.NotCapable) {
    return [
      `the program lacks Deno's read permission for it (run it with --allow-read=${shown})`,
      "missing_permission",
    ];
  }
  if (error instanceof Deno.errors.NotFound) return ["no such file", "file_not_found"];
  if (error instanceof Deno.errors.PermissionDenied) {
    return ["permission denied (this user may not read the file or search its folder)", "permission_denied"];
  }
  if (error instanceof Deno.errors.IsADirectory) return ["it is a folder, not a file", "file_unreadable"];
  return [(error as Error).message.split(/[(:]/)[0].trim(), "file_unreadable"];
}

async function readStdin(what: string): Promise<Uint8Array> {
  if (stdinTaken !== null) {
    throw new UsageError(`the ${what} cannot come from standard input too: the ${stdinTaken} already reads it`);
  }
  stdinTaken = what;
  if (Deno.stdin.isTerminal()) {
    throw new UsageError(
      `the ${what} is "-" but standard input is a terminal: pipe the secret in (for example pass show … | …)`,
    );
  }
  try {
    return await readBounded(Deno.stdin);
  } catch (error) {
    if (error instanceof TooLarge) {
      throw new FailureError(`The ${what} on standard input is larger than 64 KiB`, "file_too_large");
    }
    throw new FailureError(
      `Cannot read the ${what} from standard input: ${(error as Error).message}`,
      "file_unreadable",
    );
  }
}

class TooLarge extends Error {}

async function readBounded(reader: { read(buffer: Uint8Array): Promise<number | null> }): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const buffer = new Uint8Array(16 * 1024);
    const count = await reader.read(buffer);
    if (count === null) break;
    total += count;
    if (total > MAX_SECRET_BYTES) throw new TooLarge();
    chunks.push(buffer.subarray(0, count));
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

function finish(bytes: Uint8Array, what: string, where: string): string {
  const value = new TextDecoder().decode(bytes).replace(/[\r\n]+$/, "");
  if (value.trim() === "") throw new FailureError(`The ${what} ${where} is empty`, "secret_empty");
  return value;
}
