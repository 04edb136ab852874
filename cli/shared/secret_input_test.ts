import assert from "node:assert/strict";
import { join } from "node:path";
import type { Io } from "../../lib/program.ts";
import { FailureError, UsageError } from "./errors.ts";
import { readSecretFile, secretFromEnvironment } from "./secret_input.ts";

function testIo(env: Record<string, string> = {}): Io & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    stdout: () => {},
    stderr: (text) => warnings.push(text),
    env,
    build: { version: "0.0.0", commit: null },
    warnings,
  };
}

async function failure(promise: Promise<unknown>): Promise<FailureError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FailureError, String(error));
    return error;
  }
  assert.fail("expected a failure");
}

Deno.test("readSecretFile() reads a file without its trailing line break and warns when others may read it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "key");
    await Deno.writeTextFile(path, "s3cret-value\r\n", { mode: 0o600 });
    const io = testIo();
    assert.equal(await readSecretFile(path, "key file", io), "s3cret-value");
    assert.deepEqual(io.warnings, []);
    await Deno.chmod(path, 0o640);
    await readSecretFile(path, "key file", io);
    assert.match(io.warnings[0], /^warning: the key file ".*" is readable by group or others \(mode 0640\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSecretFile() reads a named pipe to its end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = join(dir, "key.fifo");
    assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
    const writing = Deno.writeTextFile(fifo, "from-a-pipe\n");
    assert.equal(await readSecretFile(fifo, "key file", testIo()), "from-a-pipe");
    await writing;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSecretFile() names each problem: missing, folder, empty, too large", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await failure(readSecretFile(join(dir, "nope"), "token file", testIo()));
    assert.equal(missing.message, `Cannot read the token file "${join(dir, "nope")}": no such file`);
    assert.equal(missing.code, "file_not_found");
    assert.equal(missing.exitCode, 1);
    const folder = await failure(readSecretFile(dir, "token file", testIo()));
    assert.match(folder.message, /: it is a folder, not a file$/);
    await Deno.writeTextFile(join(dir, "empty"), "\n\n", { mode: 0o600 });
    assert.match((await failure(readSecretFile(join(dir, "empty"), "token file", testIo()))).message, /is empty$/);
    await Deno.writeFile(join(dir, "big"), new Uint8Array(64 * 1024 + 1).fill(65), { mode: 0o600 });
    assert.match(
      (await failure(readSecretFile(join(dir, "big"), "token file", testIo()))).message,
      /larger than 64 KiB$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSecretFile() reports a file the user may not read as a permission problem, not as missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "locked");
    await Deno.writeTextFile(path, "secret", { mode: 0o600 });
    let output: string;
    if (Deno.uid() === 0) {
      // root reads every file: ask an unprivileged user, with this module alone (no npm packages needed).
      await Deno.chmod(dir, 0o755);
      const script = `import { readSecretFile } from ${
        JSON.stringify(new URL("./secret_input.ts", import.meta.url).href)
      };
        try { await readSecretFile(${JSON.stringify(path)}, "token file", { stdout() {}, stderr() {}, env: {} }); }
        catch (error) { console.log(error.code + " " + error.message); }`;
      const cache = await Deno.makeTempDir();
      await Deno.chmod(cache, 0o777);
      const result = await new Deno.Command("runuser", {
        args: ["-u", "nobody", "--", Deno.execPath(), "eval", "--no-config", script],
        env: { DENO_DIR: cache, NO_COLOR: "1" },
        clearEnv: true,
      }).output();
      await Deno.remove(cache, { recursive: true });
      output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    } else {
      await Deno.chmod(path, 0o000);
      output = await readSecretFile(path, "token file", testIo()).then(
        () => "read",
        (error) => `${error.code} ${error.message}`,
      );
    }
    assert.equal(
      output.trim(),
      `permission_denied Cannot read the token file "${path}": permission denied (this user may not read the file or search its folder)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secretFromEnvironment() prefers NAME_FILE, takes NAME, and refuses both", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "key"), "from-file\n", { mode: 0o600 });
    const file = join(dir, "key");
    assert.equal(await secretFromEnvironment(testIo({ K_FILE: file }), "K_FILE", "K", "key file"), "from-file");
    assert.equal(await secretFromEnvironment(testIo({ K: " value " }), "K_FILE", "K", "key file"), "value");
    assert.equal(await secretFromEnvironment(testIo({}), "K_FILE", "K", "key file"), undefined);
    await assert.rejects(
      secretFromEnvironment(testIo({ K_FILE: file, K: "value" }), "K_FILE", "K", "key file"),
      (error: unknown) => error instanceof UsageError && /K_FILE and K are both set: keep one/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
