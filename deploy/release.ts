/**
 * `deno task release [--out <dir>]`: builds the executables of every target
 * (as `deno task compile --target …` does) into `<out>/<target>/`, packs
 * each target with LICENSE, README.md and CHANGELOG.md as
 * `<out>/bus-auth-<version>-<target>.tar.gz`, and writes `<out>/SHA256SUMS`
 * for the archives. `<out>` is `dist/release`, emptied first; a given
 * `--out` must be empty or absent.
 *
 * The runtime of each target comes from `DENORT_BIN_<TARGET>`
 * (`DENORT_BIN_AARCH64_UNKNOWN_LINUX_GNU`), for this machine's target also
 * from `DENORT_BIN`, else from `deno compile`'s download (deploy/denort.ts).
 * A named file that is not an executable of its target's kind stops the
 * release before anything is built (exit 3). A target whose runtime cannot
 * be had is skipped, leaving nothing behind, and named with the variable
 * that would supply it; with none built the task exits 3.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join, relative, resolve } from "node:path";
import denoConfig from "../deno.json" with { type: "json" };
import { compileAll, EXIT_NO_RUNTIME, hostTarget, TARGETS } from "./compile.ts";
import { chooseRuntime, type Runtime, runtimeFileProblem } from "./denort.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The files packed beside the executables of each target. */
export const DOCS = ["LICENSE", "README.md", "CHANGELOG.md"] as const;

/** The runtime of every target: `DENORT_BIN` serves this machine's target only, as it is one runtime. */
export function releaseRuntimes(
  env: Readonly<Record<string, string | undefined>>,
  host: string | null = hostTarget(),
): Map<string, Runtime> {
  return new Map(TARGETS.map((target) => [target, chooseRuntime(target, env, { denortBin: target === host })]));
}

/** `sha256sum` output lines for files in one folder. */
export async function sha256Lines(folder: string, names: readonly string[]): Promise<string> {
  const lines: string[] = [];
  for (const name of names) {
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(join(folder, name)));
    const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
    lines.push(`${hex}  ${name}\n`);
  }
  return lines.join("");
}

async function prepareOut(given: string | undefined): Promise<string | null> {
  if (given === undefined) {
    const out = join(ROOT, "dist", "release");
    await Deno.remove(out, { recursive: true }).catch(() => {});
    return out;
  }
  const out = resolve(given);
  const entries = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
  if (entries.length > 0) {
    console.error(`release: --out ${given} is not empty: give an empty or new folder`);
    return null;
  }
  return out;
}

async function release(): Promise<number> {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } }, strict: true });
  const runtimes = releaseRuntimes(Deno.env.toObject());
  const problems: string[] = [];
  for (const [target, runtime] of runtimes) {
    const problem = await runtimeFileProblem(target, runtime);
    if (problem !== null) problems.push(problem);
  }
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    return EXIT_NO_RUNTIME;
  }
  const out = await prepareOut(values.out);
  if (out === null) return 2;
  await Deno.mkdir(out, { recursive: true });
  const shown = relative(Deno.cwd(), out) || ".";
  const archives: string[] = [];
  const skipped: string[] = [];
  for (const [target, runtime] of runtimes) {
    const folder = join(out, target);
    const code = await compileAll(target, folder, runtime);
    if (code === EXIT_NO_RUNTIME) {
      skipped.push(`${target} (set ${runtime.variable})`);
      continue;
    }
    if (code !== 0) return code;
    for (const doc of DOCS) await Deno.copyFile(join(ROOT, doc), join(folder, doc));
    const archive = `bus-auth-${denoConfig.version}-${target}.tar.gz`;
    const tar = await new Deno.Command("tar", { args: ["-czf", join(out, archive), "-C", folder, "."] }).output();
    if (tar.code !== 0) {
      console.error(`release: cannot pack ${archive}: ${new TextDecoder().decode(tar.stderr).trim()}`);
      return 1;
    }
    archives.push(archive);
    console.log(`Packed ${join(shown, archive)}`);
  }
  if (archives.length === 0) {
    console.error(`release: no target could be built; no denort runtime for ${skipped.join(", ")}`);
    return EXIT_NO_RUNTIME;
  }
  await Deno.writeTextFile(join(out, "SHA256SUMS"), await sha256Lines(out, archives));
  console.log(`Wrote ${join(shown, "SHA256SUMS")} for ${archives.length} archive(s)`);
  if (skipped.length > 0) console.error(`release: skipped, no denort runtime: ${skipped.join(", ")}`);
  return 0;
}

if (import.meta.main) Deno.exitCode = await release();
