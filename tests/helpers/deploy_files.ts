/**
 * Readers for the deployment files, so that tests can check them without a
 * container engine: `.dockerignore` matching as Docker does it, the
 * instructions of a Dockerfile, a compose file as `docker-compose config`
 * resolves it, and the validators found on this machine.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { REQUIRE_SERVICES_VARIABLE } from "./postgres_cluster.ts";

/** The checkout's root folder, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A `.dockerignore` as Docker reads it: the last pattern that matches a path
 * or one of its parent folders decides, `!` lets a path back in, `*` and `?`
 * stay within one path segment, `**` crosses any number of them.
 */
export class DockerIgnore {
  #rules: { pattern: RegExp; exclude: boolean }[];

  constructor(text: string) {
    this.#rules = text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => {
        const exclude = !line.startsWith("!");
        const pattern = (exclude ? line : line.slice(1)).trim().replace(/^\/+/, "").replace(/\/+$/, "");
        return { pattern: globRegExp(pattern), exclude };
      });
  }

  /** Whether a path relative to the context (such as `lib/ip.ts`) stays out of the build context. */
  excludes(path: string): boolean {
    const parts = path.replace(/^\.\//, "").split("/");
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join("/"));
    let excluded = false;
    for (const rule of this.#rules) {
      if (candidates.some((candidate) => rule.pattern.test(candidate))) excluded = rule.exclude;
    }
    return excluded;
  }
}

function globRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        source += "(?:.*/)?";
      } else {
        source += ".*";
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  /** Upper-case keyword: `FROM`, `COPY`, `RUN`, … */
  keyword: string;
  /** Everything after the keyword. */
  rest: string;
  /** The stage it belongs to (0 for the first `FROM`). */
  stage: number;
}

/** The instructions of a Dockerfile, comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
    if (pending !== "" && line.trimStart().startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const match = /^(\S+)\s*(.*)$/s.exec(full)!;
    const keyword = match[1].toUpperCase();
    if (keyword === "FROM") stage++;
    instructions.push({ keyword, rest: match[2].trim(), stage });
  }
  return instructions;
}

/** The JSON (exec) form of CMD, ENTRYPOINT, RUN or HEALTHCHECK … CMD, or `null` for the shell form. */
export function execForm(rest: string): string[] | null {
  const json = rest.slice(rest.indexOf("["));
  if (!rest.includes("[") || !json.trim().endsWith("]")) return null;
  try {
    const value = JSON.parse(json);
    return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : null;
  } catch {
    return null;
  }
}

/** A compose file as `docker-compose config` resolves it (defaults interpolated, paths absolute). */
// deno-lint-ignore no-explicit-any
export type ComposeConfig = { services: Record<string, any>; secrets?: Record<string, { file: string }> };

/**
 * Runs `docker-compose [-f FILE] config` in `cwd` and returns the resolved
 * configuration (YAML turned into JSON by the python3-yaml docker-compose
 * itself depends on).
 */
export async function composeConfig(file: string, options: { cwd?: string; quiet?: boolean } = {}): Promise<
  { code: number; stderr: string; config: ComposeConfig | null }
> {
  const env = { ...Deno.env.toObject() };
  for (const name of Object.keys(env)) {
    if (/^(LOCAL_AI_PLATFORM_|BUS_LOCAL_|COMPOSE_)/.test(name)) delete env[name];
  }
  const result = await new Deno.Command("docker-compose", {
    args: ["-f", file, "config", ...(options.quiet ? ["-q"] : [])],
    cwd: options.cwd ?? ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (result.code !== 0 || options.quiet) return { code: result.code, stderr, config: null };
  const json = await pipeThrough(
    "python3",
    ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
    result.stdout,
  );
  return { code: 0, stderr, config: JSON.parse(json) };
}

async function pipeThrough(program: string, args: string[], input: Uint8Array): Promise<string> {
  const child = new Deno.Command(program, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const output = await child.output();
  if (output.code !== 0) throw new Error(`${program} failed: ${new TextDecoder().decode(output.stderr)}`);
  return new TextDecoder().decode(output.stdout);
}

/** Whether a program runs here (`PROGRAM ARGS` exits 0). */
export async function toolWorks(program: string, args: string[]): Promise<boolean> {
  try {
    const result = await new Deno.Command(program, { args, stdout: "null", stderr: "null" }).output();
    return result.code === 0;
  } catch {
    return false;
  }
}

/**
 * Whether a validator is missing: `null` when it works, else the reason.
 * Under `BUS_AUTH_REQUIRE_SERVICES=1` (CI) a missing validator throws, so
 * that the check fails instead of being skipped.
 */
export async function missingTool(program: string, args: string[], debianPackage: string): Promise<string | null> {
  if (await toolWorks(program, args)) return null;
  const reason = `${program} is not available (apt-get install ${debianPackage})`;
  if (Deno.env.get(REQUIRE_SERVICES_VARIABLE) === "1") {
    throw new Error(`${reason}; ${REQUIRE_SERVICES_VARIABLE}=1 makes a missing validator a failure`);
  }
  console.error(`deploy file checks skipped: ${reason}`);
  return reason;
}
