/**
 * `bus operator auth` / `bus-operator-auth`: waitlist, approve, reject.
 *
 * @module
 */

import { normalizeEmail } from "../../lib/email.ts";
import { VERSION } from "../../version.ts";
import { EXIT, type Io, type Program } from "../program.ts";
import { resolveProviderUrls } from "../shared/base_url.ts";
import { UsageError } from "../shared/errors.ts";
import { readSecretFile, refuseRepositoryLocalBus } from "../shared/files.ts";
import { requestJson } from "../shared/http.ts";
import { choiceOption, CLIENT_OPTIONS, durationOption, parseCommandLine } from "../shared/options.ts";
import { emit, jsonText, type OutputTarget, table } from "../shared/output.ts";
import { runGuarded } from "../shared/run.ts";
import { OPERATOR_AUTH_SYNOPSIS, operatorAuthHelp } from "./help.ts";

/** `bus operator auth`. */
export const operatorAuthProgram: Program = {
  name: "bus-operator-auth",
  summary: "waitlist, approve, reject",
  run: (args, io) => runGuarded("bus-operator-auth", OPERATOR_AUTH_SYNOPSIS, io, () => runOperatorAuth(args, io)),
};

const OPTIONS = {
  ...CLIENT_OPTIONS,
  "token-file": { type: "string" },
  email: { type: "string" },
  reason: { type: "string" },
  status: { type: "string" },
} as const;

const PAGE_SIZE = 500;

interface User {
  user_id: string;
  email: string;
  verified: boolean;
  status: string;
  created_at: string;
  updated_at: string;
}

async function runOperatorAuth(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.version) {
    io.stdout(`bus-operator-auth ${VERSION}\n`);
    return EXIT.ok;
  }
  if (values.help || positionals[0] === "help") {
    io.stdout(operatorAuthHelp());
    return EXIT.ok;
  }
  const [command, extra] = positionals;
  if (command === undefined) throw new UsageError("a command is required: waitlist, approve or reject");
  if (!["waitlist", "approve", "reject"].includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (values.status !== undefined && command !== "waitlist") throw new UsageError("--status only goes with waitlist");
  if (values.reason !== undefined && command !== "reject") throw new UsageError("--reason only goes with reject");
  if (values.email !== undefined && command === "waitlist") throw new UsageError("--email does not go with waitlist");
  const apiUrl = values["api-url"] ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL");
  if (values["token-file"] === undefined) throw new UsageError("--token-file <path> with an admin token is required");
  if (values.output !== undefined) refuseRepositoryLocalBus(values.output);
  const json = choiceOption("format", values.format ?? "text", ["text", "json"]) === "json";
  const target: OutputTarget = { quiet: values.quiet === true, output: values.output };
  const authBase = resolveProviderUrls(apiUrl).authBase;
  const timeoutSeconds = durationOption("timeout", values.timeout ?? "30s");
  const bearer = readSecretFile(values["token-file"], "admin token file", io);

  if (command === "waitlist") {
    const status = choiceOption("status", values.status ?? "waitlisted", ["waitlisted", "approved", "rejected", "all"]);
    const users: User[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?status=${status}&limit=${PAGE_SIZE}${
        cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
      }`;
      const page = await requestJson({
        method: "GET",
        url: `${authBase}/admin/waitlist${query}`,
        bearer,
        timeoutSeconds,
      }) as {
        users: User[];
        next_cursor: string | null;
      };
      users.push(...page.users);
      cursor = page.next_cursor;
    } while (cursor !== null);
    emit(io, target, json ? jsonText({ users }) : waitlistText(users, status));
    return EXIT.ok;
  }

  if (values.email === undefined) throw new UsageError(`${command} needs --email <email>`);
  const email = normalizeEmail(values.email);
  const body = command === "reject" && values.reason !== undefined ? { email, reason: values.reason } : { email };
  const decided = await requestJson({
    method: "POST",
    url: `${authBase}/admin/${command}`,
    bearer,
    body,
    timeoutSeconds,
  }) as Record<string, string | null>;
  const human = command === "approve"
    ? `Approved ${decided.email}: account ${decided.account_id} (user ${decided.user_id}).\n`
    : `Rejected ${decided.email} (user ${decided.user_id})${decided.reason ? `: ${decided.reason}` : ""}.\n`;
  emit(io, target, json ? jsonText(decided) : human);
  return EXIT.ok;
}

function waitlistText(users: User[], status: string): string {
  if (users.length === 0) {
    return status === "waitlisted" ? "No pending registrations.\n" : `No registrations with status ${status}.\n`;
  }
  const rows = users.map((user) => [
    user.email,
    user.verified ? "yes" : "no",
    user.status,
    user.created_at.replace(/\.\d+Z$/, "Z"),
    user.user_id,
  ]);
  const noun = users.length === 1 ? "registration" : "registrations";
  return table(["EMAIL", "VERIFIED", "STATUS", "REGISTERED", "USER ID"], rows) + `${users.length} ${noun}.\n`;
}
