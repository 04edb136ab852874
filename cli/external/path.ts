/**
 * Finding programs on PATH the way git finds its `git-X` subcommands: the
 * first folder of PATH holding an executable file of that name wins.
 *
 * @module
 */

const WINDOWS = Deno.build.os === "windows";

/** The folders of `env.PATH`, in order; empty entries are skipped (no implicit current folder). */
export function pathFolders(env: Readonly<Record<string, string | undefined>>): string[] {
  return (env.PATH ?? env.Path ?? "").split(WINDOWS ? ";" : ":").filter((folder) => folder !== "");
}

/** The file name extensions that make a file executable on Windows (`PATHEXT`); `[""]` elsewhere. */
function executableExtensions(env: Readonly<Record<string, string | undefined>>): string[] {
  if (!WINDOWS) return [""];
  return (env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((ext) => ext !== "").map((ext) => ext.toLowerCase());
}

/** Whether `path` is a file (after symlinks) that may be executed. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) return false;
    if (error instanceof Deno.errors.NotADirectory) return false;
    throw error;
  }
}

/**
 * The path of the executable `name` in the first PATH folder that has one,
 * or `undefined`.
 */
export async function findOnPath(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  for (const folder of pathFolders(env)) {
    for (const ext of executableExtensions(env)) {
      const path = `${folder}/${name}${ext}`;
      if (await isExecutable(path)) return path;
    }
  }
  return undefined;
}

/**
 * Every executable on PATH whose name starts with `prefix` (`.exe` and the
 * like dropped on Windows), sorted by name, each with the path that
 * {@link findOnPath} would pick. Unreadable folders are skipped.
 */
export async function listOnPath(
  prefix: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const extensions = executableExtensions(env);
  for (const folder of pathFolders(env)) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      continue;
    }
    for (const entry of entries) {
      if (!entry.name.startsWith(prefix) || entry.isDirectory) continue;
      const ext = extensions.find((ext) => entry.name.toLowerCase().endsWith(ext));
      if (ext === undefined) continue;
      const name = entry.name.slice(0, entry.name.length - ext.length);
      if (name.length === prefix.length || found.has(name)) continue;
      const path = `${folder}/${entry.name}`;
      if (await isExecutable(path)) found.set(name, path);
    }
  }
  return new Map([...found].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

/**
 * For `.catch()` on a PATH search whose result only decorates help output:
 * `null` when this program lacks the permission to search, else rethrows.
 */
export function withoutPermission(error: unknown): null {
  if (error instanceof Deno.errors.NotCapable) return null;
  throw error;
}
