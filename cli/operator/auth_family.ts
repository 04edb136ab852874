/**
 * `bus operator auth` / `bus-operator-auth`: the operator's commands against
 * the provider's admin endpoints. Each command lives in `auth/` and is
 * listed in {@link OPERATOR_AUTH_COMMANDS}; this module parses the command
 * line once, refuses options that do not belong to the command, and runs it.
 *
 * @module
 */

import { versionLine } from "../../lib/version.ts";
import { EXIT, type Io, type Program } from "../../lib/program.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { resolveProviderUrls } from "../shared/base_url.ts";
import { UsageError } from "../shared/errors.ts";
import { refuseRepositoryLocalBus } from "../shared/files.ts";
import { choiceOption, CLIENT_OPTIONS, durationOption, type OptionSpec, parseCommandLine } from "../shared/options.ts";
import type { OutputTarget } from "../shared/output.ts";
import { runGuarded } from "../shared/run.ts";
import { readSecretFile } from "../shared/secret_input.ts";
import { auditCommand } from "./auth/audit.ts";
import { clientCommand } from "./auth/client.ts";
import type { OperatorAuthCommand, OperatorAuthRun } from "./auth/command.ts";
import { approveCommand, rejectCommand, waitlistCommand } from "./auth/decisions.ts";
import { policyCommand } from "./auth/policy.ts";
import { OPERATOR_AUTH_SYNOPSIS, operatorAuthHelp } from "./help.ts";

/** Every command of the family, in help order. */
export const OPERATOR_AUTH_COMMANDS: Readonly<Record<string, OperatorAuthCommand>> = {
  waitlist: waitlistCommand,
  approve: approveCommand,
  reject: rejectCommand,
  policy: policyCommand,
  client: clientCommand,
  audit: auditCommand,
};

/** `bus operator auth`. */
export const operatorAuthProgram: Program = {
  name: "bus-operator-auth",
  summary: "waitlist, approve, reject, policy, client, audit",
  run: (args, io) => runGuarded("bus-operator-auth", OPERATOR_AUTH_SYNOPSIS, io, args, () => runOperatorAuth(args, io)),
};

/** Options every command takes. */
const COMMON_OPTIONS = { ...CLIENT_OPTIONS, "token-file": { type: "string" } } as const;

/** The common options and those of every command (options of two commands must agree on their type). */
function allOptions(): OptionSpec {
  const options: OptionSpec = { ...COMMON_OPTIONS };
  for (const command of Object.values(OPERATOR_AUTH_COMMANDS)) Object.assign(options, command.options);
  return options;
}

async function runOperatorAuth(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, allOptions());
  if (values.version) {
    io.stdout(versionLine("bus-operator-auth", io.build));
    return EXIT.ok;
  }
  if (values.help || positionals[0] === "help") {
    io.stdout(operatorAuthHelp());
    return EXIT.ok;
  }
  const names = Object.keys(OPERATOR_AUTH_COMMANDS);
  const [name, ...words] = positionals;
  if (name === undefined) throw new UsageError(`a command is required: ${names.join(", ")}`);
  if (!Object.hasOwn(OPERATOR_AUTH_COMMANDS, name)) {
    throw new UsageError(`unknown command "${name}"${didYouMean(name, names)}`);
  }
  const command = OPERATOR_AUTH_COMMANDS[name];
  if (words.length > (command.maxWords ?? 0)) {
    throw new UsageError(`unexpected argument "${words[command.maxWords ?? 0]}"`);
  }
  for (const [option, value] of Object.entries(values)) {
    if (value === undefined || option in COMMON_OPTIONS || option in command.options) continue;
    const owners = names.filter((other) => option in OPERATOR_AUTH_COMMANDS[other].options);
    throw new UsageError(
      `--${option} does not go with ${name}${owners.length ? ` (it goes with ${owners.join(", ")})` : ""}`,
    );
  }
  const apiUrl = (values["api-url"] as string | undefined) ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL");
  const tokenFile = values["token-file"] as string | undefined;
  if (tokenFile === undefined) throw new UsageError("--token-file <path> with an admin token is required");
  const output = values.output as string | undefined;
  if (output !== undefined) refuseRepositoryLocalBus(output);
  const target: OutputTarget = { quiet: values.quiet === true, output };
  let token: Promise<string> | undefined;
  const run: OperatorAuthRun = {
    io,
    authBase: resolveProviderUrls(apiUrl).authBase,
    timeoutSeconds: durationOption("timeout", (values.timeout as string | undefined) ?? "30s"),
    json: choiceOption("format", (values.format as string | undefined) ?? "text", ["text", "json"]) === "json",
    target,
    values: values as OperatorAuthRun["values"],
    words,
    adminToken: () => token ??= readSecretFile(tokenFile, "admin token file", io),
  };
  return await command.run(run);
}
