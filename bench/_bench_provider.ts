/**
 * A provider process for benchmarks: run as the tests run it (its own
 * permission set, `main.ts bus-api-provider-auth serve`), but with its log
 * written to a file, as a supervisor or a container runtime would take it,
 * so that the benchmark does not spend the shared cores reading it. Its
 * stdout, where the console sender writes OTP codes, goes to a file too:
 * {@link BenchProvider.otp} reads it while someone waits for a code, and
 * wrk's OTP script reads it on its own (`bench/_wrk.ts`).
 *
 * @module
 */

import { baseEnv, OTP_LINE, serveArgs } from "../tests/helpers/provider_process.ts";
import { freePort } from "../tests/helpers/free_port.ts";

/** A running benchmark provider. */
export interface BenchProvider {
  url: string;
  pid: number;
  /** The file the provider's stdout goes to: a line `BUS_AUTH_OTP email=… otp=…` for each code sent. */
  stdoutPath: string;
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
  const stdoutPath = `${logPath}.stdout`;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'log="$1"; out="$2"; shift 2; exec "$@" >"$out" 2>>"$log"',
      "sh",
      logPath,
      stdoutPath,
      Deno.execPath(),
      run,
      ...profile,
      ...rest,
    ],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
  }).spawn();
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
  const codes = new OtpLines(Deno.openSync(stdoutPath, { read: true }));
  return {
    url,
    pid: child.pid,
    stdoutPath,
    otp: (email, timeoutMs = 10_000) => codes.next(email, timeoutMs),
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
        codes.close();
      })();
      return stopped;
    },
  };
}

/** How often (ms) {@link OtpLines} looks for new lines while someone waits for a code. */
const OTP_POLL_MS = 2;

/**
 * The OTP codes in the provider's stdout file, read from where the last read
 * stopped: at once when a code is asked for, then every {@link OTP_POLL_MS}
 * while one is awaited. Codes nobody waits for yet are kept for whoever asks.
 */
class OtpLines {
  #file: Deno.FsFile;
  #buffer = new Uint8Array(64 * 1024);
  #decoder = new TextDecoder();
  #rest = "";
  #codes = new Map<string, string>();
  #waiting = new Map<string, (code: string) => void>();
  #polling = false;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** The code sent to `email`. @throws when none comes within `timeoutMs` */
  next(email: string, timeoutMs: number): Promise<string> {
    this.#read();
    const known = this.#codes.get(email);
    if (known !== undefined) {
      this.#codes.delete(email);
      return Promise.resolve(known);
    }
    const code = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(email);
        reject(new Error(`No OTP for ${email} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(email, (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    void this.#poll();
    return code;
  }

  close(): void {
    this.#file.close();
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      while (this.#waiting.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, OTP_POLL_MS));
        this.#read();
      }
    } finally {
      this.#polling = false;
    }
  }

  /** Takes every whole line written since the last read. */
  #read(): void {
    for (let read = this.#file.readSync(this.#buffer); read; read = this.#file.readSync(this.#buffer)) {
      const lines = (this.#rest + this.#decoder.decode(this.#buffer.subarray(0, read), { stream: true })).split("\n");
      this.#rest = lines.pop()!;
      for (const line of lines) {
        const match = OTP_LINE.exec(line);
        if (!match) continue;
        const wake = this.#waiting.get(match[1]);
        if (wake) {
          this.#waiting.delete(match[1]);
          wake(match[2]);
        } else this.#codes.set(match[1], match[2]);
      }
    }
  }
}
