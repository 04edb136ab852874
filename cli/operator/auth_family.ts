/**
 * `bus operator auth` / `bus-operator-auth`: waitlist, approve, reject.
 *
 * @module
 */

import { normalizeEmail } from "../../lib/email.ts";
import { versionLine } from "../../lib/version.ts";
import { EXIT, type Io, type Program } from "../../lib/program.ts";
import { resolveProviderUrls } from "../shared/base_url.ts";
import { UsageError } from "../shared/errors.ts";
import { refuseRepositoryLocalBus } from "../shared/files.ts";
import { readSecretFile } from "../shared/secret_input.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { requestJson } from "../shared/http.ts";
import { choiceOption, CLIENT_OPTIONS, durationOption, parseCommandLine } from "../shared/options.ts";
import { emit, jsonText, type OutputTarget, table } from "../shared/output.ts";
import { runGuarded } from "../shared/run.ts";
import { OPERATOR_AUTH_SYNOPSIS, operatorAuthHelp } from "./help.ts";

/** `bus operator auth`. */
export const operatorAuthProgram: Program = {
  name: "bus-operator-auth",
  summary: "waitlist, approve, reject",
  run: (args, io) => runGuarded("bus-operator-auth", OPERATOR_AUTH_SYNOPSIS, io, args, () => runOperatorAuth(args, io)),
};

const OPTIONS = {
  ...CLIENT_OPTIONS,
  "token-file": { type: "string" },
  email: { type: "string" },
  reason: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
} as const;

const COMMANDS = ["waitlist", "approve", "reject"];
/** Largest page the provider serves. */
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
    io.stdout(versionLine("bus-operator-auth", io.build));
    return EXIT.ok;
  }
  if (values.help || positionals[0] === "help") {
    io.stdout(operatorAuthHelp());
    return EXIT.ok;
  }
  const [command, extra] = positionals;
  if (command === undefined) throw new UsageError("a command is required: waitlist, approve or reject");
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMANDS)}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  for (const option of ["status", "limit", "cursor"] as const) {
    if (values[option] !== undefined && command !== "waitlist") {
      throw new UsageError(`--${option} only goes with waitlist`);
    }
  }
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

  if (command === "waitlist") {
    const status = choiceOption("status", values.status ?? "waitlisted", ["waitlisted", "approved", "rejected", "all"]);
    const limit = values.limit === undefined ? undefined : pageLimit(values.limit);
    const bearer = await readSecretFile(values["token-file"], "admin token file", io);
    const fetchPage = async (cursor: string | null, size: number) =>
      await requestJson({
        method: "GET",
        url: `${authBase}/admin/waitlist?status=${status}&limit=${size}${
          cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
        }`,
        bearer,
        timeoutSeconds,
      }) as { users: User[]; next_cursor: string | null };
    let page: { users: User[]; next_cursor: string | null };
    if (limit !== undefined || values.cursor !== undefined) {
      // One page, for scripts that page themselves.
      page = await fetchPage(values.cursor ?? null, limit ?? PAGE_SIZE);
    } else {
      const users: User[] = [];
      let cursor: string | null = null;
      do {
        const next = await fetchPage(cursor, PAGE_SIZE);
        users.push(...next.users);
        cursor = next.next_cursor;
      } while (cursor !== null);
      page = { users, next_cursor: null };
    }
    emit(io, target, json ? jsonText(page) : waitlistText(page.users, status, page.next_cursor));
    return EXIT.ok;
  }

  if (values.email === undefined) throw new UsageError(`${command} needs --email <email>`);
  const email = normalizeEmail(values.email);
  const bearer = await readSecretFile(values["token-file"], "admin token file", io);
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

/** `--limit`: a page size the provider serves. @throws {UsageError} */
function pageLimit(value: string): number {
  const limit = Number(value);
  if (!/^[0-9]+$/.test(value) || limit < 1 || limit > PAGE_SIZE) {
    throw new UsageError(`--limit must be a whole number from 1 to ${PAGE_SIZE}, not "${value}"`);
  }
  return limit;
}

function waitlistText(users: User[], status: string, nextCursor: string | null): string {
  const more = nextCursor === null ? "" : `More registrations follow: add --cursor ${nextCursor}\n`;
  if (users.length === 0) {
    return (status === "waitlisted" ? "No pending registrations.\n" : `No registrations with status ${status}.\n`) +
      more;
  }
  const rows = users.map((user) => [
    user.email,
    user.verified ? "yes" : "no",
    user.status,
    user.created_at.replace(/\.\d+Z$/, "Z"),
    user.user_id,
  ]);
  const noun = users.length === 1 ? "registration" : "registrations";
  return table(["EMAIL", "VERIFIED", "STATUS", "REGISTERED", "USER ID"], rows) + `${users.length} ${noun}.\n` + more;
}
