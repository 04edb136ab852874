/**
 * `.bus` files (DESIGN §1): `bus FILE.bus` and `#!/usr/bin/env bus` run one
 * bus command per line; `run command -- PROGRAM ARGS…` runs a program
 * without a shell; the first failing line stops the run with its status and
 * FILE:LINE; bad files are refused before anything runs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { busWrapper, type FakePath, fakePath, printArgs } from "./helpers/fake_path.ts";
import { baseEnv, runProgram, versionOutput } from "./helpers/provider_process.ts";

/** A folder for the .bus files of a test, a controlled PATH with printf, cat, sh and env, and cleanup. */
async function workspace(): Promise<
  { dir: string; path: FakePath; write(name: string, text: string): string; remove(): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "bus-file-" });
  const path = await fakePath(["printf", "cat", "sh", "env"]);
  return {
    dir,
    path,
    write(name, text) {
      Deno.writeTextFileSync(join(dir, name), text);
      return join(dir, name);
    },
    remove: async () => {
      await Deno.remove(dir, { recursive: true });
      await path.remove();
    },
  };
}

function runBus(
  args: string[],
  ws: { dir: string; path: FakePath },
  options: { stdin?: string; env?: Record<string, string> } = {},
) {
  return runProgram("bus", args, { cwd: ws.dir, env: { PATH: ws.path.dir, ...options.env }, stdin: options.stdin });
}

Deno.test("bus FILE.bus runs the spec's 'api provider auth --help' line as bus api provider auth --help", async () => {
  const ws = await workspace();
  try {
    ws.write("help.bus", "# same as: bus api provider auth --help\napi provider auth --help\n");
    const result = await runBus(["help.bus"], ws);
    const direct = await runProgram("bus", ["api", "provider", "auth", "--help"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, direct.stdout);
    assert.match(result.stdout, /^NAME\n {4}bus-api-provider-auth /);
  } finally {
    await ws.remove();
  }
});

Deno.test("the spec's 'run command -- bus operator deploy doctor' runs bus-operator-deploy from PATH and stops on its status", async () => {
  const ws = await workspace();
  try {
    ws.path.script("bus-operator-deploy", printArgs("bus-operator-deploy", 7));
    ws.write(
      "deploy.bus",
      "# same as: bus operator deploy doctor\nrun command -- bus operator deploy doctor\nrun command -- printf 'not reached\\n'\n",
    );
    const result = await runBus(["deploy.bus"], ws);
    assert.equal(result.stdout, "bus-operator-deploy got 1 arguments\n[doctor]\n");
    assert.equal(result.code, 7);
    assert.equal(
      result.stderr,
      'bus: deploy.bus:2: "run command -- bus operator deploy doctor" failed with exit status 7\n',
    );
  } finally {
    await ws.remove();
  }
});

Deno.test("lines run in order, and a failing bus line stops the run with its status and FILE:LINE", async () => {
  const ws = await workspace();
  try {
    ws.path.script("bus-operator-deploy", printArgs("bus-operator-deploy", 0));
    ws.write(
      "steps.bus",
      [
        "run command -- printf 'one\\n'",
        "operator deploy plan --env 'prod eu'",
        "# a comment",
        "",
        "operator teleport --now",
        "run command -- printf 'not reached\\n'",
      ].join("\n"),
    );
    const result = await runBus(["steps.bus"], ws);
    assert.equal(result.stdout, "one\nbus-operator-deploy got 3 arguments\n[plan]\n[--env]\n[prod eu]\n");
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      "bus-operator: no bus-operator-teleport on PATH\n" +
        'bus: steps.bus:5: "operator teleport --now" failed with exit status 2\n',
    );
  } finally {
    await ws.remove();
  }
});

Deno.test("a file with only comments and blank lines succeeds and prints nothing", async () => {
  const ws = await workspace();
  try {
    ws.write("empty.bus", "#!/usr/bin/env bus\n\n# nothing to do yet\n   \n");
    ws.write("zero.bus", "");
    for (const name of ["empty.bus", "zero.bus"]) {
      const result = await runBus([name], ws);
      assert.deepEqual(result, { code: 0, stdout: "", stderr: "" }, name);
    }
  } finally {
    await ws.remove();
  }
});

Deno.test("a #!/usr/bin/env bus file runs as a program through the kernel's shebang handling", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const ws = await workspace();
  try {
    ws.path.script("bus", busWrapper());
    ws.path.script("bus-operator-deploy", printArgs("bus-operator-deploy", 5));
    const file = ws.write(
      "deploy",
      "#!/usr/bin/env bus\n# same as: bus operator deploy doctor\nrun command -- bus operator deploy doctor\n",
    );
    Deno.chmodSync(file, 0o755);
    const output = await new Deno.Command(file, {
      cwd: ws.dir,
      env: { ...baseEnv(), PATH: ws.path.dir },
      clearEnv: true,
    }).output();
    assert.equal(new TextDecoder().decode(output.stdout), "bus-operator-deploy got 1 arguments\n[doctor]\n");
    assert.equal(
      new TextDecoder().decode(output.stderr),
      `bus: ${file}:3: "run command -- bus operator deploy doctor" failed with exit status 5\n`,
    );
    assert.equal(output.code, 5);
  } finally {
    await ws.remove();
  }
});

Deno.test("run command -- passes words literally: no variables, globs or ~ are expanded", async () => {
  const ws = await workspace();
  try {
    ws.write("a.txt", "");
    ws.write("literal.bus", `run command -- printf '%s\\n' '$HOME' "*" $HOME * ~ '$(' '\`' "a  b" \\$\\(\n`);
    const result = await runBus(["literal.bus"], ws, { env: { HOME: "/home/someone" } });
    assert.equal(result.stdout, "$HOME\n*\n$HOME\n*\n~\n$(\n`\na  b\n$(\n", result.stderr);
    assert.equal(result.code, 0);
  } finally {
    await ws.remove();
  }
});

Deno.test("run command -- gives the program this process's stdin and environment, and its signal status", async () => {
  const ws = await workspace();
  try {
    ws.write("stdin.bus", 'run command -- cat\nrun command -- sh -c \'printf "%s\\n" "$GREETING"\'\n');
    const result = await runBus(["stdin.bus"], ws, { stdin: "from stdin\n", env: { GREETING: "hello" } });
    assert.equal(result.stdout, "from stdin\nhello\n", result.stderr);
    ws.write("signal.bus", "run command -- sh -c 'kill -TERM $$'\n");
    const killed = await runBus(["signal.bus"], ws);
    assert.equal(killed.code, 143);
    assert.match(killed.stderr, /^bus: signal\.bus:1: .* failed with exit status 143$/m);
  } finally {
    await ws.remove();
  }
});

Deno.test("run command -- bus runs this same program in-process, with no bus on PATH", async () => {
  const ws = await workspace();
  try {
    ws.write("self.bus", "run command -- bus --version\nrun command -- bus operator token --version\n");
    const result = await runBus(["self.bus"], ws);
    assert.equal(result.stdout, versionOutput("bus") + versionOutput("bus-operator-token"), result.stderr);
  } finally {
    await ws.remove();
  }
});

Deno.test("a run command program that is not on PATH or cannot run exits 2 naming FILE:LINE", async () => {
  const ws = await workspace();
  try {
    ws.write("missing.bus", "run command -- printf 'first\\n'\nrun command -- no-such-program --x\n");
    const missing = await runBus(["missing.bus"], ws);
    assert.equal(missing.stdout, "first\n");
    assert.equal(missing.stderr, "bus: missing.bus:2: no no-such-program on PATH\n");
    assert.equal(missing.code, 2);
    ws.write("not-executable", "");
    ws.write("path.bus", "run command -- ./nope\nrun command -- ./not-executable\n");
    const path = await runBus(["path.bus"], ws);
    assert.equal(path.stderr, 'bus: path.bus:1: Cannot run "./nope": no such file\n');
    assert.equal(path.code, 2);
    ws.write("path2.bus", "run command -- ./not-executable\n");
    const notExecutable = await runBus(["path2.bus"], ws);
    assert.match(notExecutable.stderr, /^bus: path2\.bus:1: Cannot run "\.\/not-executable": permission denied/);
    assert.equal(notExecutable.code, 2);
  } finally {
    await ws.remove();
  }
});

Deno.test("a malformed file is refused with FILE:LINE before any line runs", async () => {
  const ws = await workspace();
  try {
    const cases: [string, RegExp][] = [
      ["run command -- printf '%s\\n' 'oops\nauth status\n", /^bus: bad\.bus:2: unterminated single quote/],
      ['run command -- printf "oops\n', /^bus: bad\.bus:2: unterminated double quote/],
      ["run command --\n", /^bus: bad\.bus:2: "run command --" names no program: run command -- PROGRAM/],
      ["run command printf x\n", /^bus: bad\.bus:2: "run command" needs "--" before the program/],
      [
        "run command -- printf x | cat\n",
        /^bus: bad\.bus:2: unquoted "\|": \.bus lines are not shell; quote it \('\|'\)/,
      ],
      ["run command -- printf x > out.txt\n", /^bus: bad\.bus:2: unquoted ">"/],
      ["auth status; auth me\n", /^bus: bad\.bus:2: unquoted ";"/],
      ["run command -- printf $(id)\n", /^bus: bad\.bus:2: unquoted "\$\("/],
    ];
    for (const [second, expected] of cases) {
      ws.write("bad.bus", `run command -- printf 'ran\\n'\n${second}`);
      const result = await runBus(["bad.bus"], ws);
      assert.equal(result.code, 2, second);
      assert.equal(result.stdout, "", `nothing runs: ${second}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.split("\n").length, 2, `one line: ${result.stderr}`);
    }
    ws.write("many.bus", "run command\nauth status &\nauth me\n");
    const many = await runBus(["many.bus"], ws);
    assert.deepEqual(many.stderr.split("\n").map((line) => line.split(": ").slice(0, 2).join(": ")), [
      "bus: many.bus:1",
      "bus: many.bus:2",
      "",
    ]);
  } finally {
    await ws.remove();
  }
});

Deno.test("a missing, directory, unreadable or non-UTF-8 file is one clear line and exit 2", async () => {
  const ws = await workspace();
  try {
    Deno.mkdirSync(join(ws.dir, "dir.bus"));
    Deno.writeFileSync(join(ws.dir, "latin1.bus"), new Uint8Array([0x61, 0x75, 0x74, 0x68, 0xe9, 0x0a]));
    const cases: [string, string][] = [
      ["nope.bus", 'bus: cannot read "nope.bus": no such file\n'],
      ["./nope", 'bus: cannot read "./nope": no such file\n'],
      ["dir.bus", 'bus: cannot read "dir.bus": it is a directory\n'],
      ["latin1.bus", 'bus: cannot read "latin1.bus": it is not UTF-8 text\n'],
    ];
    // root reads any file, so an unreadable file can only be made for others.
    if (Deno.uid() !== 0) {
      Deno.chmodSync(ws.write("secret.bus", "auth status\n"), 0o000);
      cases.push(["secret.bus", 'bus: cannot read "secret.bus": permission denied\n']);
    }
    for (const [name, expected] of cases) {
      const result = await runBus([name], ws);
      assert.deepEqual(result, { code: 2, stdout: "", stderr: expected }, name);
    }
  } finally {
    await ws.remove();
  }
});

Deno.test("a .bus file takes no arguments", async () => {
  const ws = await workspace();
  try {
    ws.write("a.bus", "run command -- printf 'ran\\n'\n");
    const result = await runBus(["a.bus", "extra", "a b"], ws);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^bus: a \.bus file takes no arguments, got extra 'a b'\nusage: bus /);
  } finally {
    await ws.remove();
  }
});

Deno.test("a .bus file that runs itself stops at the nesting limit, in-process and across processes", async () => {
  const ws = await workspace();
  try {
    ws.write("loop.bus", "loop.bus\n");
    const inProcess = await runBus(["loop.bus"], ws);
    assert.equal(inProcess.code, 2);
    const lines = inProcess.stderr.trimEnd().split("\n");
    assert.equal(lines[0], "bus: loop.bus: .bus files nested more than 8 deep; does a file run itself?");
    assert.equal(lines.length, 9);
    assert.ok(lines.slice(1).every((line) => line === 'bus: loop.bus:1: "loop.bus" failed with exit status 2'));

    // Through a new process each time: the depth travels in BUS_FILE_DEPTH.
    ws.path.script("bus", busWrapper());
    ws.write("spawn.bus", "run command -- env bus spawn.bus\n");
    const spawned = await runBus(["spawn.bus"], ws);
    assert.equal(spawned.code, 2);
    assert.match(spawned.stderr, /^bus: spawn\.bus: \.bus files nested more than 8 deep/);
  } finally {
    await ws.remove();
  }
});
