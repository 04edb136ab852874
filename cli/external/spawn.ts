/**
 * Running another program as a git subcommand runs: directly (no shell),
 * with this process's stdin, stdout and stderr, the given environment, and
 * its exit status passed back.
 *
 * @module
 */

import { EXIT, type Io } from "../../lib/program.ts";

/** The program could not be started at all (missing, not executable, not allowed). */
export class CannotRunError extends Error {
  /** 1 when this program lacks Deno's --allow-run (a failure, as every missing permission), else 2. */
  readonly exitCode: number;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CannotRunError";
    this.exitCode = options?.cause instanceof Deno.errors.NotCapable ? EXIT.failure : EXIT.usage;
  }
}

/** Signals a terminal sends to the whole foreground group: the child gets them itself, so we only wait. */
const SHARED_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGQUIT"];
/** Signals sent to this process alone: passed on, so the child can end cleanly and we report its status. */
const FORWARDED_SIGNALS: Deno.Signal[] = ["SIGTERM", "SIGHUP"];

/**
 * Runs `path` with `args` and returns its exit status; a child killed by a
 * signal gives 128 + the signal number, as in a shell.
 *
 * @throws {CannotRunError} when the program cannot be started
 */
export async function runProgramFile(
  path: string,
  args: string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  // Listen before spawning: a signal that arrives between the spawn and the
  // listeners would otherwise end this process and leave the child running.
  let child: Deno.ChildProcess | undefined;
  const pending: Deno.Signal[] = [];
  const listeners: [Deno.Signal, () => void][] = Deno.build.os === "windows" ? [] : [
    ...SHARED_SIGNALS.map((signal): [Deno.Signal, () => void] => [signal, () => {}]),
    ...FORWARDED_SIGNALS.map((signal): [Deno.Signal, () => void] => [
      signal,
      () => child === undefined ? pending.push(signal) : forward(child, signal),
    ]),
  ];
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  try {
    try {
      child = new Deno.Command(path, {
        args,
        env: childEnv,
        clearEnv: true,
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      throw new CannotRunError(`Cannot run "${path}": ${reason(error)}`, { cause: error });
    }
    for (const signal of pending.splice(0)) forward(child, signal);
    return (await child.status).code;
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  }
}

function forward(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // The child has already exited.
  }
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied (is it executable?)";
  if (error instanceof Deno.errors.NotCapable) {
    return "this program lacks Deno's --allow-run permission (reinstall it with deno task install)";
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a module found on PATH for the dispatcher `program` (`bus`,
 * `bus-operator`) and returns its exit status; when it cannot be started,
 * says why as `<program>: <reason>` and returns 2 (1 for a missing Deno permission).
 */
export async function runModule(
  program: string,
  path: string,
  args: string[],
  io: Io,
): Promise<number> {
  try {
    return await runProgramFile(path, args, io.env);
  } catch (error) {
    if (!(error instanceof CannotRunError)) throw error;
    io.stderr(`${program}: ${error.message}\n`);
    return error.exitCode;
  }
}
