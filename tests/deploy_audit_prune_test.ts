/**
 * The systemd timer and service that prune the audit trail: they pass
 * `systemd-analyze verify` without a warning, the service is hardened like
 * the provider's unit, reads the same environment and credentials, runs as
 * the provider's dynamic user, and runs `audit prune` once a day.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { missingTool, ROOT } from "./helpers/deploy_files.ts";

const DIR = join(ROOT, "deploy/systemd");
const SERVICE = "bus-api-provider-auth-audit-prune.service";
const TIMER = "bus-api-provider-auth-audit-prune.timer";
const noSystemd = await missingTool("systemd-analyze", ["--version"], "systemd");

/** `Key=value` lines of one section, in order. */
function section(text: string, name: string): [string, string][] {
  const body = text.split(new RegExp(`^\\[${name}\\]$`, "m"))[1].split(/^\[/m)[0];
  return body.split("\n").filter((line) => /^[A-Za-z]+=/.test(line)).map((line) => {
    const at = line.indexOf("=");
    return [line.slice(0, at), line.slice(at + 1)];
  });
}

async function analyze(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("systemd-analyze", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test({
  name: "systemd: the audit prune timer and service pass systemd-analyze verify, exposure 2.0 or below",
  ignore: noSystemd !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-systemd-prune-" });
    try {
      const stub = join(dir, "bus-api-provider-auth");
      await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      for (const name of [SERVICE, TIMER]) {
        const text = await Deno.readTextFile(join(DIR, name));
        await Deno.writeTextFile(join(dir, name), text.replaceAll("/usr/local/bin/bus-api-provider-auth", stub));
      }
      const verified = await analyze(["verify", join(dir, SERVICE), join(dir, TIMER)], dir);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal(verified.stderr, "", "verify warns about nothing");
      const security = await analyze(["security", "--offline=true", "--threshold=20", "--no-pager", SERVICE], dir);
      assert.equal(security.code, 0, security.stderr);
      const level = /Overall exposure level for .*: ([0-9.]+)/.exec(security.stdout);
      assert.ok(level !== null && Number(level[1]) <= 2.0, security.stdout);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("systemd: the prune service runs audit prune with the provider unit's user, environment, credentials and hardening", async () => {
  const prune = section(await Deno.readTextFile(join(DIR, SERVICE)), "Service");
  const provider = section(await Deno.readTextFile(join(DIR, "bus-api-provider-auth.service")), "Service");
  const values = (settings: [string, string][], key: string) =>
    settings.filter(([name]) => name === key).map(([, text]) => text);
  assert.deepEqual(values(prune, "Type"), ["oneshot"]);
  assert.deepEqual(values(prune, "ExecStart"), ["/usr/local/bin/bus-api-provider-auth audit prune"]);
  assert.deepEqual(values(prune, "User"), ["bus-api-provider-auth"], "the dynamic user the provider unit gets");
  assert.deepEqual(values(prune, "Restart"), []);
  const own = new Set(["Type", "ExecStart", "ExecStartPre", "User", "Restart", "RestartSec", "TimeoutStopSec"]);
  const shared = (settings: [string, string][]) => settings.filter(([name]) => !own.has(name)).sort();
  assert.deepEqual(shared(prune), shared(provider), "everything else as the provider unit has it");

  const timer = section(await Deno.readTextFile(join(DIR, TIMER)), "Timer");
  assert.deepEqual(timer, [["OnCalendar", "daily"], ["RandomizedDelaySec", "1h"], ["Persistent", "true"]]);
});
