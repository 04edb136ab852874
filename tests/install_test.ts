/**
 * `deno task install` puts all six program names on the PATH. (The compiled
 * executables are tests/compile_test.ts.)
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { baseEnv, versionOutput } from "./helpers/provider_process.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NAMES = ["bus", "bus-auth", "bus-operator", "bus-operator-auth", "bus-operator-token", "bus-api-provider-auth"];

async function run(command: string, args: string[], env: Record<string, string>) {
  const output = await new Deno.Command(command, { args, cwd: ROOT, env: { ...baseEnv(), ...env }, clearEnv: true })
    .output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("deno task install puts all six program names on the PATH", async () => {
  const root = await Deno.makeTempDir({ prefix: "bus-install-" });
  try {
    const installed = await run(Deno.execPath(), ["task", "install", "--root", root], {});
    assert.equal(installed.code, 0, installed.stderr);
    const path = `${join(root, "bin")}:${Deno.env.get("PATH")}`;
    for (const name of NAMES) {
      const result = await run(name, ["--version"], { PATH: path });
      assert.equal(result.stdout, versionOutput(name), result.stderr);
    }
    const nested = await run("bus", ["operator", "token", "--version"], { PATH: path });
    assert.equal(nested.stdout, versionOutput("bus-operator-token"));
    // The installed programs may run modules found on PATH (--allow-run) and .bus files.
    Deno.writeTextFileSync(join(root, "bin", "bus-operator-deploy"), '#!/bin/sh\necho "deploy: $*"\nexit 6\n');
    Deno.chmodSync(join(root, "bin", "bus-operator-deploy"), 0o755);
    const module = await run("bus", ["operator", "deploy", "doctor"], { PATH: path });
    assert.equal(module.stdout, "deploy: doctor\n", module.stderr);
    assert.equal(module.code, 6);
    const file = join(root, "doctor.bus");
    Deno.writeTextFileSync(file, "run command -- bus operator deploy doctor\n");
    const busFile = await run("bus", [file], { PATH: path });
    assert.equal(busFile.stdout, "deploy: doctor\n", busFile.stderr);
    assert.equal(busFile.code, 6);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
