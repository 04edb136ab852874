/**
 * Stand-ins for the denort runtime of `deno compile`, which cannot be
 * downloaded here: a small ELF executable relabelled as another processor
 * (`deno compile` appends the program to any ELF file, and the builds of a
 * foreign target are never run), and an environment in which every runtime
 * download fails, even where DENO_DIR holds downloaded runtimes.
 *
 * @module
 */

import { join } from "node:path";
import { hostTarget } from "../../deploy/compile.ts";

const ELF_MACHINE: Record<string, number> = { x86_64: 0x3e, aarch64: 0xb7 };

/** Whether {@link fakeDenort} can make a runtime here: it needs an ELF `/bin/true`. */
export const CAN_FAKE_DENORT = Deno.build.os === "linux";

/** The Linux target that is not this machine's: a build for it runs nothing here. */
export const FOREIGN_LINUX_TARGET = hostTarget() === "aarch64-unknown-linux-gnu"
  ? "x86_64-unknown-linux-gnu"
  : "aarch64-unknown-linux-gnu";

/**
 * Writes `name` in `dir`: `/bin/true` (a 64-bit ELF file) relabelled for
 * the processor of `target`, followed by a marker that every executable
 * built from it carries, so a test can tell which runtime a build used.
 */
export async function fakeDenort(
  dir: string,
  name: string,
  target: string,
): Promise<{ path: string; marker: string }> {
  const bytes = await Deno.readFile("/bin/true");
  new DataView(bytes.buffer).setUint16(18, ELF_MACHINE[target.split("-")[0]], true);
  const marker = `bus-auth-fake-denort-${crypto.randomUUID()}`;
  const path = join(dir, name);
  await Deno.writeFile(path, new Uint8Array([...bytes, ...new TextEncoder().encode(marker)]), { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return { path, marker };
}

/** Whether a file contains `marker` (ASCII). */
export async function contains(path: string, marker: string): Promise<boolean> {
  return new TextDecoder("latin1").decode(await Deno.readFile(path)).includes(marker);
}

/**
 * Variables under which `deno compile` can get no runtime but a named one:
 * downloads go to a closed port, and DENO_DIR is a folder of `dir` that
 * shares the package caches of the real one but not its downloaded runtimes.
 */
export async function noDownloadEnv(dir: string): Promise<Record<string, string>> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" }).output();
  const denoDir: string = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
  const own = join(dir, "deno-dir");
  await Deno.mkdir(own);
  for (const shared of ["npm", "remote"]) {
    if (await Deno.stat(join(denoDir, shared)).catch(() => null)) {
      await Deno.symlink(join(denoDir, shared), join(own, shared));
    }
  }
  return { DENO_DIR: own, HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NO_PROXY: "" };
}
