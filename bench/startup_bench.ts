/**
 * Start-up of the CLIs: whole-process wall time of one command, median of
 * N runs after warm-up, next to an empty `deno run` measured in the same
 * run. Prints one table with the ratio to that baseline; asserts nothing.
 *
 *   deno run -A bench/startup_bench.ts [--runs 15]
 *
 * Each program runs under its own permission set from deno.json, as the
 * installed and compiled programs do. The goal for `bus-auth --version` is
 * at most 1.3x the empty run.
 */

import { join } from "node:path";
import { programPermissionFlags } from "../deploy/permissions.ts";
import { benchArgs } from "./_args.ts";

const values = benchArgs(
  { runs: { type: "string", default: "15" } },
  "usage: deno run -A bench/startup_bench.ts [--runs 15]",
);
const runs = Number(values.runs);
const ROOT = new URL("../", import.meta.url).pathname;
const config = join(ROOT, "deno.json");
const empty = join(await Deno.makeTempDir({ prefix: "bus-startup-" }), "empty.ts");
await Deno.writeTextFile(empty, "");

const flags = (program: string) => ["--no-prompt", ...programPermissionFlags(program), "--config", config];
const cases: [label: string, args: string[]][] = [
  ["empty deno run (baseline)", ["run", "--no-config", empty]],
  ["bus-auth --version", ["run", ...flags("bus-auth"), join(ROOT, "cli/auth/main.ts"), "--version"]],
  ["bus-auth --help", ["run", ...flags("bus-auth"), join(ROOT, "cli/auth/main.ts"), "--help"]],
  ["bus --version (bus-auth binary)", ["run", ...flags("bus"), join(ROOT, "cli/auth/main.ts"), "bus", "--version"]],
  ["bus-operator --version", ["run", ...flags("bus-operator"), join(ROOT, "cli/operator/main.ts"), "--version"]],
  [
    "bus-operator-token --help",
    ["run", ...flags("bus-operator"), join(ROOT, "cli/operator/main.ts"), "bus-operator-token", "--help"],
  ],
  ["bus-api-provider-auth --version", [
    "run",
    ...flags("bus-api-provider-auth"),
    join(ROOT, "server/main.ts"),
    "--version",
  ]],
  ["main.ts bus-auth --version (installed)", [
    "run",
    ...flags("bus-auth"),
    join(ROOT, "main.ts"),
    "bus-auth",
    "--version",
  ]],
];

async function once(args: string[]): Promise<number> {
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" }).output();
  const elapsed = performance.now() - started;
  if (code !== 0) throw new Error(`deno ${args.join(" ")} exited with ${code}`);
  return elapsed;
}

async function median(args: string[]): Promise<number> {
  for (let i = 0; i < 3; i++) await once(args);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(args));
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

// Interleave the baseline with the cases: the machine's speed drifts.
const results: [string, number][] = [];
let baseline = 0;
for (const [label, args] of cases) {
  const ms = await median(args);
  if (results.length === 0) baseline = ms;
  results.push([label, ms]);
}
const again = await median(cases[0][1]);
baseline = (baseline + again) / 2;

console.log(`Start-up, whole-process wall time, median of ${runs} runs (Deno ${Deno.version.deno})\n`);
console.log("| command | ms | x empty deno run |");
console.log("| --- | ---: | ---: |");
for (const [label, ms] of results) {
  console.log(`| ${label} | ${ms.toFixed(1)} | ${(ms / baseline).toFixed(2)} |`);
}
console.log(`\nbaseline: mean of two medians ${baseline.toFixed(1)} ms; goal for bus-auth --version: <= 1.30x`);
