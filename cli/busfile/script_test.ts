import assert from "node:assert/strict";
import { parseBusScript, shellQuote } from "./script.ts";

Deno.test("parseBusScript() reads the spec's .bus examples as one bus step and one run step", () => {
  const { steps, problems } = parseBusScript(
    "# same as: bus api provider auth --help\napi provider auth --help\n" +
      "# same as: bus operator deploy doctor\nrun command -- bus operator deploy doctor\n",
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(steps, [
    { kind: "bus", line: 2, words: ["api", "provider", "auth", "--help"] },
    {
      kind: "run",
      line: 4,
      words: ["run", "command", "--", "bus", "operator", "deploy", "doctor"],
      program: "bus",
      args: ["operator", "deploy", "doctor"],
    },
  ]);
});

Deno.test("parseBusScript() refuses run command without -- or without a program, naming each line", () => {
  const { steps, problems } = parseBusScript(
    "auth status\nrun command printf x\nrun command --\nrun command -- ''\nrun command\nrun command -- true\n",
  );
  assert.deepEqual(problems.map((problem) => problem.line), [2, 3, 4, 5]);
  assert.match(problems[0].message, /^"run command" needs "--" before the program: run command -- PROGRAM/);
  assert.match(problems[1].message, /^"run command --" names no program/);
  assert.match(problems[2].message, /^"run command --" names an empty program/);
  assert.match(problems[3].message, /^"run command" needs "--"/);
  assert.deepEqual(steps.map((step) => step.line), [1, 6]);
});

Deno.test("parseBusScript() reports syntax and run-command problems together, in line order", () => {
  const { problems } = parseBusScript("run command\nauth status | cat\nrun command --\n");
  assert.deepEqual(problems.map((problem) => problem.line), [1, 2, 3]);
});

Deno.test("parseBusScript() leaves words other than 'run command' to the bus dispatcher", () => {
  const { steps } = parseBusScript("run\nrun commands -- x\n");
  assert.deepEqual(steps.map((step) => step.kind), ["bus", "bus"]);
});

Deno.test("shellQuote() quotes only the words that need it", () => {
  assert.equal(
    shellQuote(["operator", "auth", "approve", "--email", "x@example.com"]),
    "operator auth approve --email x@example.com",
  );
  assert.equal(shellQuote(["printf", "%s\n", "a b", "it's", ""]), `printf '%s\n' 'a b' 'it'\\''s' ''`);
});
