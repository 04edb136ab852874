/**
 * The version of every program: the `version` of `deno.json` (its one
 * source), and the line `--version` prints with the commit of the build.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };

/** The release version, from `deno.json`. */
export const VERSION: string = denoConfig.version;

/** What a build is. */
export interface BuildInfo {
  version: string;
  /** The git commit the program was built from (abbreviated), or `null` when unknown. */
  commit: string | null;
}

/**
 * The `--version` line of a program.
 *
 * @example
 * ```ts
 * versionLine("bus-auth", { version: "0.1.0", commit: "9a6c4f6" }); // "bus-auth 0.1.0 (commit 9a6c4f6)\n"
 * ```
 */
export function versionLine(program: string, build: BuildInfo): string {
  return `${program} ${build.version} (commit ${build.commit ?? "unknown"})\n`;
}
