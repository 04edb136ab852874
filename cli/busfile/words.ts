/**
 * The word splitter of `.bus` files: commands split into words the way a
 * POSIX shell splits them, with no expansion of any kind.
 *
 * - single quotes keep everything up to the next `'` literally;
 * - double quotes keep everything literally except that a backslash escapes
 *   `$`, `` ` ``, `"`, `\` and newline (a backslash-newline is removed);
 * - outside quotes a backslash keeps the next character literally, and a
 *   backslash-newline continues the command on the next line;
 * - a word that starts with `#` starts a comment to the end of the line;
 * - a newline outside quotes ends a command.
 *
 * `$VAR`, `${VAR}`, globs (`*`, `?`, `[`) and `~` stay literal. What a shell
 * would treat as an operator or a command substitution, unquoted `|`, `;`,
 * `&`, `<`, `>`, a backtick or `$(` (also inside double quotes), is refused,
 * so that a line never means something other than what a reader of a shell
 * script would take it for.
 *
 * @module
 */

/** One command: its words and the line it starts on (1-based). */
export interface BusCommand {
  line: number;
  words: string[];
}

/** A syntax problem and the line it is on (1-based). */
export interface BusSyntaxProblem {
  line: number;
  message: string;
}

/** The commands of a text, or the problems that keep it from being run. */
export interface SplitResult {
  commands: BusCommand[];
  problems: BusSyntaxProblem[];
}

const OPERATORS = new Set(["|", ";", "&", "<", ">", "`"]);
const DOUBLE_QUOTE_ESCAPES = new Set(["$", "`", '"', "\\", "\n"]);
const BLANKS = new Set([" ", "\t", "\r"]);

/**
 * Splits a `.bus` text into commands. A command with a problem is left out
 * and its first problem is reported; an unterminated quote ends the text.
 *
 * @example
 * ```ts
 * splitCommands(`auth status # who am I\nrun command -- printf '%s\\n' "a b"\n`);
 * // { commands: [{ line: 1, words: ["auth", "status"] },
 * //              { line: 2, words: ["run", "command", "--", "printf", "%s\\n", "a b"] }], problems: [] }
 * ```
 */
export function splitCommands(text: string): SplitResult {
  const commands: BusCommand[] = [];
  const problems: BusSyntaxProblem[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let start = 0;
  let bad = false;
  let line = 1;
  let i = 0;

  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0 && !bad) commands.push({ line: start, words });
    words = [];
    start = 0;
    bad = false;
  };
  const problem = (message: string, at = line) => {
    if (!bad) problems.push({ line: at, message });
    bad = true;
  };

  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      endCommand();
      line++;
      i++;
      continue;
    }
    if (BLANKS.has(c)) {
      endWord();
      i++;
      continue;
    }
    if (start === 0) start = line;
    if (c === "#" && !inWord) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) {
        problem("a backslash at the end of the file continues the line into nothing");
        i++;
      } else if (next === "\n") {
        line++;
        i += 2;
      } else {
        word += next;
        inWord = true;
        i += 2;
      }
      continue;
    }
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) {
        problem("unterminated single quote: no closing ' before the end of the file");
        break;
      }
      const quoted = text.slice(i + 1, close);
      word += quoted;
      inWord = true;
      line += quoted.split("\n").length - 1;
      i = close + 1;
      continue;
    }
    if (c === '"') {
      const opened = line;
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        const d = text[j];
        if (d === "\\" && DOUBLE_QUOTE_ESCAPES.has(text[j + 1])) {
          if (text[j + 1] === "\n") line++;
          else word += text[j + 1];
          j += 2;
          continue;
        }
        if (d === "`" || (d === "$" && text[j + 1] === "(")) {
          const what = d === "`" ? "`" : "$(";
          problem(
            `"${what}" inside double quotes: .bus lines run no command substitution; ` +
              `put it in single quotes ('${what}') if it is meant literally`,
          );
        }
        if (d === "\n") line++;
        word += d;
        j++;
      }
      if (j >= text.length) {
        problem('unterminated double quote: no closing " before the end of the file', opened);
        break;
      }
      inWord = true;
      i = j + 1;
      continue;
    }
    if (OPERATORS.has(c) || (c === "$" && text[i + 1] === "(")) {
      const what = c === "$" ? "$(" : c;
      problem(`unquoted "${what}": .bus lines are not shell; quote it ('${what}') if it is meant literally`);
    }
    word += c;
    inWord = true;
    i++;
  }
  endCommand();
  return { commands, problems };
}
