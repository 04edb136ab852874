/**
 * `deno task compile [--target <triple>] [--out <dir>]`: builds the three
 * executables, each from its own entry module with only its own
 * permissions, and writes the alias links beside them:
 *
 * | executable              | entry                 | aliases                                |
 * | ----------------------- | --------------------- | -------------------------------------- |
 * | `bus-auth`              | `cli/auth/main.ts`     | `bus`                                  |
 * | `bus-operator`          | `cli/operator/main.ts` | `bus-operator-auth`, `bus-operator-token` |
 * | `bus-api-provider-auth` | `server/main.ts`       |                                        |
 *
 * `deno compile` needs the `denort` runtime of the target: it downloads it,
 * or takes the file `DENORT_BIN` or `DENORT_BIN_<TARGET>` names (see
 * deploy/denort.ts; a file of another target's kind is refused). When it
 * cannot be had, one line says so and how to supply it, and the task exits
 * 3, leaving no folder it created. The commit of the build
 * (`git rev-parse HEAD`, or `BUS_AUTH_BUILD_COMMIT` where there is no
 * `.git`, as in a container build) is embedded for `--version`. A build for
 * this machine is run once (`--version`) to prove the runtime works.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join, relative, resolve } from "node:path";
import denoConfig from "../deno.json" with { type: "json" };
import { programPermissionFlags, programV8Flags } from "./permissions.ts";
import { chooseRuntime, noRuntimeMessage, type Runtime, runtimeFileProblem } from "./denort.ts";

/** One executable and the links to it. */
export interface Executable {
  name: string;
  entry: string;
  aliases: string[];
  /** Modules loaded as workers, which `deno compile` finds only when told (`--include`). */
  workers?: string[];
}

/** What `deno task compile` builds. */
export const EXECUTABLES: readonly Executable[] = [
  { name: "bus-auth", entry: "cli/auth/main.ts", aliases: ["bus"] },
  { name: "bus-operator", entry: "cli/operator/main.ts", aliases: ["bus-operator-auth", "bus-operator-token"] },
  {
    name: "bus-api-provider-auth",
    entry: "server/main.ts",
    aliases: [],
    workers: ["lib/store/wal_checkpoint_worker.ts"],
  },
];

/** The targets of `--target`. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

/** Exit code when the denort runtime cannot be had (the build could not be tried). */
export const EXIT_NO_RUNTIME = 3;

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COMMIT_FILE = join(ROOT, "lib", "runtime", "build_commit.txt");

/** The target triple of this machine, or `null` when Deno builds no runtime for it. */
export function hostTarget(): string | null {
  const triple = `${Deno.build.arch}-${
    Deno.build.os === "darwin" ? "apple-darwin" : Deno.build.os === "linux" ? "unknown-linux-gnu" : Deno.build.os
  }`;
  return (TARGETS as readonly string[]).includes(triple) ? triple : null;
}

/** The `deno compile` arguments of one executable. */
export function compileArgs(executable: Executable, options: { target: string; out: string }): string[] {
  return [
    "compile",
    "--frozen",
    "--config",
    join(ROOT, "deno.json"),
    "--no-prompt",
    "--exclude-unused-npm",
    ...programPermissionFlags(executable.name),
    ...programV8Flags(executable.name),
    "--include",
    COMMIT_FILE,
    ...(executable.workers ?? []).flatMap((worker) => ["--include", join(ROOT, worker)]),
    "--target",
    options.target,
    "--output",
    join(options.out, executable.name),
    join(ROOT, executable.entry),
  ];
}

/** Why a failed `deno compile` failed: the runtime could not be had, or something else. */
export function runtimeProblem(stderr: string): boolean {
  return /denort|dl\.deno\.land|Failed downloading|error sending request|Download/i.test(stderr) &&
    !/error: (TS\d+|Module not found|Import)/.test(stderr);
}

async function buildCommit(): Promise<string> {
  const given = Deno.env.get("BUS_AUTH_BUILD_COMMIT")?.trim();
  if (given) return given;
  try {
    const git = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: ROOT, stderr: "null" }).output();
    if (git.code === 0) return new TextDecoder().decode(git.stdout).trim();
  } catch {
    // No git here.
  }
  return "unknown";
}

/**
 * Builds every executable for `target` into `out` with `runtime` and links
 * the aliases. When the runtime cannot be had, `out` is left as it was (a
 * folder this call created is removed again).
 *
 * @returns 0, {@link EXIT_NO_RUNTIME}, or 1 for any other failure (said on stderr)
 */
export async function compileAll(target: string, out: string, runtime: Runtime): Promise<number> {
  const problem = await runtimeFileProblem(target, runtime);
  if (problem !== null) {
    console.error(problem);
    return EXIT_NO_RUNTIME;
  }
  const created = (await Deno.stat(out).catch(() => null)) === null;
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(COMMIT_FILE, `${await buildCommit()}\n`);
  for (const executable of EXECUTABLES) {
    // deno compile reads DENORT_BIN whatever the target: hand it this target's runtime, or none to download one.
    const env = { ...Deno.env.toObject() };
    if (runtime.path === undefined) delete env.DENORT_BIN;
    else env.DENORT_BIN = runtime.path;
    const result = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(executable, { target, out }),
      cwd: ROOT,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    if (result.code !== 0) {
      if (runtimeProblem(stderr)) {
        console.error(noRuntimeMessage(target, runtime.variable));
        if (created) await Deno.remove(out).catch(() => {});
        return EXIT_NO_RUNTIME;
      }
      console.error(`compile: deno compile of ${executable.entry} failed:\n${stderr.trim()}`);
      return 1;
    }
    for (const alias of executable.aliases) {
      const link = join(out, alias);
      await Deno.remove(link).catch(() => {});
      await Deno.symlink(executable.name, link);
    }
    console.log(`Built ${relative(Deno.cwd(), join(out, executable.name))} for ${target}`);
  }
  if (target === hostTarget()) return await smokeTest(out, runtime);
  return 0;
}

/** Runs each built executable once: a runtime that is not a denort builds files that do not run. */
async function smokeTest(out: string, runtime: Runtime): Promise<number> {
  for (const executable of EXECUTABLES) {
    const binary = join(out, executable.name);
    const expected = `${executable.name} ${denoConfig.version} (commit `;
    let stdout = "";
    try {
      const result = await new Deno.Command(binary, { args: ["--version"], stdout: "piped", stderr: "piped" })
        .output();
      stdout = new TextDecoder().decode(result.stdout);
    } catch (error) {
      stdout = String(error);
    }
    if (!stdout.startsWith(expected)) {
      console.error(
        `compile: ${binary} does not run (--version printed ${JSON.stringify(stdout.slice(0, 80))}): ` +
          `is ${runtime.path === undefined ? "the downloaded runtime" : runtime.variable} a denort runtime of this ` +
          "Deno version?",
      );
      return 1;
    }
  }
  return 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { target: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log(
      `usage: deno task compile [--target <${TARGETS.join("|")}>] [--out <dir>]\n` +
        "Builds dist/bus-auth, dist/bus-operator and dist/bus-api-provider-auth (dist/<target>/ for --target)\n" +
        "and the links bus, bus-operator-auth and bus-operator-token. Offline, DENORT_BIN (or\n" +
        "DENORT_BIN_<TARGET>, e.g. DENORT_BIN_AARCH64_UNKNOWN_LINUX_GNU) names the target's unzipped denort.",
    );
    return 0;
  }
  const host = hostTarget();
  const target = values.target ?? host;
  if (target === null || !(TARGETS as readonly string[]).includes(target)) {
    console.error(`compile: --target must be one of ${TARGETS.join(", ")}${target ? `, not "${target}"` : ""}`);
    return 2;
  }
  const out = resolve(values.out ?? (values.target === undefined ? join(ROOT, "dist") : join(ROOT, "dist", target)));
  // DENORT_BIN is the runtime of the one target this task builds.
  return await compileAll(target, out, chooseRuntime(target, Deno.env.toObject(), { denortBin: true }));
}

if (import.meta.main) Deno.exitCode = await main();
