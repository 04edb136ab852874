/**
 * `bus operator auth waitlist`, `approve` and `reject`.
 *
 * @module
 */

import { normalizeEmail } from "../../../lib/email.ts";
import { EXIT } from "../../../lib/program.ts";
import { UsageError } from "../../shared/errors.ts";
import { requestJson } from "../../shared/http.ts";
import { choiceOption } from "../../shared/options.ts";
import { emit, jsonText, table } from "../../shared/output.ts";
import { type OperatorAuthCommand, type OperatorAuthRun, stringValue } from "./command.ts";

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

/** `waitlist [--status S] [--limit N] [--cursor C]`. */
export const waitlistCommand: OperatorAuthCommand = {
  summary: "print pending registrations as a table (every page, or one page with --limit/--cursor)",
  options: { status: { type: "string" }, limit: { type: "string" }, cursor: { type: "string" } },
  run: async (run) => {
    const { io, authBase, timeoutSeconds } = run;
    const status = choiceOption("status", stringValue(run.values, "status") ?? "waitlisted", [
      "waitlisted",
      "approved",
      "rejected",
      "all",
    ]);
    const limitText = stringValue(run.values, "limit");
    const cursorText = stringValue(run.values, "cursor");
    const limit = limitText === undefined ? undefined : pageLimit(limitText);
    const bearer = await run.adminToken();
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
    if (limit !== undefined || cursorText !== undefined) {
      // One page, for scripts that page themselves.
      page = await fetchPage(cursorText ?? null, limit ?? PAGE_SIZE);
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
    emit(io, run.target, run.json ? jsonText(page) : waitlistText(page.users, status, page.next_cursor));
    return EXIT.ok;
  },
};

/** `approve --email E [--scopes S]`: with `--scopes`, the account's scope policy is set in the same step. */
export const approveCommand: OperatorAuthCommand = {
  summary: "approve a verified registration and print the account id (--scopes also sets its scope policy)",
  options: { email: { type: "string" }, scopes: { type: "string" } },
  run: async (run) => {
    const email = requiredEmail(run, "approve");
    const scopes = stringValue(run.values, "scopes");
    const decided = await decide(run, "approve", scopes === undefined ? { email } : { email, scopes });
    const listed = scopes?.trim().split(/\s+/).join(" ");
    const policy = listed === undefined ? "" : `Scope policy: ${listed === "" ? "none (no scope at all)" : listed}.\n`;
    emit(
      run.io,
      run.target,
      run.json
        ? jsonText(decided)
        : `Approved ${decided.email}: account ${decided.account_id} (user ${decided.user_id}).\n${policy}`,
    );
    return EXIT.ok;
  },
};

/** `reject --email E [--reason R]`. */
export const rejectCommand: OperatorAuthCommand = {
  summary: "reject a registration: its API tokens stop working and new ones are refused; the user can still sign in",
  options: { email: { type: "string" }, reason: { type: "string" } },
  run: async (run) => {
    const email = requiredEmail(run, "reject");
    const reason = stringValue(run.values, "reason");
    const decided = await decide(run, "reject", reason === undefined ? { email } : { email, reason });
    emit(
      run.io,
      run.target,
      run.json
        ? jsonText(decided)
        : `Rejected ${decided.email} (user ${decided.user_id})${decided.reason ? `: ${decided.reason}` : ""}.\n`,
    );
    return EXIT.ok;
  },
};

/** The normalised `--email` of a command that needs one. @throws {UsageError} */
export function requiredEmail(run: OperatorAuthRun, command: string): string {
  const email = stringValue(run.values, "email");
  if (email === undefined) throw new UsageError(`${command} needs --email <email>`);
  return normalizeEmail(email);
}

async function decide(
  run: OperatorAuthRun,
  command: "approve" | "reject",
  body: Record<string, unknown>,
): Promise<Record<string, string | null>> {
  return await requestJson({
    method: "POST",
    url: `${run.authBase}/admin/${command}`,
    bearer: await run.adminToken(),
    body,
    timeoutSeconds: run.timeoutSeconds,
  }) as Record<string, string | null>;
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
