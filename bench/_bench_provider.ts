/**
 * A provider process for benchmarks: run as the tests run it (its own
 * permission set, `main.ts bus-api-provider-auth serve`), but with its log
 * written to a file, as a supervisor or a container runtime would take it,
 * so that the benchmark does not spend the shared cores reading it. OTP
 * codes of the console sender are read from stdout as they come.
 *
 * @module
 */

import { baseEnv, OTP_LINE, serveArgs } from "../tests/helpers/provider_process.ts";
import { freePort } from "../tests/helpers/free_port.ts";

/** A running benchmark provider. */
export interface BenchProvider {
  url: string;
  pid: number;
  /** The next code sent to `email`. */
  otp(email: string, timeoutMs?: number): Promise<string>;
  /** Resident and peak resident memory of the process now, in MiB (Linux). */
  memory(): { rssMiB: number; peakMiB: number };
  /** Stops it with SIGTERM (SIGKILL 10 s later); once, however often called. */
  stop(): Promise<void>;
}

/** Options of {@link startBenchProvider}. */
export interface BenchProviderOptions {
  /** Where the runtime writes the provider's CPU profile when it stops (`--cpu-prof-dir`); none when omitted. */
  cpuProfileDir?: string;
}

/** Starts the provider on a free loopback port with `env`; its log goes to `logPath`. */
export async function startBenchProvider(
  env: Record<string, string>,
  logPath: string,
  options: BenchProviderOptions = {},
): Promise<BenchProvider> {
  const port = freePort();
  const [run, ...rest] = serveArgs(`127.0.0.1:${port}`);
  const profile = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`];
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'log="$1"; shift; exec "$@" 2>>"$log"',
      "sh",
      logPath,
      Deno.execPath(),
      run,
      ...profile,
      ...rest,
    ],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
  }).spawn();
  const waiting = new Map<string, (code: string) => void>();
  const codes = new Map<string, string>();
  const pump = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const match = OTP_LINE.exec(line);
        if (!match) continue;
        const wake = waiting.get(match[1]);
        if (wake) {
          waiting.delete(match[1]);
          wake(match[2]);
        } else codes.set(match[1], match[2]);
      }
    }
  })();
  let stopped: Promise<void> | undefined;
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      const answer = await fetch(`${url}/livez`);
      await answer.body?.cancel();
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The provider did not start within 30 s; its log: ${logPath}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid,
    otp(email, timeoutMs = 10_000) {
      const known = codes.get(email);
      if (known !== undefined) {
        codes.delete(email);
        return Promise.resolve(known);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(email);
          reject(new Error(`No OTP for ${email} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(email, (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    memory() {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
      return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
    },
    stop() {
      stopped ??= (async () => {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await child.status;
        clearTimeout(timer);
        await pump.catch(() => {});
      })();
      return stopped;
    },
  };
}
