/**
 * The top frames of a V8 CPU profile (`deno run --cpu-prof` writes one when
 * the process exits), as shares of the samples in which the thread was
 * busy: by their own time and including what they called. `http_bench.ts --cpu-prof DIR` prints them for
 * the provider of each store; on its own:
 *
 *   deno run -A bench/cpu_profile.ts FILE.cpuprofile [--top 25]
 *
 * The samples V8 counts as `(idle)` are left out: the main thread was
 * outside JavaScript, waiting for work (between a benchmark's rows) or in the
 * runtime's HTTP server and the kernel's socket calls
 * (`docs/BENCHMARKS.md`, "Where a request's CPU goes"), which a profile of
 * JavaScript does not break down.
 *
 * @module
 */

import { benchArgsWithOperands, wholeNumberArg } from "./_args.ts";

/** The parts of a `.cpuprofile` (Chrome DevTools protocol `Profiler.Profile`) this reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
}

/** A frame (function, file, line) and its share of the busy samples, in percent. */
export interface FrameShare {
  frame: string;
  percent: number;
}

/** What {@link topFrames} finds. */
export interface TopFrames {
  /** Every sample of the profile. */
  samples: number;
  /** Share of them counted as `(idle)`, in percent. */
  idlePercent: number;
  /** Frames by the samples in which they ran themselves, largest first. */
  self: FrameShare[];
  /** Frames by the samples in which they were on the stack (once a sample, however deep their recursion). */
  inclusive: FrameShare[];
}

/** The `count` largest frames of `profile`, by own and by inclusive samples, `(idle)` left out. */
export function topFrames(profile: CpuProfile, count: number): TopFrames {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const [id, samples] of hits) {
    const node = byId.get(id);
    if (node === undefined) continue;
    if (node.callFrame.functionName === "(idle)") {
      idle += samples;
      continue;
    }
    const own = frameName(node.callFrame);
    self.set(own, (self.get(own) ?? 0) + samples);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = frameName(byId.get(at)!.callFrame);
      if (seen.has(frame)) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + samples);
    }
  }
  const total = profile.samples.length;
  const busy = total - idle;
  const largest = (shares: Map<string, number>) =>
    [...shares].filter(([frame]) => frame !== "(root)")
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, count)
      .map(([frame, samples]) => ({ frame, percent: 100 * samples / busy }));
  return {
    samples: total,
    idlePercent: total === 0 ? 0 : 100 * idle / total,
    self: largest(self),
    inclusive: largest(inclusive),
  };
}

/** `name path:line`, the path cut to its last two parts; V8's own entries (`(idle)`, `(garbage collector)`) alone. */
function frameName(callFrame: CpuProfile["nodes"][number]["callFrame"]): string {
  const name = callFrame.functionName || "(anonymous)";
  if (callFrame.url === "") return name;
  const path = callFrame.url.split("/").slice(-2).join("/");
  return `${name} ${path}:${callFrame.lineNumber + 1}`;
}

/** The frames as a Markdown table, own and inclusive side by side. */
export function formatTopFrames(top: TopFrames): string {
  const lines = [
    `${top.samples} samples, ${top.idlePercent.toFixed(1)} % idle (outside JavaScript); shares of the others:`,
    "",
    "| own % | frame | inclusive % | frame |",
    "| ---: | --- | ---: | --- |",
  ];
  for (let i = 0; i < Math.max(top.self.length, top.inclusive.length); i++) {
    const own = top.self[i];
    const all = top.inclusive[i];
    lines.push(
      `| ${own?.percent.toFixed(1) ?? ""} | ${own?.frame ?? ""} | ${all?.percent.toFixed(1) ?? ""} | ${
        all?.frame ?? ""
      } |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const usage = "usage: deno run -A bench/cpu_profile.ts FILE.cpuprofile [--top 25]";
  const { values, operands } = benchArgsWithOperands({ top: { type: "string", default: "25" } }, usage);
  if (operands.length !== 1) {
    console.error(`error: name one .cpuprofile file\n${usage}`);
    Deno.exit(2);
  }
  const file = operands[0];
  let profile: CpuProfile;
  try {
    profile = JSON.parse(Deno.readTextFileSync(file));
  } catch (error) {
    console.error(`error: ${file}: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
  console.log(formatTopFrames(topFrames(profile, wholeNumberArg("--top", values.top))));
}
