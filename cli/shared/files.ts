/**
 * Files of the CLIs: where tokens live, writing secrets (0600 file, 0700
 * folder, atomically), reading secret files (with a warning when others can
 * read them), and the refusal of repository-local `.bus/` paths.
 *
 * @module
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Io } from "../program.ts";
import { FailureError, UsageError } from "./errors.ts";

/** Largest secret or token file read, in bytes. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * The Bus user config root: `BUS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/bus`,
 * else `~/.config/bus`.
 *
 * @throws {UsageError} when none can be determined
 */
export function configRoot(env: Io["env"]): string {
  if (env.BUS_CONFIG_DIR) return resolve(env.BUS_CONFIG_DIR);
  if (env.XDG_CONFIG_HOME) return join(resolve(env.XDG_CONFIG_HOME), "bus");
  if (env.HOME) return join(env.HOME, ".config", "bus");
  throw new UsageError("Cannot find the Bus config folder: set BUS_CONFIG_DIR, XDG_CONFIG_HOME or HOME");
}

/** Default location of the auth-service session token. */
export function defaultSessionTokenPath(env: Io["env"]): string {
  return join(configRoot(env), "auth", "token");
}

/** Default location of the Bus API token. */
export function defaultApiTokenPath(env: Io["env"]): string {
  return join(configRoot(env), "auth", "api-token");
}

/**
 * Refuses a path inside a repository-local `.bus/` folder: a `.bus`
 * component whose parent folder, or any folder above it, holds `.git`.
 *
 * @throws {UsageError}
 */
export function refuseRepositoryLocalBus(path: string): void {
  const absolute = resolve(path);
  const parts = absolute.split("/");
  for (let i = 1; i < parts.length; i++) {
    if (parts[i] !== ".bus") continue;
    for (let j = i; j >= 1; j--) {
      const ancestor = parts.slice(0, j).join("/") || "/";
      if (exists(join(ancestor, ".git"))) {
        throw new UsageError(
          `Refusing to write a token to "${absolute}": it is inside the repository-local .bus/ folder of "${ancestor}"; ` +
            "tokens belong in the user config folder (BUS_CONFIG_DIR or ~/.config/bus)",
        );
      }
    }
  }
}

/**
 * Writes a secret atomically: a 0600 temporary file beside the target,
 * renamed over it; missing folders are created 0700.
 *
 * @throws {UsageError} for repository-local `.bus/` paths
 * @throws {FailureError} when the file cannot be written
 */
export function writeSecretFile(path: string, content: string): void {
  refuseRepositoryLocalBus(path);
  const target = resolve(path);
  const temporary = join(dirname(target), `.${crypto.randomUUID()}.tmp`);
  try {
    Deno.mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    Deno.writeTextFileSync(temporary, content, { mode: 0o600, createNew: true });
    Deno.chmodSync(temporary, 0o600);
    Deno.renameSync(temporary, target);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch {
      // nothing to clean up
    }
    throw new FailureError(`Cannot write "${target}": ${(error as Error).message.split(":")[0]}`, { cause: error });
  }
}

/**
 * Reads a secret or token file: trailing line breaks removed, at most 64 KiB,
 * a warning on stderr when group or others may read it.
 *
 * @param what what the file holds, for messages ("token file")
 * @throws {UsageError} when it is missing, unreadable, empty or too large
 */
export function readSecretFile(path: string, what: string, io: Io): string {
  const shown = isAbsolute(path) ? path : resolve(path);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    throw new UsageError(`Cannot read the ${what} "${shown}": no such file`);
  }
  if (!info.isFile || info.size > MAX_SECRET_FILE_BYTES) {
    throw new UsageError(`Cannot read the ${what} "${shown}": not a regular file of at most 64 KiB`);
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    io.stderr(
      `warning: the ${what} "${shown}" is readable by group or others (mode 0${(info.mode & 0o777).toString(8)}): ` +
        `run chmod 600 "${shown}"\n`,
    );
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(`Cannot read the ${what} "${shown}": ${(error as Error).message.split(":")[0]}`);
  }
  const value = text.replace(/[\r\n]+$/, "");
  if (value.trim() === "") throw new UsageError(`The ${what} "${shown}" is empty`);
  return value;
}

/** Removes a file; a missing file is fine. @returns whether a file was removed */
export function removeFile(path: string): boolean {
  try {
    Deno.removeSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new FailureError(`Cannot remove "${path}": ${(error as Error).message.split(":")[0]}`);
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
