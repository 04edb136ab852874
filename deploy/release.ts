/**
 * `deno task release`: builds the executables of every target
 * (`deno task compile --target …`) into `dist/release/<target>/`, packs each
 * target with LICENSE and README.md as
 * `dist/release/bus-auth-<version>-<target>.tar.gz`, and writes
 * `dist/release/SHA256SUMS` for the archives. A target whose denort runtime
 * cannot be had is skipped and named; with none built the task exits 3.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join } from "node:path";
import denoConfig from "../deno.json" with { type: "json" };
import { compileAll, EXIT_NO_RUNTIME, TARGETS } from "./compile.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RELEASE = join(ROOT, "dist", "release");

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

async function release(): Promise<number> {
  await Deno.remove(RELEASE, { recursive: true }).catch(() => {});
  const archives: string[] = [];
  const skipped: string[] = [];
  for (const target of TARGETS) {
    const folder = join(RELEASE, target);
    const code = await compileAll(target, folder);
    if (code === EXIT_NO_RUNTIME) {
      skipped.push(target);
      continue;
    }
    if (code !== 0) return code;
    for (const doc of ["LICENSE", "README.md", "CHANGELOG.md"]) await Deno.copyFile(join(ROOT, doc), join(folder, doc));
    const archive = `bus-auth-${denoConfig.version}-${target}.tar.gz`;
    const tar = await new Deno.Command("tar", { args: ["-czf", join(RELEASE, archive), "-C", folder, "."] }).output();
    if (tar.code !== 0) {
      console.error(`release: cannot pack ${archive}: ${new TextDecoder().decode(tar.stderr).trim()}`);
      return 1;
    }
    archives.push(archive);
    console.log(`Packed dist/release/${archive}`);
  }
  if (archives.length === 0) {
    console.error(`release: no target could be built (no denort runtime for ${skipped.join(", ")})`);
    return EXIT_NO_RUNTIME;
  }
  await Deno.writeTextFile(join(RELEASE, "SHA256SUMS"), await sha256Lines(RELEASE, archives));
  console.log(`Wrote dist/release/SHA256SUMS for ${archives.length} archive(s)`);
  if (skipped.length > 0) console.error(`release: skipped (no denort runtime): ${skipped.join(", ")}`);
  return 0;
}

if (import.meta.main) Deno.exitCode = await release();
