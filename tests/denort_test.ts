/**
 * The denort runtime of `deno task compile` (deploy/denort.ts): which
 * variable names the runtime of which target, the check that a named file is
 * an executable of its target's kind, and the task building a foreign target
 * with the runtime DENORT_BIN names, refusing one of another kind, and saying
 * which variable to set when there is none, without leaving a folder behind.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { hostTarget, TARGETS } from "../deploy/compile.ts";
import { chooseRuntime, executableKind, noRuntimeMessage, runtimeVariable, targetKind } from "../deploy/denort.ts";
import { runCommand } from "./helpers/provider_process.ts";
import { CAN_FAKE_DENORT, contains, fakeDenort, FOREIGN_LINUX_TARGET, noDownloadEnv } from "./helpers/fake_denort.ts";

function compile(args: string[], env: Record<string, string>) {
  return runCommand(Deno.execPath(), ["task", "--quiet", "compile", ...args], { env });
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "bus-denort-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const exists = async (path: string) => (await Deno.lstat(path).catch(() => null)) !== null;

Deno.test("runtimeVariable() names one variable per target and chooseRuntime() prefers it to DENORT_BIN", () => {
  assert.equal(runtimeVariable("aarch64-unknown-linux-gnu"), "DENORT_BIN_AARCH64_UNKNOWN_LINUX_GNU");
  assert.equal(new Set(TARGETS.map(runtimeVariable)).size, TARGETS.length);
  const target = "x86_64-apple-darwin";
  const own = "DENORT_BIN_X86_64_APPLE_DARWIN";
  assert.deepEqual(chooseRuntime(target, { DENORT_BIN: "/a" }, { denortBin: true }), {
    variable: "DENORT_BIN",
    path: "/a",
  });
  assert.deepEqual(chooseRuntime(target, { DENORT_BIN: "/a", [own]: "/b" }, { denortBin: true }), {
    variable: own,
    path: "/b",
  });
  // Where DENORT_BIN is another target's runtime (release, foreign targets), only the target's own variable counts.
  assert.deepEqual(chooseRuntime(target, { DENORT_BIN: "/a" }, { denortBin: false }), { variable: own });
  assert.deepEqual(chooseRuntime(target, { DENORT_BIN: "" }, { denortBin: true }), { variable: "DENORT_BIN" });
});

Deno.test("executableKind() reads 64-bit ELF and Mach-O headers; targetKind() says what each target runs", async () => {
  const elf = (machine: number, elfClass = 2) => {
    const header = new Uint8Array(20);
    header.set([0x7f, 0x45, 0x4c, 0x46, elfClass, 1]);
    new DataView(header.buffer).setUint16(18, machine, true);
    return header;
  };
  const macho = (cpu: number) => {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, 0xfeedfacf, true);
    new DataView(header.buffer).setUint32(4, cpu, true);
    return header;
  };
  assert.equal(executableKind(elf(0x3e)), "ELF x86_64");
  assert.equal(executableKind(elf(0xb7)), "ELF aarch64");
  assert.equal(executableKind(elf(0x28)), "ELF machine 0x28");
  assert.equal(executableKind(elf(0x3e, 1)), null);
  assert.equal(executableKind(macho(0x01000007)), "Mach-O x86_64");
  assert.equal(executableKind(macho(0x0100000c)), "Mach-O aarch64");
  assert.equal(executableKind(new TextEncoder().encode("#!/bin/sh\necho denort\n")), null);
  assert.equal(executableKind(new Uint8Array(3)), null);
  assert.deepEqual(TARGETS.map(targetKind), ["ELF x86_64", "ELF aarch64", "Mach-O x86_64", "Mach-O aarch64"]);
  const host = hostTarget();
  if (host !== null) {
    const file = await Deno.open(Deno.execPath());
    const header = new Uint8Array(20);
    await file.read(header);
    file.close();
    assert.equal(executableKind(header), targetKind(host), "the running deno is of this machine's kind");
  }
});

Deno.test({
  name: "deno task compile --target of another machine builds with the runtime DENORT_BIN names, offline",
  ignore: !CAN_FAKE_DENORT,
  fn: () =>
    withTempDir(async (dir) => {
      const denort = await fakeDenort(dir, "denort", FOREIGN_LINUX_TARGET);
      const out = join(dir, "out");
      const env = { ...(await noDownloadEnv(dir)), DENORT_BIN: denort.path };
      const result = await compile(["--target", FOREIGN_LINUX_TARGET, "--out", out], env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      for (const name of ["bus-auth", "bus-operator", "bus-api-provider-auth"]) {
        assert.match(result.stdout, new RegExp(`^Built .*/out/${name} for ${FOREIGN_LINUX_TARGET}$`, "m"));
        assert.ok(await contains(join(out, name), denort.marker), `${name} is built on the DENORT_BIN file`);
      }
      assert.equal(await Deno.readLink(join(out, "bus-operator-token")), "bus-operator");
    }),
});

Deno.test({
  name: "deno task compile refuses a runtime of another target's kind before building, and leaves no folder",
  ignore: !CAN_FAKE_DENORT || hostTarget() === null,
  fn: () =>
    withTempDir(async (dir) => {
      const hostKind = targetKind(hostTarget()!);
      const hostDenort = (await fakeDenort(dir, "host-denort", hostTarget()!)).path;
      const script = join(dir, "script-denort");
      await Deno.writeTextFile(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const offline = await noDownloadEnv(dir);
      const out = join(dir, "out");
      const cases = [
        [FOREIGN_LINUX_TARGET, "DENORT_BIN", hostDenort, `an ${hostKind} executable`],
        ["x86_64-apple-darwin", "DENORT_BIN_X86_64_APPLE_DARWIN", hostDenort, `an ${hostKind} executable`],
        ["aarch64-apple-darwin", "DENORT_BIN", script, "not a 64-bit ELF or Mach-O executable"],
      ] as const;
      for (const [target, variable, path, kind] of cases) {
        const result = await compile(["--target", target, "--out", out], { ...offline, [variable]: path });
        assert.equal(result.code, 3, result.stderr);
        assert.equal(
          result.stderr,
          `compile: ${variable}=${path} is ${kind}, not a denort for ${target} (${targetKind(target)})\n`,
        );
        assert.equal(await exists(out), false, target);
      }
    }),
});

Deno.test("deno task compile without a runtime for its target names the variable to set and leaves no folder", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "out");
    const target = "aarch64-apple-darwin";
    const result = await compile(["--target", target, "--out", out], await noDownloadEnv(dir));
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stderr, `${noRuntimeMessage(target, "DENORT_BIN")}\n`);
    assert.match(result.stderr, /run again with DENORT_BIN=\/path\/to\/denort /);
    assert.equal(await exists(out), false);
  }));
