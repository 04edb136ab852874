/**
 * `bus`: the dispatcher of `bus auth …`, `bus operator …` and
 * `bus api provider auth …`; of `bus X …` to `bus-X` on PATH, as git runs
 * `git-X`; and of `bus FILE.bus`, a file of bus commands.
 *
 * @module
 */

import { versionLine } from "../lib/version.ts";
import { runBusFile } from "./busfile/run.ts";
import { shellQuote } from "./busfile/script.ts";
import { findOnPath, listOnPath, withoutPermission } from "./external/path.ts";
import { runModule } from "./external/spawn.ts";
import { EXIT, type Io, type Program, type ProgramLoader } from "../lib/program.ts";
import { closestMatch } from "../lib/suggest.ts";
import { BUS_SYNOPSIS, busHelp } from "./bus_help.ts";

/** The built-in modules: the words after `bus` that reach each. */
export interface BusModules {
  auth: ProgramLoader;
  operator: ProgramLoader;
  "api provider auth": ProgramLoader;
}

/** Words after `bus` of each built-in module. */
const ROUTES: ReadonlyArray<[words: string[], module: keyof BusModules]> = [
  [["auth"], "auth"],
  [["operator"], "operator"],
  [["api", "provider", "auth"], "api provider auth"],
];

/** The names this build installs besides `bus`: never run or listed as modules found on PATH. */
export const OWN_NAMES: readonly string[] = [
  "bus-auth",
  "bus-operator",
  "bus-operator-auth",
  "bus-operator-token",
  "bus-api-provider-auth",
];

/** At most this many words after `bus` make up a module name (`bus api provider llm`). */
const MAX_NAME_WORDS = 4;

/**
 * `bus`, with the built-in modules an executable holds: loaded in this
 * process, or (in a compiled CLI that does not carry the provider) the
 * sibling executable that does.
 */
export function createBusProgram(modules: BusModules): Program {
  const run = (args: string[], io: Io): Promise<number> => runBus(args, io, modules, run);
  return { name: "bus", summary: "dispatcher", run };
}

async function runBus(
  args: string[],
  io: Io,
  modules: BusModules,
  self: (args: string[], io: Io) => Promise<number>,
): Promise<number> {
  const [first] = args;
  if (first === undefined) {
    io.stderr(`bus: a program is required\n${BUS_SYNOPSIS}`);
    return EXIT.usage;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout(busHelp(await modulesOnPath(io).catch(withoutPermission)));
    return EXIT.ok;
  }
  if (first === "--version") {
    io.stdout(versionLine("bus", io.build));
    return EXIT.ok;
  }
  if (isBusFile(first)) {
    if (args.length > 1) {
      io.stderr(`bus: a .bus file takes no arguments, got ${shellQuote(args.slice(1))}\n${BUS_SYNOPSIS}`);
      return EXIT.usage;
    }
    return await runBusFile(first, io, self);
  }
  for (const [words, module] of ROUTES) {
    if (words.every((word, i) => args[i] === word)) {
      return await (await modules[module]()).run(args.slice(words.length), io);
    }
  }
  if (first.startsWith("-")) {
    io.stderr(`bus: unknown option "${first}"\n${BUS_SYNOPSIS}`);
    return EXIT.usage;
  }
  return await runFromPath(args, io);
}

/**
 * A first argument that ends in `.bus` or contains a `/` names a file: the
 * kernel runs a `#!/usr/bin/env bus` file as `bus /path/to/FILE`, and module
 * names never contain a `/`.
 */
function isBusFile(word: string): boolean {
  return word.endsWith(".bus") || word.includes("/") || (Deno.build.os === "windows" && word.includes("\\"));
}

/** A word that can be part of a module name: not an option, not a path. */
function isNameWord(word: string): boolean {
  return /^[^\s/\\-][^\s/\\]*$/.test(word);
}

/** `bus X Y …`: the first of `bus-X`, `bus-X-Y`, … found on PATH, else one line naming them. */
async function runFromPath(args: string[], io: Io): Promise<number> {
  const names: string[] = [];
  while (names.length < Math.min(args.length, MAX_NAME_WORDS) && isNameWord(args[names.length])) {
    names.push(args[names.length]);
  }
  if (names.length === 0) {
    io.stderr(`bus: unknown program "${args[0]}"\n${BUS_SYNOPSIS}`);
    return EXIT.usage;
  }
  const tried: string[] = [];
  for (let count = 1; count <= names.length; count++) {
    const command = `bus-${names.slice(0, count).join("-")}`;
    tried.push(command);
    const path = await findOnPath(command, io.env);
    if (path !== undefined) return await runModule("bus", path, args.slice(count), io);
  }
  const known = [...ROUTES.map(([words]) => words.join(" ")), ...(await modulesOnPath(io)).keys()];
  io.stderr(`bus: no ${listWithOr(tried)} on PATH${suggestion(names, known)}\n`);
  return EXIT.usage;
}

/**
 * The `bus-*` programs on PATH other than this build's own, each under the
 * words that run it (`bus-api-provider-llm` → `api provider llm`), sorted.
 */
async function modulesOnPath(io: Io): Promise<Map<string, string>> {
  const found = new Set((await listOnPath("bus-", io.env)).keys());
  for (const own of OWN_NAMES) found.delete(own);
  const modules = new Map<string, string>();
  for (const command of found) modules.set(typedForm(command, found), command);
  return new Map([...modules].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

/**
 * How `bus-…` is typed after `bus`: its words separated by spaces when that
 * reaches it, else the dashed name (when a shorter name, built in or on PATH,
 * would take those words first).
 */
function typedForm(command: string, found: ReadonlySet<string>): string {
  const rest = command.slice("bus-".length);
  if (rest.startsWith("operator-")) return `operator ${rest.slice("operator-".length)}`;
  const words = rest.split("-");
  if (words.length > MAX_NAME_WORDS || words.some((word) => !isNameWord(word))) return rest;
  for (let count = 1; count < words.length; count++) {
    const shorter = words.slice(0, count);
    if (found.has(`bus-${shorter.join("-")}`)) return rest;
    if (ROUTES.some(([route]) => route.join(" ") === shorter.join(" "))) return rest;
  }
  return words.join(" ");
}

/** `; did you mean "auth"?` when the typed words are close to a known module. */
function suggestion(names: string[], known: string[]): string {
  for (const candidate of known) {
    const typed = names.slice(0, candidate.split(" ").length).join(" ");
    if (closestMatch(typed, [candidate]) !== undefined) return `; did you mean "${candidate}"?`;
  }
  return "";
}

function listWithOr(items: string[]): string {
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
