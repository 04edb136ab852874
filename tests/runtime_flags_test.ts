import assert from "node:assert/strict";
import denoConfig from "../deno.json" with { type: "json" };
import { compileArgs, EXECUTABLES } from "../deploy/compile.ts";
import { wrapperScript } from "../deploy/install.ts";
import { programV8Flags } from "../deploy/permissions.ts";
import { testPermissions } from "./helpers/provider_process.ts";

const FLAG = "--v8-flags=--max-semi-space-size=4,--heap-growing-percent=50";

Deno.test("the provider runs with its V8 flags however it is run: compiled, wrapper, deno task dev, tests", () => {
  assert.deepEqual(programV8Flags("bus-api-provider-auth"), [FLAG]);
  const provider = EXECUTABLES.find((executable) => executable.name === "bus-api-provider-auth")!;
  assert.ok(compileArgs(provider, { target: "x86_64-unknown-linux-gnu", out: "/tmp/out" }).includes(FLAG));
  assert.ok(wrapperScript("bus-api-provider-auth", "/checkout").includes(` ${FLAG} `));
  assert.ok(denoConfig.tasks.dev.split(" ").includes(FLAG));
  assert.ok(testPermissions("bus-api-provider-auth").includes(FLAG));
});

Deno.test("the CLIs run without V8 flags", () => {
  for (const program of ["bus", "bus-auth", "bus-operator", "bus-operator-token", "bus-operator-auth"]) {
    assert.deepEqual(programV8Flags(program), []);
    assert.ok(!wrapperScript(program, "/checkout").includes("--v8-flags"), program);
  }
  for (const executable of EXECUTABLES.filter((executable) => executable.name !== "bus-api-provider-auth")) {
    assert.ok(
      !compileArgs(executable, { target: "x86_64-unknown-linux-gnu", out: "/tmp/out" }).join(" ").includes(
        "--v8-flags",
      ),
    );
  }
});

Deno.test("the compiled provider carries its SQLite checkpoint worker, which no import reaches", () => {
  const provider = EXECUTABLES.find((executable) => executable.name === "bus-api-provider-auth")!;
  const args = compileArgs(provider, { target: "x86_64-unknown-linux-gnu", out: "/tmp/out" });
  const worker = new URL("../lib/store/wal_checkpoint_worker.ts", import.meta.url).pathname;
  assert.ok(Deno.statSync(worker).isFile);
  assert.equal(args[args.indexOf(worker) - 1], "--include");
  for (const executable of EXECUTABLES.filter((executable) => executable.name !== "bus-api-provider-auth")) {
    assert.ok(!compileArgs(executable, { target: "x86_64-unknown-linux-gnu", out: "/tmp/out" }).includes(worker));
  }
});
