/**
 * The git commit a program was built from. A compiled executable carries it
 * in `build_commit.txt`, which `deno task compile` writes and embeds; a
 * program run from a checkout reads the checkout's `.git`. Both are read
 * only when asked, and any failure means "unknown".
 *
 * @module
 */

/** The file `deno task compile` writes beside this module and embeds in the executables. */
export const BUILD_COMMIT_FILE = new URL("./build_commit.txt", import.meta.url);
const GIT_FOLDER = new URL("../../.git/", import.meta.url);

/** The abbreviated commit (12 hex digits), or `null` when it cannot be found. */
export function readBuildCommit(): string | null {
  return fromGit() ?? fromEmbeddedFile();
}

function fromGit(): string | null {
  const head = readIfAllowed(new URL("HEAD", GIT_FOLDER));
  if (head === null) return null;
  const ref = /^ref: (refs\/\S+)$/.exec(head.trim())?.[1];
  if (ref === undefined) return abbreviated(head);
  const loose = readIfAllowed(new URL(ref, GIT_FOLDER));
  if (loose !== null) return abbreviated(loose);
  const packed = readIfAllowed(new URL("packed-refs", GIT_FOLDER));
  const line = packed?.split("\n").find((entry) => entry.endsWith(` ${ref}`));
  return line === undefined ? null : abbreviated(line.split(" ")[0]);
}

function fromEmbeddedFile(): string | null {
  const text = readIfAllowed(BUILD_COMMIT_FILE);
  return text === null ? null : abbreviated(text);
}

function abbreviated(text: string): string | null {
  const match = /^[0-9a-f]{7,64}/.exec(text.trim());
  return match === null ? null : match[0].slice(0, 12);
}

/** The text of a file when reading it needs no prompt and succeeds, else `null`. */
function readIfAllowed(url: URL): string | null {
  try {
    if (url.protocol !== "file:") return null;
    if (Deno.permissions.querySync({ name: "read", path: url }).state !== "granted") return null;
    return Deno.readTextFileSync(url);
  } catch {
    return null;
  }
}
