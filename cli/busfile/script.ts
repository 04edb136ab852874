/**
 * A `.bus` file as a list of steps: each command is either a bus command
 * (the words after `bus`) or `run command -- PROGRAM ARGS…`. The whole file
 * is checked before anything runs.
 *
 * @module
 */

import { type BusSyntaxProblem, splitCommands } from "./words.ts";

/** One step of a `.bus` file, with the line it starts on. */
export type BusStep =
  | { kind: "bus"; line: number; words: string[] }
  | { kind: "run"; line: number; words: string[]; program: string; args: string[] };

/** The steps of a file, or the problems that keep it from running. */
export interface BusScript {
  steps: BusStep[];
  problems: BusSyntaxProblem[];
}

const RUN_FORM = "run command -- PROGRAM [ARGS...]";

/**
 * Parses the text of a `.bus` file.
 *
 * @example
 * ```ts
 * parseBusScript("# same as: bus operator deploy doctor\nrun command -- bus operator deploy doctor\n").steps;
 * // [{ kind: "run", line: 2, words: [...], program: "bus", args: ["operator", "deploy", "doctor"] }]
 * ```
 */
export function parseBusScript(text: string): BusScript {
  const { commands, problems } = splitCommands(text);
  const steps: BusStep[] = [];
  for (const { line, words } of commands) {
    if (words[0] !== "run" || words[1] !== "command") {
      steps.push({ kind: "bus", line, words });
    } else if (words[2] !== "--") {
      problems.push({ line, message: `"run command" needs "--" before the program: ${RUN_FORM}` });
    } else if (words.length === 3) {
      problems.push({ line, message: `"run command --" names no program: ${RUN_FORM}` });
    } else if (words[3] === "") {
      problems.push({ line, message: `"run command --" names an empty program: ${RUN_FORM}` });
    } else {
      steps.push({ kind: "run", line, words, program: words[3], args: words.slice(4) });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { steps, problems };
}

/**
 * The words as one would type them in a shell: plain words as they are,
 * others in single quotes.
 *
 * @example
 * ```ts
 * shellQuote(["auth", "token", "--scope", "llm:proxy usage:read"]); // "auth token --scope 'llm:proxy usage:read'"
 * ```
 */
export function shellQuote(words: readonly string[]): string {
  return words.map((word) => /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}
