/**
 * `deno task release`: which runtime each target gets, what it writes for the
 * targets it can build (the archive's files and links, SHA256SUMS of the
 * archives), how it skips and names the targets without a runtime (nothing
 * left behind for them), and its refusals before any build. No runtime can be
 * downloaded here, so a stand-in ELF runtime (tests/helpers/fake_denort.ts)
 * supplies the one Linux target that is not this machine's, whose build is
 * never run.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import denoConfig from "../deno.json" with { type: "json" };
import { hostTarget, TARGETS } from "../deploy/compile.ts";
import { noRuntimeMessage, runtimeVariable } from "../deploy/denort.ts";
import { releaseRuntimes } from "../deploy/release.ts";
import { runCommand } from "./helpers/provider_process.ts";
import { CAN_FAKE_DENORT, contains, fakeDenort, FOREIGN_LINUX_TARGET, noDownloadEnv } from "./helpers/fake_denort.ts";

const ROOT = new URL("../", import.meta.url).pathname;

const run = runCommand;

const release = (out: string, env: Record<string, string>) =>
  run(Deno.execPath(), ["task", "--quiet", "release", "--out", out], { env });

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "bus-release-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = async (folder: string) => (await Array.fromAsync(Deno.readDir(folder))).map((e) => e.name).sort();

/** The variable release names for a target without a runtime: DENORT_BIN serves this machine's target only. */
const variableOf = (target: string) => target === hostTarget() ? "DENORT_BIN" : runtimeVariable(target);

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test("releaseRuntimes() gives each target its own variable and DENORT_BIN to this machine's target only", () => {
  const env = { DENORT_BIN: "/host", DENORT_BIN_AARCH64_APPLE_DARWIN: "/mac-arm" };
  const runtimes = releaseRuntimes(env, "x86_64-unknown-linux-gnu");
  assert.deepEqual([...runtimes.keys()], [...TARGETS]);
  assert.deepEqual(Object.fromEntries(runtimes), {
    "x86_64-unknown-linux-gnu": { variable: "DENORT_BIN", path: "/host" },
    "aarch64-unknown-linux-gnu": { variable: "DENORT_BIN_AARCH64_UNKNOWN_LINUX_GNU" },
    "x86_64-apple-darwin": { variable: "DENORT_BIN_X86_64_APPLE_DARWIN" },
    "aarch64-apple-darwin": { variable: "DENORT_BIN_AARCH64_APPLE_DARWIN", path: "/mac-arm" },
  });
  assert.deepEqual(releaseRuntimes(env, null).get("x86_64-unknown-linux-gnu"), {
    variable: "DENORT_BIN_X86_64_UNKNOWN_LINUX_GNU",
  });
});

Deno.test({
  name:
    "deno task release packs the targets it has a runtime for with SHA256SUMS, and skips the others leaving nothing",
  ignore: !CAN_FAKE_DENORT,
  fn: () =>
    withTempDir(async (dir) => {
      const denort = await fakeDenort(dir, "denort", FOREIGN_LINUX_TARGET);
      const out = join(dir, "release");
      const result = await release(out, {
        ...(await noDownloadEnv(dir)),
        [runtimeVariable(FOREIGN_LINUX_TARGET)]: denort.path,
      });
      assert.equal(result.code, 0, result.stderr);

      const archive = `bus-auth-${denoConfig.version}-${FOREIGN_LINUX_TARGET}.tar.gz`;
      const skipped = TARGETS.filter((target) => target !== FOREIGN_LINUX_TARGET);
      assert.equal(
        result.stderr,
        skipped.map((target) => `${noRuntimeMessage(target, variableOf(target))}\n`).join("") +
          `release: skipped, no denort runtime: ${
            skipped.map((target) => `${target} (set ${variableOf(target)})`).join(", ")
          }\n`,
      );
      assert.match(result.stdout, new RegExp(`^Packed .*/release/${archive.replaceAll(".", "\\.")}$`, "m"));
      assert.match(result.stdout, /^Wrote .*\/release\/SHA256SUMS for 1 archive\(s\)$/m);
      // Nothing for the skipped targets: no folder, no archive.
      assert.deepEqual(await names(out), ["SHA256SUMS", FOREIGN_LINUX_TARGET, archive].sort());
      assert.equal(
        await Deno.readTextFile(join(out, "SHA256SUMS")),
        `${await sha256(join(out, archive))}  ${archive}\n`,
      );

      const unpacked = join(dir, "unpacked");
      await Deno.mkdir(unpacked);
      const tar = await run("tar", ["-xzf", join(out, archive), "-C", unpacked]);
      assert.equal(tar.code, 0, tar.stderr);
      assert.deepEqual(await names(unpacked), [
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "bus",
        "bus-api-provider-auth",
        "bus-auth",
        "bus-operator",
        "bus-operator-auth",
        "bus-operator-token",
      ]);
      for (const name of ["bus-auth", "bus-operator", "bus-api-provider-auth"]) {
        const info = await Deno.lstat(join(unpacked, name));
        assert.ok(info.isFile && (info.mode! & 0o111) === 0o111, `${name} is an executable file`);
        assert.ok(await contains(join(unpacked, name), denort.marker), `${name} is built on the target's runtime`);
      }
      for (
        const [alias, target] of [["bus", "bus-auth"], ["bus-operator-auth", "bus-operator"], [
          "bus-operator-token",
          "bus-operator",
        ]]
      ) {
        assert.equal(await Deno.readLink(join(unpacked, alias)), target, alias);
      }
      assert.equal(await Deno.readTextFile(join(unpacked, "LICENSE")), await Deno.readTextFile(join(ROOT, "LICENSE")));
    }),
});

Deno.test({
  name: "deno task release refuses named runtimes that cannot serve their targets, and an --out that is not empty",
  ignore: !CAN_FAKE_DENORT,
  fn: () =>
    withTempDir(async (dir) => {
      const elf = (await fakeDenort(dir, "denort", "aarch64-apple-darwin")).path;
      const missing = join(dir, "no-such-denort");
      const offline = await noDownloadEnv(dir);
      const out = join(dir, "release");
      await Deno.mkdir(out);
      const refused = await release(out, {
        ...offline,
        DENORT_BIN_X86_64_APPLE_DARWIN: missing,
        DENORT_BIN_AARCH64_APPLE_DARWIN: elf,
      });
      assert.equal(refused.code, 3, refused.stderr);
      assert.equal(
        refused.stderr,
        `compile: DENORT_BIN_X86_64_APPLE_DARWIN=${missing} is not an executable file: point it at an unzipped denort\n` +
          `compile: DENORT_BIN_AARCH64_APPLE_DARWIN=${elf} is an ELF aarch64 executable, not a denort for ` +
          "aarch64-apple-darwin (Mach-O aarch64)\n",
      );
      assert.equal(refused.stdout, "", "nothing was built");
      assert.deepEqual(await names(out), []);

      await Deno.writeTextFile(join(out, "keep.txt"), "mine\n");
      const notEmpty = await release(out, offline);
      assert.equal(notEmpty.code, 2);
      assert.equal(notEmpty.stderr, `release: --out ${out} is not empty: give an empty or new folder\n`);
      assert.deepEqual(await names(out), ["keep.txt"]);
      assert.equal(await Deno.readTextFile(join(out, "keep.txt")), "mine\n");
    }),
});

Deno.test("deno task release without any runtime exits 3 naming every target, and writes no folder, archive or sums", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "release");
    const result = await release(out, await noDownloadEnv(dir));
    assert.equal(result.code, 3, result.stderr);
    assert.equal(
      result.stderr,
      TARGETS.map((target) => `${noRuntimeMessage(target, variableOf(target))}\n`).join("") +
        `release: no target could be built; no denort runtime for ${
          TARGETS.map((target) => `${target} (set ${variableOf(target)})`).join(", ")
        }\n`,
    );
    assert.deepEqual(await names(out), []);
  }));
