import assert from "node:assert/strict";
import { splitCommands } from "./words.ts";

function words(text: string): string[][] {
  const { commands, problems } = splitCommands(text);
  assert.deepEqual(problems, []);
  return commands.map((command) => command.words);
}

Deno.test("splitCommands() splits on blanks and ends a command at each newline", () => {
  assert.deepEqual(words("auth status\n  operator\t token  --help \n"), [["auth", "status"], [
    "operator",
    "token",
    "--help",
  ]]);
  assert.deepEqual(words("auth status"), [["auth", "status"]], "no final newline");
  assert.deepEqual(words("auth status\r\nauth me\r\n"), [["auth", "status"], ["auth", "me"]], "CRLF lines");
});

Deno.test("splitCommands() skips blank lines and comments, and numbers each command by its first line", () => {
  const { commands } = splitCommands(
    "#!/usr/bin/env bus\n\n# same as: bus auth status\nauth status # trailing\n\n  # x\nauth me\n",
  );
  assert.deepEqual(commands, [{ line: 4, words: ["auth", "status"] }, { line: 7, words: ["auth", "me"] }]);
  assert.deepEqual(words("# only a comment\n\n"), []);
  assert.deepEqual(words(""), []);
});

Deno.test("splitCommands() treats # inside a word or in quotes as a literal", () => {
  assert.deepEqual(words("a#b '#c' \"#d\" \\#e"), [["a#b", "#c", "#d", "#e"]]);
});

Deno.test("splitCommands() keeps single-quoted text literally, backslashes and newlines included", () => {
  assert.deepEqual(words(`printf '%s\\n' 'a  b' 'it'\\''s' ''`), [["printf", "%s\\n", "a  b", "it's", ""]]);
  const { commands } = splitCommands("x 'one\ntwo'\ny\n");
  assert.deepEqual(commands, [{ line: 1, words: ["x", "one\ntwo"] }, { line: 3, words: ["y"] }]);
});

Deno.test('splitCommands() escapes only $ ` " \\ and newline inside double quotes', () => {
  assert.deepEqual(words(`"a \\$b \\\` \\" \\\\ \\n \\x"`), [['a $b ` " \\ \\n \\x']]);
  assert.deepEqual(words(`"a\\\nb" c`), [["ab", "c"]], "backslash-newline is removed inside double quotes");
  assert.deepEqual(words(`x"y"'z'w`), [["xyzw"]], "adjacent quoted parts join into one word");
});

Deno.test("splitCommands() lets a backslash outside quotes keep the next character and continue the line", () => {
  assert.deepEqual(words("a\\ b \\'c\\\" \\\\"), [["a b", "'c\"", "\\"]]);
  const { commands } = splitCommands("operator auth \\\n  approve --email x@example.com\nauth me\n");
  assert.deepEqual(commands, [
    { line: 1, words: ["operator", "auth", "approve", "--email", "x@example.com"] },
    { line: 3, words: ["auth", "me"] },
  ]);
  assert.deepEqual(words("ab\\\ncd"), [["abcd"]], "backslash-newline inside a word joins it");
});

Deno.test("splitCommands() expands nothing: variables, globs and ~ stay literal", () => {
  assert.deepEqual(words(`run command -- printf '%s\\n' '$HOME' "*" $HOME \${X} ~ ~/x *.ts ? [ab] "$PATH"`), [[
    "run",
    "command",
    "--",
    "printf",
    "%s\\n",
    "$HOME",
    "*",
    "$HOME",
    "${X}",
    "~",
    "~/x",
    "*.ts",
    "?",
    "[ab]",
    "$PATH",
  ]]);
});

Deno.test("splitCommands() refuses unquoted shell operators and command substitution, naming the line", () => {
  for (const operator of ["|", ";", "&", "<", ">", "`", "$("]) {
    const { commands, problems } = splitCommands(`auth status\nrun command -- echo a ${operator} b\nauth me\n`);
    assert.equal(problems.length, 1, operator);
    assert.equal(problems[0].line, 2);
    assert.match(problems[0].message, /\.bus lines are not shell; quote it/);
    assert.ok(problems[0].message.includes(`"${operator}"`), problems[0].message);
    assert.deepEqual(commands.map((command) => command.line), [1, 3], "the other commands are still split");
  }
  assert.deepEqual(splitCommands("a && b || c >> d\n").problems.length, 1, "one problem per command");
});

Deno.test("splitCommands() refuses command substitution inside double quotes", () => {
  for (const text of ['x "$(date)"', 'x "`date`"']) {
    const { problems } = splitCommands(text);
    assert.equal(problems.length, 1, text);
    assert.match(problems[0].message, /inside double quotes: \.bus lines run no command substitution/);
  }
});

Deno.test("splitCommands() accepts operator characters that are quoted or escaped", () => {
  assert.deepEqual(words(`x '|' "; & < >" \\| \\$( '$(' "\\$(" '\`'`), [[
    "x",
    "|",
    "; & < >",
    "|",
    "$(",
    "$(",
    "$(",
    "`",
  ]]);
  assert.deepEqual(words("x $ a$ ${y}"), [["x", "$", "a$", "${y}"]], "a $ not followed by ( is literal");
});

Deno.test("splitCommands() reports an unterminated quote at the line it opens", () => {
  const single = splitCommands("auth status\nrun command -- echo 'oops\nauth me\n");
  assert.deepEqual(single.problems, [{
    line: 2,
    message: "unterminated single quote: no closing ' before the end of the file",
  }]);
  assert.deepEqual(single.commands.map((command) => command.line), [1]);
  const double = splitCommands('auth status\n\nx "oops\nmore\n');
  assert.deepEqual(double.problems, [{
    line: 3,
    message: 'unterminated double quote: no closing " before the end of the file',
  }]);
});

Deno.test("splitCommands() refuses a backslash that continues the last line into nothing", () => {
  const { commands, problems } = splitCommands("auth status\nauth me \\");
  assert.deepEqual(commands.map((command) => command.line), [1]);
  assert.equal(problems[0].line, 2);
  assert.match(problems[0].message, /backslash at the end of the file/);
});

// The splitter must agree with a real POSIX shell wherever the shell would
// not expand anything.
Deno.test({
  name: "splitCommands() splits words exactly as /bin/sh does",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const samples = [
      `a b\tc`,
      `'a  b' "c  d" e\\ f`,
      `x"y"'z'w`,
      `'it'\\''s' "\\"q\\"" "\\\\" "\\x" \\\\`,
      `"a\\\nb" c\\\nd`,
      `'one\ntwo' "three\nfour"`,
      `a#b '#c' x # comment`,
      `'' "" x`,
      `'$HOME' "\\$HOME" \\$HOME '*' "*" \\*`,
    ];
    for (const sample of samples) {
      const script = `for word in ${sample}\ndo printf '%s\\0' "$word"; done`;
      const output = await new Deno.Command("/bin/sh", { args: ["-c", script] }).output();
      const shell = new TextDecoder().decode(output.stdout).split("\0").slice(0, -1);
      assert.deepEqual(words(sample), [shell], sample);
    }
  },
});
