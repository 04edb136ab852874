/**
 * Writing a new private file, such as a signing key, the way both programs
 * that generate keys do: mode 0600 from the start, the content synced to
 * disk in a temporary file beside the target, then linked into place, so
 * that the target appears whole or not at all and an existing file is never
 * replaced. Missing folders are created 0700.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";

/** The target exists already: a private key is never overwritten. */
export class FileExistsError extends Error {
  constructor(readonly path: string) {
    super(`"${path}" exists already`);
    this.name = "FileExistsError";
  }
}

/**
 * Writes `content` to a new file at `path`, 0600, atomically.
 *
 * @throws {FileExistsError} when `path` exists (nothing is written)
 * @throws the file system's error (such as `Deno.errors.NotCapable` outside the program's write permission)
 * @example
 * ```ts
 * writeNewPrivateFile("/etc/bus-auth/signing-2026-11.pem", pem);
 * ```
 */
export function writeNewPrivateFile(path: string, content: string): void {
  const target = resolve(path);
  const folder = dirname(target);
  if (exists(target)) throw new FileExistsError(target);
  Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const temporary = join(folder, `.${basename(target)}.${crypto.randomUUID()}.tmp`);
  const file = Deno.openSync(temporary, { write: true, createNew: true, mode: 0o600 });
  try {
    try {
      Deno.chmodSync(temporary, 0o600); // whatever the umask
      const bytes = new TextEncoder().encode(content);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      file.syncSync();
    } finally {
      file.close();
    }
    // A link, unlike a rename, fails when the target appeared in the meantime.
    Deno.linkSync(temporary, target);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) throw new FileExistsError(target);
    throw error;
  } finally {
    try {
      Deno.removeSync(temporary);
    } catch {
      // gone already
    }
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
