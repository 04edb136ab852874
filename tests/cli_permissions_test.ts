/**
 * The CLIs under Deno permissions that do not cover what they need: one
 * line naming the missing permission, never a stack trace; and --version
 * and --help need no permission at all.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { programPermissionFlags } from "../deploy/permissions.ts";
import { baseEnv, MAIN, versionOutput } from "./helpers/provider_process.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function runWith(permissions: string[], args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, "--config", CONFIG, MAIN, ...args],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("deno run main.ts bus-auth --version and --help work without any permission", async () => {
  const version = await runWith([], ["bus-auth", "--version"]);
  assert.deepEqual([version.code, version.stdout, version.stderr], [
    0,
    versionOutput("bus-auth", { commitReadable: false }),
    "",
  ]);
  const help = await runWith([], ["bus-operator-token", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^NAME\n/);
});

Deno.test("a missing --allow-env is one line that names it (exit 1), not a stack trace", async () => {
  const result = await runWith([], ["bus-auth", "status"]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "bus-auth: missing permission: Requires env access, run again with the --allow-env flag\n",
  );
});

Deno.test("a secret file outside --allow-read names the permission, not 'no such file'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-permissions-" });
  try {
    const token = join(dir, "admin-token");
    Deno.writeTextFileSync(token, "not-a-real-token\n", { mode: 0o600 });
    const result = await runWith(
      ["--allow-env", "--allow-net=127.0.0.1", `--allow-read=${CONFIG}`],
      ["bus-operator-auth", "--api-url", "http://127.0.0.1:8080", "--token-file", token, "waitlist"],
    );
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `bus-operator-auth: Cannot read the admin token file "${token}": the program lacks Deno's read permission for it ` +
        `(run it with --allow-read=${token})\n`,
    );
    const json = await runWith(
      ["--allow-env", "--allow-net=127.0.0.1", `--allow-read=${CONFIG}`],
      [
        "bus-operator-auth",
        "--format",
        "json",
        "--api-url",
        "http://127.0.0.1:8080",
        "--token-file",
        token,
        "waitlist",
      ],
    );
    assert.equal(JSON.parse(json.stdout).error, "missing_permission");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing --allow-net is one line that names it", async () => {
  const result = await runWith(
    ["--allow-env", "--allow-read"],
    ["bus-auth", "--api-url", "http://127.0.0.1:8080", "register", "--email", "user@example.com"],
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^bus-auth: missing permission: Requires net access to "127\.0\.0\.1:8080", .*--allow-net/,
  );
  assert.equal(result.stderr.split("\n").length, 2, "one line");
});

Deno.test("the provider under its compiled permission set names where its SQLite file may live", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bus-permissions-store-" });
  try {
    const result = await runWith(
      ["--no-prompt", ...programPermissionFlags("bus-api-provider-auth")],
      ["bus-api-provider-auth", "serve", "--listen", "127.0.0.1:0"],
      { BUS_AUTH_HS256_SECRET: "permission-test-signing-secret-32-bytes!", BUS_AUTH_STORE_PATH: join(dir, "a.sqlite") },
    );
    assert.equal(result.code, 1);
    const line = JSON.parse(result.stderr.trim().split("\n").pop()!);
    assert.equal(line.msg, "cannot open the store");
    assert.match(
      line.detail,
      /Requires write access to .*the compiled provider writes only below \/var\/lib\/bus-auth/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
