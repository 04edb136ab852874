/**
 * Files of the CLIs: where tokens live, writing secrets (0600 file, 0700
 * folder, atomically), and the refusal of repository-local `.bus/` paths.
 * Reading secrets is `secret_input.ts`.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import type { Io } from "../../lib/program.ts";
import { FailureError, UsageError } from "./errors.ts";

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
 * Makes the folders between the Bus config root and a token file that lies
 * inside it private before the token is written: an existing folder that
 * group or others may read (0755) is tightened to 0700, and says so on
 * stderr; one this user cannot tighten is refused with the command that
 * fixes it. Paths outside the config root are left to their owner (the
 * token file itself is 0600 wherever it goes).
 *
 * @throws {FailureError} `folder_not_private` when a folder cannot be tightened
 */
export function secureConfigFolders(path: string, io: Io): void {
  let root: string;
  try {
    root = configRoot(io.env);
  } catch {
    return;
  }
  const target = resolve(path);
  if (!target.startsWith(`${root}/`)) return;
  const folders = [root];
  for (const part of target.slice(root.length + 1).split("/").slice(0, -1)) {
    folders.push(join(folders[folders.length - 1], part));
  }
  for (const folder of folders) {
    let mode: number | null;
    try {
      const info = Deno.lstatSync(folder);
      if (!info.isDirectory) return;
      mode = info.mode;
    } catch {
      return; // Missing folders are created 0700 by writeSecretFile.
    }
    if (mode === null || (mode & 0o077) === 0) continue;
    const octal = `0${(mode & 0o777).toString(8)}`;
    try {
      Deno.chmodSync(folder, 0o700);
    } catch {
      throw new FailureError(
        `Refusing to write a token into "${folder}": group or others may read that folder (mode ${octal}) and this ` +
          `user cannot change it; run chmod 700 "${folder}" as its owner`,
        "folder_not_private",
      );
    }
    io.stderr(`notice: tightened "${folder}" from mode ${octal} to 0700: it holds tokens\n`);
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
    throw new FailureError(`Cannot write "${target}": ${(error as Error).message.split(":")[0]}`, "file_unwritable", {
      cause: error,
    });
  }
}

/**
 * Removes a regular file; a missing file is fine, and anything else (a
 * pipe, a device, `/dev/stdin`) is left alone.
 *
 * @returns whether a file was removed
 */
export function removeFile(path: string): boolean {
  try {
    if (!Deno.lstatSync(path).isFile) return false;
    Deno.removeSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new FailureError(`Cannot remove "${path}": ${(error as Error).message.split(":")[0]}`, "file_unwritable");
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
