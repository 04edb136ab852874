/**
 * A controlled PATH for tests of git-style modules and `.bus` files: a
 * temporary folder with fake `bus-*` programs (small sh scripts), links to
 * the few system tools a test needs, and optionally a `bus` wrapper that runs
 * this checkout, so that nothing installed on the machine leaks in.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MAIN } from "./provider_process.ts";

const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** A temporary PATH folder; `remove()` deletes it. */
export interface FakePath {
  /** The folder, to use as PATH (alone or joined with others by `:`). */
  dir: string;
  /** Writes an executable sh script `name` whose body is `body`. */
  script(name: string, body: string, mode?: number): string;
  remove(): Promise<void>;
}

/** Creates an empty PATH folder, with links to the system `tools` named (looked up on the real PATH). */
export async function fakePath(tools: string[] = []): Promise<FakePath> {
  const dir = await Deno.makeTempDir({ prefix: "bus-path-" });
  for (const tool of tools) Deno.symlinkSync(systemTool(tool), join(dir, tool));
  return {
    dir,
    script(name, body, mode = 0o755) {
      const path = join(dir, name);
      Deno.writeTextFileSync(path, `#!/bin/sh\n${body}\n`);
      Deno.chmodSync(path, mode);
      return path;
    },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * The body of a fake module: prints its name, how many arguments it got and
 * each argument in brackets, then exits with `status`.
 */
export function printArgs(name: string, status = 0): string {
  return `printf '%s got %s arguments\\n' ${name} "$#"\nfor arg in "$@"; do printf '[%s]\\n' "$arg"; done\nexit ${status}`;
}

/** The body of a `bus` wrapper that runs this checkout, as an installed `bus` would. */
export function busWrapper(): string {
  return `exec '${Deno.execPath()}' run -A --config '${CONFIG}' '${MAIN}' bus "$@"`;
}

function systemTool(name: string): string {
  for (const folder of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      if (Deno.statSync(join(folder, name)).isFile) return join(folder, name);
    } catch {
      // not in this folder
    }
  }
  throw new Error(`The tests need "${name}" on PATH`);
}
