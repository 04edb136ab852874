/**
 * The committed lock is frozen everywhere the programs are built or run
 * from a checkout: deno.json freezes it for every deno command, and the
 * install wrappers and `deno task compile` pass `--frozen` themselves, so a
 * dependency that deno.lock does not hold is refused instead of written into
 * the lock. Each check runs deno against a copy of deno.json and deno.lock
 * whose import map asks for a spelling of hono that the lock does not list
 * (resolvable from the package cache, so it needs no network).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { compileArgs, EXECUTABLES } from "../deploy/compile.ts";
import { wrapperScript } from "../deploy/install.ts";
import { PROGRAMS } from "../main.ts";
import { baseEnv } from "./helpers/provider_process.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CHANGED = "npm:hono@~4.13.19";

/**
 * A checkout of deno.json (with `edit` applied), deno.lock and a main.ts that imports hono, in a temporary folder.
 */
async function checkoutWithNewDependency(edit: (config: Record<string, unknown>) => void = () => {}) {
  const dir = await Deno.makeTempDir({ prefix: "bus-frozen-" });
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.notEqual(config.imports.hono, CHANGED);
  config.imports.hono = CHANGED;
  edit(config);
  await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
  await Deno.copyFile(join(ROOT, "deno.lock"), join(dir, "deno.lock"));
  await Deno.writeTextFile(join(dir, "main.ts"), 'import { Hono } from "hono";\nconsole.log(typeof Hono);\n');
  return dir;
}

async function run(command: string, args: string[], cwd: string) {
  const output = await new Deno.Command(command, { args, cwd, env: baseEnv(), clearEnv: true, stdin: "null" }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** Asserts that deno refused to run for the lock's sake and left deno.lock as committed. */
async function assertRefused(result: { code: number; stdout: string; stderr: string }, dir: string, what: string) {
  assert.notEqual(result.code, 0, `${what} ran: ${result.stdout}`);
  assert.equal(result.stdout, "", what);
  assert.match(result.stderr, /The lockfile is out of date/, what);
  assert.match(result.stderr, new RegExp(CHANGED.replaceAll(".", "\\.")), what);
  assert.equal(await Deno.readTextFile(join(dir, "deno.lock")), await Deno.readTextFile(join(ROOT, "deno.lock")), what);
}

Deno.test("deno.json freezes the committed deno.lock: a dependency it does not hold is refused, the lock unchanged", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.deepEqual(config.lock, { path: "./deno.lock", frozen: true });
  const dir = await checkoutWithNewDependency();
  try {
    // No --frozen flag: only deno.json's "lock" setting can refuse it.
    const result = await run(Deno.execPath(), ["run", "--quiet", "--config", join(dir, "deno.json"), "main.ts"], dir);
    await assertRefused(result, dir, "deno run under deno.json");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the install wrappers pass --frozen: they refuse a dependency deno.lock does not hold, even unfrozen by config", async () => {
  // The checkout's deno.json no longer freezes the lock: the wrapper's own flag must.
  const dir = await checkoutWithNewDependency((config) => {
    config.lock = { path: "./deno.lock" };
  });
  try {
    for (const program of Object.keys(PROGRAMS)) {
      const script = wrapperScript(program, dir);
      assert.match(script, /^exec deno run .*--frozen /m, program);
      const path = join(dir, program);
      await Deno.writeTextFile(path, script, { mode: 0o755 });
      await assertRefused(await run("sh", [path, "--version"], dir), dir, `the ${program} wrapper`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile passes --frozen to deno compile for every executable", () => {
  for (const executable of EXECUTABLES) {
    const args = compileArgs(executable, { target: "x86_64-unknown-linux-gnu", out: "/tmp/out" });
    assert.equal(args[0], "compile");
    assert.ok(args.includes("--frozen"), executable.name);
    assert.ok(!args.some((arg) => arg.startsWith("--frozen=")), `${executable.name}: --frozen is not switched off`);
  }
});
