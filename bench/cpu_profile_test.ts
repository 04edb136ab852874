import assert from "node:assert/strict";
import { type CpuProfile, formatTopFrames, topFrames } from "./cpu_profile.ts";

/** root → serve → handle → sign (recursive: sign → sign), and root → (idle), root → (garbage collector). */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [2, 6, 7] },
    { id: 2, callFrame: { functionName: "serve", url: "file:///app/server/serve.ts", lineNumber: 9 }, children: [3] },
    { id: 3, callFrame: { functionName: "handle", url: "file:///app/server/app.ts", lineNumber: 19 }, children: [4] },
    { id: 4, callFrame: { functionName: "sign", url: "file:///app/lib/jwt.ts", lineNumber: 29 }, children: [5] },
    { id: 5, callFrame: { functionName: "sign", url: "file:///app/lib/jwt.ts", lineNumber: 29 } },
    { id: 6, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
    { id: 7, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1 } },
  ],
  // 10 samples: 5 idle, then of the 5 busy ones: sign 2 (one of them recursive), handle 1, serve 1, GC 1.
  samples: [6, 6, 6, 6, 6, 4, 5, 3, 2, 7],
};

Deno.test("topFrames shares the busy samples by own and inclusive time, idle left out, recursion counted once", () => {
  const top = topFrames(PROFILE, 10);
  assert.equal(top.samples, 10);
  assert.equal(top.idlePercent, 50);
  assert.deepEqual(top.self, [
    { frame: "sign lib/jwt.ts:30", percent: 40 },
    { frame: "(garbage collector)", percent: 20 },
    { frame: "handle server/app.ts:20", percent: 20 },
    { frame: "serve server/serve.ts:10", percent: 20 },
  ]);
  assert.deepEqual(top.inclusive, [
    { frame: "serve server/serve.ts:10", percent: 80 },
    { frame: "handle server/app.ts:20", percent: 60 },
    { frame: "sign lib/jwt.ts:30", percent: 40 },
    { frame: "(garbage collector)", percent: 20 },
  ]);
  assert.deepEqual(topFrames(PROFILE, 1).self, [{ frame: "sign lib/jwt.ts:30", percent: 40 }]);
});

Deno.test("formatTopFrames prints the idle share and a table of own and inclusive frames", () => {
  const lines = formatTopFrames(topFrames(PROFILE, 2)).split("\n");
  assert.deepEqual(lines, [
    "10 samples, 50.0 % idle (outside JavaScript); shares of the others:",
    "",
    "| own % | frame | inclusive % | frame |",
    "| ---: | --- | ---: | --- |",
    "| 40.0 | sign lib/jwt.ts:30 | 80.0 | serve server/serve.ts:10 |",
    "| 20.0 | (garbage collector) | 60.0 | handle server/app.ts:20 |",
  ]);
});

Deno.test("a profile of nothing but idle samples has no frames, and no division by zero", () => {
  const idle: CpuProfile = { nodes: PROFILE.nodes, samples: [6, 6] };
  assert.deepEqual(topFrames(idle, 5), { samples: 2, idlePercent: 100, self: [], inclusive: [] });
});
