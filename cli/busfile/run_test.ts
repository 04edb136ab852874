import assert from "node:assert/strict";
import { join } from "node:path";
import type { Io } from "../../lib/program.ts";
import { DEPTH_VARIABLE, runBusFile } from "./run.ts";

async function withFile(text: string, body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bus-run-" });
  try {
    Deno.writeTextFileSync(join(dir, "f.bus"), text);
    await body(join(dir, "f.bus"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function capture(env: Record<string, string> = {}): Io & { err: string } {
  const io = {
    err: "",
    stdout: () => {},
    stderr: (text: string) => void (io.err += text),
    env,
    build: { version: "0.0.0", commit: null },
  };
  return io;
}

Deno.test("runBusFile() dispatches each line's words in order, one level deeper, and stops at the first failure", async () => {
  await withFile("auth status\nrun command -- bus operator 'a b'\nteleport\nauth me\n", async (path) => {
    const seen: [string[], string | undefined][] = [];
    const io = capture({ [DEPTH_VARIABLE]: "2" });
    const code = await runBusFile(path, io, (args, lineIo) => {
      seen.push([args, lineIo.env[DEPTH_VARIABLE]]);
      return Promise.resolve(args[0] === "teleport" ? 5 : 0);
    });
    assert.equal(code, 5);
    assert.deepEqual(seen, [[["auth", "status"], "3"], [["operator", "a b"], "3"], [["teleport"], "3"]]);
    assert.equal(io.err, `bus: ${path}:3: "teleport" failed with exit status 5\n`);
  });
});

Deno.test("runBusFile() turns an exception of a line into a FILE:LINE failure with exit 1", async () => {
  await withFile("\nauth status\n", async (path) => {
    const io = capture();
    const code = await runBusFile(path, io, () => Promise.reject(new Error("boom")));
    assert.equal(code, 1);
    assert.equal(io.err, `bus: ${path}:2: "auth status" failed: boom\n`);
  });
});

Deno.test("runBusFile() runs nothing at the nesting limit", async () => {
  await withFile("auth status\n", async (path) => {
    const io = capture({ [DEPTH_VARIABLE]: "8" });
    const code = await runBusFile(path, io, () => assert.fail("nothing may run"));
    assert.equal(code, 2);
    assert.match(io.err, /nested more than 8 deep; does a file run itself\?\n$/);
  });
});
