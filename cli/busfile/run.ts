/**
 * `bus FILE.bus`: runs the steps of a `.bus` file in order, in this
 * process. A bus step goes through the bus dispatcher exactly as
 * `bus <words>` would; `run command -- PROGRAM ARGS…` runs PROGRAM directly
 * (no shell), where `bus` means this same executable. The first failing step
 * stops the run with its exit status and a message naming `FILE:LINE`.
 *
 * @module
 */

import { EXIT, type Io } from "../../lib/program.ts";
import { findOnPath } from "../external/path.ts";
import { CannotRunError, runProgramFile } from "../external/spawn.ts";
import { type BusStep, parseBusScript, shellQuote } from "./script.ts";

/** How many `.bus` files may run inside one another, across processes too. */
export const MAX_BUSFILE_DEPTH = 8;
/** The variable that carries the nesting depth to nested runs and child processes. */
export const DEPTH_VARIABLE = "BUS_FILE_DEPTH";

/** Runs `bus <args>` (the bus dispatcher). */
export type BusDispatch = (args: string[], io: Io) => Promise<number>;

/** A failure that belongs to one line, printed as `bus: FILE:LINE: message`. */
class LineError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Runs the `.bus` file at `path` and returns the exit status of the run:
 * 0, the status of the first failing step, or 2 when the file cannot be read
 * or parsed (nothing runs then).
 */
export async function runBusFile(path: string, io: Io, dispatch: BusDispatch): Promise<number> {
  const depth = Number.parseInt(io.env[DEPTH_VARIABLE] ?? "0", 10) || 0;
  if (depth >= MAX_BUSFILE_DEPTH) {
    io.stderr(
      `bus: ${path}: .bus files nested more than ${MAX_BUSFILE_DEPTH} deep; does a file run itself?\n`,
    );
    return EXIT.usage;
  }
  const text = await readBusFile(path, io);
  if (text === null) return EXIT.usage;
  const { steps, problems } = parseBusScript(text);
  if (problems.length > 0) {
    for (const { line, message } of problems) io.stderr(`bus: ${path}:${line}: ${message}\n`);
    return EXIT.usage;
  }
  const nested: Io = { ...io, env: { ...io.env, [DEPTH_VARIABLE]: String(depth + 1) } };
  for (const step of steps) {
    let code: number;
    try {
      code = await runStep(step, nested, dispatch);
    } catch (error) {
      if (error instanceof LineError) {
        io.stderr(`bus: ${path}:${step.line}: ${error.message}\n`);
        return error.exitCode;
      }
      const message = error instanceof Error ? error.message : String(error);
      io.stderr(`bus: ${path}:${step.line}: "${shellQuote(step.words)}" failed: ${message}\n`);
      return EXIT.failure;
    }
    if (code !== 0) {
      io.stderr(`bus: ${path}:${step.line}: "${shellQuote(step.words)}" failed with exit status ${code}\n`);
      return code;
    }
  }
  return EXIT.ok;
}

async function runStep(step: BusStep, io: Io, dispatch: BusDispatch): Promise<number> {
  if (step.kind === "bus") return await dispatch(step.words, io);
  if (step.program === "bus") return await dispatch(step.args, io);
  let file = step.program;
  if (!/[\\/]/.test(step.program)) {
    const found = await findOnPath(step.program, io.env);
    if (found === undefined) throw new LineError(`no ${step.program} on PATH`, EXIT.usage);
    file = found;
  }
  try {
    return await runProgramFile(file, step.args, io.env);
  } catch (error) {
    if (error instanceof CannotRunError) throw new LineError(error.message, error.exitCode);
    throw error;
  }
}

/** The text of the file, or `null` after saying on stderr why it cannot be read. */
async function readBusFile(path: string, io: Io): Promise<string | null> {
  let why: string;
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) {
      why = "it is a directory";
    } else {
      return new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) why = "no such file";
    else if (error instanceof Deno.errors.PermissionDenied) why = "permission denied";
    else if (error instanceof TypeError) why = "it is not UTF-8 text";
    else why = error instanceof Error ? error.message : String(error);
  }
  io.stderr(`bus: cannot read "${path}": ${why}\n`);
  return null;
}
