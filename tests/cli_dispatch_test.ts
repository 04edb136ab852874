/**
 * Multi-call dispatch (DESIGN §1): program by invocation name or first
 * argument, the `bus` dispatcher, aliases, and help snapshots of every
 * program and family.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { baseEnv, MAIN, runProgram, versionOutput } from "./helpers/provider_process.ts";
import { assertSnapshot } from "./helpers/snapshot.ts";
import { OWN_NAMES } from "../cli/bus.ts";
import { PROGRAMS } from "../main.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const NAMES = ["bus", "bus-auth", "bus-operator", "bus-operator-auth", "bus-operator-token", "bus-api-provider-auth"];

Deno.test("main.ts picks the program from the invocation name (argv0), as a symlink or a compiled binary would", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-argv0-" });
  try {
    for (const name of NAMES) {
      // A symlink to the deno binary named like the program: argv0 is that name.
      Deno.symlinkSync(Deno.execPath(), join(dir, name));
      const output = await new Deno.Command(join(dir, name), {
        args: ["run", "-A", "--config", CONFIG, MAIN, "--version"],
        env: baseEnv(),
        clearEnv: true,
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      assert.equal(new TextDecoder().decode(output.stdout), versionOutput(name));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts without a program name explains how to pick one (exit 2)", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, MAIN, "status"],
    env: baseEnv(),
    clearEnv: true,
  }).output();
  assert.equal(output.code, 2);
  assert.match(new TextDecoder().decode(output.stderr), /^Run as one of bus, bus-auth, /);
});

Deno.test("bus dispatches auth, operator, operator token/auth and api provider auth", async () => {
  const cases: [string, string[], string][] = [
    ["bus", ["auth", "--version"], versionOutput("bus-auth")],
    ["bus", ["operator", "--version"], versionOutput("bus-operator")],
    ["bus", ["operator", "token", "--version"], versionOutput("bus-operator-token")],
    ["bus", ["operator", "auth", "--version"], versionOutput("bus-operator-auth")],
    ["bus", ["api", "provider", "auth", "--version"], versionOutput("bus-api-provider-auth")],
    ["bus-operator", ["token", "--version"], versionOutput("bus-operator-token")],
    ["bus", ["--version"], versionOutput("bus")],
  ];
  for (const [program, args, expected] of cases) {
    const result = await runProgram(program, args);
    assert.equal(result.stdout, expected, `${program} ${args.join(" ")}: ${result.stderr}`);
  }
  const none = await runProgram("bus", []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^bus: a program is required\nusage: bus /);
  const empty = await Deno.makeTempDir({ prefix: "bus-empty-path-" });
  try {
    for (const args of [["api", "provider"], ["teleport"]]) {
      const result = await runProgram("bus", args, { env: { PATH: empty } });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /^bus: no bus-\S+( or bus-\S+)? on PATH/);
    }
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("bus knows this build's own program names, so it never runs or lists them from PATH", () => {
  assert.deepEqual([...OWN_NAMES].sort(), Object.keys(PROGRAMS).filter((name) => name !== "bus").sort());
});

Deno.test("bus-operator-token and bus-operator-auth behave as bus operator token and bus operator auth", async () => {
  const env = { BUS_AUTH_HS256_SECRET: "alias-test-signing-secret-of-32-bytes-min" };
  const args = ["issue", "--local", "--subject", "svc", "--audience", "ai.hg.fi/internal", "--format", "json"];
  const alias = JSON.parse((await runProgram("bus-operator-token", args, { env })).stdout);
  const umbrella = JSON.parse((await runProgram("bus", ["operator", "token", ...args], { env })).stdout);
  assert.deepEqual(Object.keys(alias).sort(), Object.keys(umbrella).sort());
  assert.equal(alias.subject, umbrella.subject);
  assert.equal(alias.expires_in, 600);
  const aliasHelp = await runProgram("bus-operator-auth", ["--help"]);
  const umbrellaHelp = await runProgram("bus", ["operator", "auth", "--help"]);
  assert.equal(aliasHelp.stdout, umbrellaHelp.stdout);
});

Deno.test("help output of every program and family has the Git-style sections (snapshots)", async () => {
  // An empty PATH, so that the modules and families found on PATH do not depend on the machine.
  const empty = await Deno.makeTempDir({ prefix: "bus-empty-path-" });
  const cases: [string, string, string[]][] = [
    ["bus.help", "bus", ["--help"]],
    ["bus-auth.help", "bus-auth", ["--help"]],
    ["bus-auth.token.help", "bus-auth", ["token", "--help"]],
    ["bus-operator.help", "bus-operator", ["--help"]],
    ["bus-operator-auth.help", "bus-operator-auth", ["--help"]],
    ["bus-operator-token.help", "bus-operator-token", ["--help"]],
  ];
  for (const [snapshot, program, args] of cases) {
    const result = await runProgram(program, args, { env: { PATH: empty } });
    assert.equal(result.code, 0, result.stderr);
    if (!snapshot.includes(".token.")) {
      for (
        const section of [
          "NAME",
          "SYNOPSIS",
          "DESCRIPTION",
          "COMMANDS",
          "OPTIONS",
          "ENVIRONMENT",
          "EXAMPLES",
          "SEE ALSO",
        ]
      ) {
        assert.match(result.stdout, new RegExp(`^${section}$`, "m"), `${snapshot} lacks ${section}`);
      }
    }
    await assertSnapshot(snapshot, result.stdout);
  }
  await Deno.remove(empty);
});
