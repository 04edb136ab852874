/**
 * Git-style modules (DESIGN §1): `bus X …` runs the built-in module or else
 * `bus-X` on PATH, `bus operator F …` the built-in family or else
 * `bus-operator-F`; arguments, stdin, environment and exit status pass
 * through; neither gives exit 2 and one line. The help lists what PATH has.
 */

import assert from "node:assert/strict";
import { fakePath, printArgs } from "./helpers/fake_path.ts";
import { baseEnv, runProgram, versionOutput } from "./helpers/provider_process.ts";

Deno.test("bus operator F runs bus-operator-F from PATH with the arguments unchanged and passes its exit status", async () => {
  const path = await fakePath();
  try {
    path.script("bus-operator-deploy", printArgs("bus-operator-deploy", 7));
    const expected = "bus-operator-deploy got 4 arguments\n[doctor]\n[--flag]\n[a b]\n[]\n";
    for (const [program, args] of [["bus", ["operator"]], ["bus-operator", []]] as const) {
      const result = await runProgram(program, [...args, "deploy", "doctor", "--flag", "a b", ""], {
        env: { PATH: path.dir },
      });
      assert.equal(result.stdout, expected, `${program}: ${result.stderr}`);
      assert.equal(result.stderr, "");
      assert.equal(result.code, 7);
    }
  } finally {
    await path.remove();
  }
});

Deno.test("a module on PATH gets this process's stdin and environment", async () => {
  const path = await fakePath(["cat"]);
  try {
    path.script("bus-operator-billing", `printf 'FROM_ENV=%s\\n' "$FROM_ENV"\nprintf 'stdin: '\ncat`);
    path.script("bus-echo", `printf 'FROM_ENV=%s\\n' "$FROM_ENV"\nprintf 'stdin: '\ncat`);
    for (const args of [["operator", "billing"], ["echo"]]) {
      const result = await runProgram("bus", args, {
        env: { PATH: path.dir, FROM_ENV: "passed through" },
        stdin: "line one\nline two\n",
      });
      assert.equal(result.stdout, "FROM_ENV=passed through\nstdin: line one\nline two\n", result.stderr);
      assert.equal(result.code, 0);
    }
  } finally {
    await path.remove();
  }
});

Deno.test("bus X runs bus-X from PATH; bus X Y … also finds bus-X-Y, shortest name first", async () => {
  const path = await fakePath();
  try {
    path.script("bus-deploy", printArgs("bus-deploy", 4));
    path.script("bus-api-provider-llm", printArgs("bus-api-provider-llm", 0));
    const deploy = await runProgram("bus", ["deploy", "doctor", "--flag", "a b"], { env: { PATH: path.dir } });
    assert.equal(deploy.stdout, "bus-deploy got 3 arguments\n[doctor]\n[--flag]\n[a b]\n");
    assert.equal(deploy.code, 4);
    const llm = await runProgram("bus", ["api", "provider", "llm", "serve", "--port", "1"], {
      env: { PATH: path.dir },
    });
    assert.equal(llm.stdout, "bus-api-provider-llm got 3 arguments\n[serve]\n[--port]\n[1]\n", llm.stderr);
    assert.equal(llm.code, 0);
    // With bus-api on PATH too, bus api … is bus-api's, as git would have it.
    path.script("bus-api", printArgs("bus-api", 0));
    const api = await runProgram("bus", ["api", "provider", "llm"], { env: { PATH: path.dir } });
    assert.equal(api.stdout, "bus-api got 2 arguments\n[provider]\n[llm]\n");
  } finally {
    await path.remove();
  }
});

Deno.test("built-in modules and families win over programs of the same name on PATH", async () => {
  const path = await fakePath();
  try {
    for (
      const name of ["bus-auth", "bus-operator", "bus-operator-auth", "bus-operator-token", "bus-api-provider-auth"]
    ) {
      path.script(name, printArgs(name, 9));
    }
    const cases: [string, string[], string][] = [
      ["bus", ["auth", "--version"], versionOutput("bus-auth")],
      ["bus", ["operator", "--version"], versionOutput("bus-operator")],
      ["bus", ["operator", "auth", "--version"], versionOutput("bus-operator-auth")],
      ["bus-operator", ["token", "--version"], versionOutput("bus-operator-token")],
      ["bus", ["api", "provider", "auth", "--version"], versionOutput("bus-api-provider-auth")],
    ];
    for (const [program, args, expected] of cases) {
      const result = await runProgram(program, args, { env: { PATH: path.dir } });
      assert.equal(result.stdout, expected, `${program} ${args.join(" ")}: ${result.stderr}`);
    }
  } finally {
    await path.remove();
  }
});

Deno.test("a module found nowhere exits 2 with one line naming what was looked for", async () => {
  const path = await fakePath();
  try {
    // Not executable: not a module, as for git.
    path.script("bus-operator-deploy", printArgs("x", 0), 0o644);
    path.script("bus-teleport", printArgs("x", 0), 0o644);
    const cases: [string, string[], string][] = [
      ["bus-operator", ["deploy", "doctor"], "bus-operator: no bus-operator-deploy on PATH\n"],
      ["bus", ["operator", "deploy", "doctor"], "bus-operator: no bus-operator-deploy on PATH\n"],
      ["bus", ["operator", "atuh", "waitlist"], 'bus-operator: no bus-operator-atuh on PATH; did you mean "auth"?\n'],
      ["bus", ["teleport"], "bus: no bus-teleport on PATH\n"],
      ["bus", ["auht", "--email", "x@example.com"], 'bus: no bus-auht on PATH; did you mean "auth"?\n'],
      ["bus", ["opertor"], 'bus: no bus-opertor on PATH; did you mean "operator"?\n'],
      ["bus", ["api", "provider"], 'bus: no bus-api or bus-api-provider on PATH; did you mean "api provider auth"?\n'],
      ["bus", ["api", "provider", "llm"], "bus: no bus-api, bus-api-provider or bus-api-provider-llm on PATH\n"],
    ];
    for (const family of ["billing", "cloud", "database", "node", "inference"]) {
      cases.push(["bus-operator", [family, "status"], `bus-operator: no bus-operator-${family} on PATH\n`]);
    }
    for (const [program, args, expected] of cases) {
      const result = await runProgram(program, args, { env: { PATH: path.dir } });
      assert.equal(result.stderr, expected, `${program} ${args.join(" ")}`);
      assert.equal(result.stdout, "");
      assert.equal(result.code, 2);
    }
  } finally {
    await path.remove();
  }
});

Deno.test("options where a module or family belongs are usage errors (exit 2, synopsis)", async () => {
  for (
    const [program, args] of [
      ["bus", ["--frobnicate"]],
      ["bus-operator", ["--frobnicate"]],
      ["bus", []],
      ["bus-operator", []],
    ] as const
  ) {
    const result = await runProgram(program, [...args]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^usage: bus /m);
  }
});

Deno.test("a module killed by a signal exits with 128 + the signal number", async () => {
  const path = await fakePath();
  try {
    path.script("bus-operator-node", "kill -TERM $$");
    const result = await runProgram("bus", ["operator", "node"], { env: { PATH: path.dir } });
    assert.equal(result.code, 128 + 15);
  } finally {
    await path.remove();
  }
});

Deno.test("bus --help lists the bus-* programs on PATH as they are typed, without this build's own", async () => {
  const path = await fakePath();
  try {
    for (
      const name of [
        "bus-deploy",
        "bus-api-provider-llm",
        "bus-operator-deploy",
        "bus-auth",
        "bus-auth-extra",
        "bus-operator-token",
        "bus-api-provider-auth",
      ]
    ) {
      path.script(name, "exit 0");
    }
    path.script("bus-notes", "exit 0", 0o644);
    const help = await runProgram("bus", ["--help"], { env: { PATH: path.dir } });
    assert.equal(help.code, 0);
    const listing = help.stdout.split("    Modules found on PATH:\n")[1].split("\n\n")[0];
    assert.equal(
      listing,
      [
        "    api provider llm     bus-api-provider-llm",
        "    auth-extra           bus-auth-extra",
        "    deploy               bus-deploy",
        "    operator deploy      bus-operator-deploy",
      ].join("\n"),
    );
  } finally {
    await path.remove();
  }
});

Deno.test("bus operator --help lists the bus-operator-* families on PATH and the spec's families that are not", async () => {
  const path = await fakePath();
  try {
    for (const name of ["bus-operator-deploy", "bus-operator-zeta", "bus-operator-auth"]) path.script(name, "exit 0");
    const help = await runProgram("bus-operator", ["--help"], { env: { PATH: path.dir } });
    const commands = help.stdout.split("COMMANDS\n")[1].split("\n\n")[0];
    assert.equal(
      commands,
      [
        "    auth       waitlist, approve, reject, policy, client, audit (bus-operator-auth)",
        "    token      issue service tokens, remotely or --local (bus-operator-token)",
        "    deploy     complete deployment flows (bus-operator-deploy on PATH)",
        "    zeta       bus-operator-zeta on PATH",
        "    billing    billing operations (bus-operator-billing, not found on PATH)",
        "    cloud      cloud phase of deployments (bus-operator-cloud, not found on PATH)",
        "    database   database phase of deployments (bus-operator-database, not found on PATH)",
        "    node       node phase of deployments (bus-operator-node, not found on PATH)",
        "    inference  inference phase of deployments (bus-operator-inference, not found on PATH)",
      ].join("\n"),
    );
    const typo = await runProgram("bus-operator", ["zetta"], { env: { PATH: path.dir } });
    assert.equal(typo.stderr, 'bus-operator: no bus-operator-zetta on PATH; did you mean "zeta"?\n');
  } finally {
    await path.remove();
  }
});

Deno.test("bus --help and bus operator --help still print without permission to search PATH", async () => {
  const config = new URL("../deno.json", import.meta.url).pathname;
  const main = new URL("../main.ts", import.meta.url).pathname;
  for (const args of [["bus", "--help"], ["bus-operator", "--help"]]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read=.", "--config", config, main, ...args],
      env: baseEnv(),
      clearEnv: true,
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.match(stdout, /^COMMANDS$/m);
    if (args[0] === "bus") assert.match(stdout, /PATH not searched/);
    else assert.match(stdout, /^ {4}deploy +complete deployment flows \(bus-operator-deploy\)$/m);
  }
});

Deno.test("a module that cannot be started for lack of --allow-run is one line and exit 1", async () => {
  const path = await fakePath();
  try {
    path.script("bus-operator-deploy", printArgs("bus-operator-deploy", 0));
    const config = new URL("../deno.json", import.meta.url).pathname;
    const main = new URL("../main.ts", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "--allow-env",
        "--config",
        config,
        main,
        "bus",
        "operator",
        "deploy",
      ],
      env: { ...baseEnv(), PATH: path.dir },
      clearEnv: true,
    }).output();
    assert.equal(output.code, 1, "a missing permission is a failure, as everywhere, not a usage error");
    assert.equal(
      new TextDecoder().decode(output.stderr),
      `bus-operator: Cannot run "${path.dir}/bus-operator-deploy": this program lacks Deno's --allow-run permission ` +
        "(reinstall it with deno task install)\n",
    );
  } finally {
    await path.remove();
  }
});

Deno.test({
  name:
    "while a module runs, SIGTERM to bus is passed on to it and SIGINT (which a terminal sends to both) is left to it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const path = await fakePath(["sleep"]);
    try {
      path.script(
        "bus-operator-node",
        `trap 'echo got TERM; exit 3' TERM\necho ready\ni=0\nwhile [ $i -lt 10 ]; do sleep 0.1; i=$((i+1)); done\necho done`,
      );
      const config = new URL("../deno.json", import.meta.url).pathname;
      const main = new URL("../main.ts", import.meta.url).pathname;
      for (
        const [signal, expectedOutput, expectedCode] of [["SIGTERM", "got TERM", 3], ["SIGINT", "done", 0]] as const
      ) {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--config", config, main, "bus", "operator", "node"],
          env: { ...baseEnv(), PATH: path.dir },
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let seen = "";
        while (!seen.includes("ready\n")) seen += (await lines.read()).value ?? "";
        child.kill(signal);
        for (let chunk = await lines.read(); !chunk.done; chunk = await lines.read()) seen += chunk.value;
        const status = await child.status;
        await child.stderr.cancel();
        assert.equal(seen, `ready\n${expectedOutput}\n`, signal);
        assert.equal(status.code, expectedCode, signal);
      }
    } finally {
      await path.remove();
    }
  },
});
