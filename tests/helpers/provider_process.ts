/**
 * Runs the real programs as subprocesses for end-to-end tests: the provider
 * on a free loopback port (OTP codes read from its stdout), and one-shot CLI
 * invocations with their exit code and output.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { programPermissionFlags, programV8Flags } from "../../deploy/permissions.ts";

/** Path of `main.ts`. */
export const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));
const ROOT = fromFileUrl(new URL("../../", import.meta.url));
const CONFIG = fromFileUrl(new URL("../../deno.json", import.meta.url));

/**
 * Environment every subprocess inherits: only what Deno itself needs. The
 * Deno cache folder is pinned, so tests may change HOME and XDG variables.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (
    const name of [
      "PATH",
      "HOME",
      "DENO_DIR",
      "TMPDIR",
      "DENO_CERT",
      "DENO_TLS_CA_STORE",
      "SSL_CERT_FILE",
      "NODE_EXTRA_CA_CERTS",
    ]
  ) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`;
  env.DENO_DIR ??= `${cache}/deno`;
  return env;
}

/**
 * The flags a program runs with in the tests: its own permission set from
 * deno.json, so a permission it lacks fails the tests, except that the
 * provider may write anywhere (its test stores live in temporary folders,
 * the compiled one writes only /var/lib/bus-auth), and its V8 flags.
 */
export function testPermissions(program: string): string[] {
  return [
    "--no-prompt",
    ...programPermissionFlags(program).map((flag) => flag.startsWith("--allow-write=") ? "--allow-write" : flag),
    ...programV8Flags(program),
  ];
}

/**
 * The arguments after `deno` that run the provider as the tests do: its
 * permission set and V8 flags, this checkout's config, `serve --listen`.
 */
export function serveArgs(listen: string): string[] {
  return [
    "run",
    ...testPermissions("bus-api-provider-auth"),
    "--config",
    CONFIG,
    MAIN,
    "bus-api-provider-auth",
    "serve",
    "--listen",
    listen,
  ];
}

/** A line of the console OTP sender on stdout: the email and the code. */
export const OTP_LINE = /^BUS_AUTH_OTP email=(\S+) otp=([0-9]{6})$/;

/** A running provider process. */
export interface ProviderProcess {
  /** Base URL such as `http://127.0.0.1:43123`. */
  url: string;
  /** Every stdout line so far. */
  stdout: string[];
  /** Every stderr line so far (JSON logs). */
  stderr: string[];
  /** Waits for the next `BUS_AUTH_OTP` line for an email and returns the code. */
  waitForOtp(email: string, timeoutMs?: number): Promise<string>;
  /**
   * Waits until the JSON log lines so far satisfy `done` (the provider
   * writes its log in batches, up to 50 ms late) and returns them parsed.
   */
  waitForLog(
    done: (records: Record<string, unknown>[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>[]>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number>;
}

/** Collects the lines of a byte stream into an array as they arrive. */
function collectLines(stream: ReadableStream<Uint8Array>, lines: string[], onLine: () => void): Promise<void> {
  let rest = "";
  return stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        lines.push(...parts);
        onLine();
      },
      close() {
        if (rest !== "") lines.push(rest);
        onLine();
      },
    }),
  );
}

/**
 * Starts `main.ts bus-api-provider-auth serve` on `127.0.0.1:0` and waits
 * for its "listening" log line (at most 30 s). `launcher` runs it through
 * another program, such as `["prlimit", "--nofile=1024:1024", "--"]`.
 */
export async function startProvider(
  env: Record<string, string>,
  args: string[] = [],
  options: { cwd?: string; launcher?: string[] } = {},
): Promise<ProviderProcess> {
  const [program, ...launcherArgs] = [...options.launcher ?? [], Deno.execPath()];
  const child = new Deno.Command(program, {
    args: [...launcherArgs, ...serveArgs("127.0.0.1:0"), ...args],
    cwd: options.cwd ?? ROOT,
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((wake) => wake());
  const pumps = Promise.all([collectLines(child.stdout, stdout, notify), collectLines(child.stderr, stderr, notify)]);
  const status = child.status;
  let exited = false;
  status.then(() => {
    exited = true;
    notify();
  });

  async function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = find();
      if (found !== undefined) return found;
      if (exited) throw new Error(`Provider exited while waiting for ${what}:\n${stderr.join("\n")}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Timed out waiting for ${what}:\n${stderr.join("\n")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(remaining, 250));
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  const listening = await waitFor(
    () => {
      for (const line of stderr) {
        if (!line.startsWith("{")) continue;
        const record = JSON.parse(line);
        if (record.msg === "listening") return record.url as string;
      }
    },
    "the listening line",
    30_000,
  ).catch(async (error) => {
    if (!exited) child.kill("SIGKILL");
    await status;
    throw error;
  });

  const consumed = new Set<number>();
  return {
    url: listening,
    stdout,
    stderr,
    waitForOtp: (email, timeoutMs = 10_000) =>
      waitFor(
        () => {
          for (const [index, line] of stdout.entries()) {
            const match = OTP_LINE.exec(line);
            if (match && match[1] === email && !consumed.has(index)) {
              consumed.add(index);
              return match[2];
            }
          }
        },
        `an OTP for ${email}`,
        timeoutMs,
      ),
    waitForLog: (done, what, timeoutMs = 10_000) =>
      waitFor(
        () => {
          const records = stderr.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
          return done(records) ? records : undefined;
        },
        what,
        timeoutMs,
      ),
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => exited || child.kill("SIGKILL"), 10_000);
      const { code } = await status;
      clearTimeout(timer);
      await pumps;
      return code;
    },
  };
}

/** Output of one program run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `main.ts <program> <args>` to completion (at most 60 s), with only
 * the given environment on top of {@link baseEnv}.
 */
export async function runProgram(
  program: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...testPermissions(program), "--config", CONFIG, MAIN, program, ...args],
    cwd: options.cwd ?? ROOT,
    env: { ...baseEnv(), ...options.env },
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/**
 * Runs any command to completion (at most 300 s: builds take long) from the
 * checkout, with only the given environment on top of {@link baseEnv}.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? ROOT,
    env: { ...baseEnv(), ...options.env },
    clearEnv: true,
    stdin: "null",
    signal: AbortSignal.timeout(300_000),
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

let headCommit: string | undefined;

/**
 * What `<program> --version` prints in this checkout: the version of
 * deno.json and the commit `git rev-parse` names (or `unknown` when the
 * program may not read `.git`).
 */
export function versionOutput(program: string, options: { commitReadable?: boolean } = {}): string {
  const version = JSON.parse(Deno.readTextFileSync(CONFIG)).version;
  if (options.commitReadable === false) return `${program} ${version} (commit unknown)\n`;
  headCommit ??= new TextDecoder().decode(
    new Deno.Command("git", { args: ["rev-parse", "--short=12", "HEAD"], cwd: ROOT }).outputSync().stdout,
  ).trim();
  return `${program} ${version} (commit ${headCommit})\n`;
}
