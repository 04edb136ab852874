/**
 * The denort runtime of a build. `deno compile` downloads the runtime of its
 * `--target`, or reads the file `DENORT_BIN` names, whatever the target. The
 * tasks decide which variable names the runtime of which target:
 *
 * - `DENORT_BIN_<TARGET>` (`DENORT_BIN_AARCH64_UNKNOWN_LINUX_GNU`): the
 *   runtime of that target, in `deno task compile` and `deno task release`.
 * - `DENORT_BIN`: the runtime of the one target `deno task compile` builds
 *   (this machine's, or the one `--target` names); in `deno task release`,
 *   which builds every target, of this machine's target only.
 *
 * A named file must be an executable of its target's format and processor
 * (ELF for Linux, Mach-O for macOS), so a runtime left in `DENORT_BIN` for
 * another target is refused before anything is built.
 *
 * @module
 */

/** The denort runtime of one build. */
export interface Runtime {
  /** The variable that names the runtime, or would: the one messages tell the user to set. */
  variable: string;
  /** The file the variable names; without it, `deno compile` downloads the runtime. */
  path?: string;
}

/** The variable of one target's runtime: `DENORT_BIN_AARCH64_UNKNOWN_LINUX_GNU`. */
export function runtimeVariable(target: string): string {
  return `DENORT_BIN_${target.toUpperCase().replaceAll(/[^A-Z0-9]/g, "_")}`;
}

/**
 * The runtime of `target`: its own variable, else `DENORT_BIN` where
 * `options.denortBin` says `DENORT_BIN` is this build's runtime.
 */
export function chooseRuntime(
  target: string,
  env: Readonly<Record<string, string | undefined>>,
  options: { denortBin: boolean },
): Runtime {
  const own = runtimeVariable(target);
  if (env[own]) return { variable: own, path: env[own] };
  if (options.denortBin && env.DENORT_BIN) return { variable: "DENORT_BIN", path: env.DENORT_BIN };
  if (options.denortBin) return { variable: "DENORT_BIN" };
  return { variable: own };
}

const ELF_MACHINES: Record<number, string> = { 0x3e: "x86_64", 0xb7: "aarch64" };
const MACHO_CPUS: Record<number, string> = { 0x01000007: "x86_64", 0x0100000c: "aarch64" };

/** What an executable's header says it is: `ELF x86_64`, `Mach-O aarch64`, or `null` when it is neither. */
export function executableKind(header: Uint8Array): string | null {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length >= 20 && view.getUint32(0) === 0x7f454c46 && header[4] === 2 && header[5] === 1) {
    const machine = view.getUint16(18, true);
    return `ELF ${ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`}`;
  }
  if (header.length >= 8 && view.getUint32(0, true) === 0xfeedfacf) {
    const cpu = view.getUint32(4, true);
    return `Mach-O ${MACHO_CPUS[cpu] ?? `cpu 0x${cpu.toString(16)}`}`;
  }
  return null;
}

/** The kind of executable a target runs: `ELF aarch64` for `aarch64-unknown-linux-gnu`. */
export function targetKind(target: string): string {
  const [arch] = target.split("-");
  return `${target.endsWith("-apple-darwin") ? "Mach-O" : "ELF"} ${arch}`;
}

/**
 * Why the runtime's file cannot serve `target`, in one line, or `null` when
 * it can (or when there is no file and `deno compile` will download one).
 */
export async function runtimeFileProblem(target: string, runtime: Runtime): Promise<string | null> {
  if (runtime.path === undefined) return null;
  const named = `${runtime.variable}=${runtime.path}`;
  const info = await Deno.stat(runtime.path).catch(() => null);
  if (info === null || !info.isFile || (info.mode !== null && (info.mode & 0o111) === 0)) {
    return `compile: ${named} is not an executable file: point it at an unzipped denort`;
  }
  const file = await Deno.open(runtime.path);
  const header = new Uint8Array(20);
  let length = 0;
  try {
    while (length < header.length) {
      const read = await file.read(header.subarray(length));
      if (read === null) break;
      length += read;
    }
  } finally {
    file.close();
  }
  const kind = executableKind(header.subarray(0, length));
  if (kind !== targetKind(target)) {
    const is = kind === null
      ? "not a 64-bit ELF or Mach-O executable"
      : `${kind.startsWith("E") ? "an" : "a"} ${kind} executable`;
    return `compile: ${named} is ${is}, ` +
      `not a denort for ${target} (${targetKind(target)})`;
  }
  return null;
}

/** The one line that says how to supply the runtime of `target`. */
export function noRuntimeMessage(target: string, variable: string): string {
  const version = Deno.version.deno;
  return `compile: cannot get the denort runtime for ${target}: deno compile could not download it; on a connected ` +
    `machine fetch https://dl.deno.land/release/v${version}/denort-${target}.zip, unzip it, and run again with ` +
    `${variable}=/path/to/denort (or pre-fill DENO_DIR's cache)`;
}
