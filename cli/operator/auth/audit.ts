/**
 * `bus operator auth audit [--since S] [--actor A] [--target T] [--action X]`:
 * the provider's audit trail, every page, oldest first, as a table or (with
 * `--format json`) as JSON lines, one record per line.
 *
 * @module
 */

import { EXIT } from "../../../lib/program.ts";
import { parseSince } from "../../../lib/since.ts";
import { UsageError } from "../../shared/errors.ts";
import { requestJson } from "../../shared/http.ts";
import { emit, table } from "../../shared/output.ts";
import { type OperatorAuthCommand, type OperatorAuthRun, stringValue } from "./command.ts";

/** Largest page the provider serves. */
const PAGE_SIZE = 500;
/** What the provider accepts as a filter value. */
const FILTER = /^[\x21-\x7e]{1,256}$/;
const FILTERS = ["actor", "target", "action"] as const;

/** One record as the provider answers it. */
interface AuditRecordJson {
  audit_id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
  request_id: string | null;
  source_ip: string | null;
  outcome: string;
}

/** `audit [--since S] [--actor A] [--target T] [--action X]`. */
export const auditCommand: OperatorAuthCommand = {
  summary: "print the audit trail (every page, oldest first) as a table, or JSON lines with --format json",
  options: {
    since: { type: "string" },
    actor: { type: "string" },
    target: { type: "string" },
    action: { type: "string" },
  },
  run: async (run) => {
    const query = auditQuery(run);
    const bearer = await run.adminToken();
    // JSON lines to stdout go out page by page, so a long trail streams into a pipe.
    const stream = run.json && run.target.output === undefined;
    const records: AuditRecordJson[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams(query);
      // The cursor lies inside the window already: a duration is read once, on the first page.
      if (cursor !== null) params.delete("since");
      params.set("limit", String(PAGE_SIZE));
      if (cursor !== null) params.set("cursor", cursor);
      const page = await requestJson({
        method: "GET",
        url: `${run.authBase}/admin/audit?${params}`,
        bearer,
        timeoutSeconds: run.timeoutSeconds,
      }) as { records: AuditRecordJson[]; next_cursor: string | null };
      if (stream) emit(run.io, run.target, jsonLines(page.records));
      else records.push(...page.records);
      cursor = page.next_cursor;
    } while (cursor !== null);
    if (!stream) emit(run.io, run.target, run.json ? jsonLines(records) : auditText(records, query));
    return EXIT.ok;
  },
};

/** The filters of the command line, checked as the provider would. @throws {UsageError} */
function auditQuery(run: OperatorAuthRun): Record<string, string> {
  const query: Record<string, string> = {};
  const since = stringValue(run.values, "since");
  if (since !== undefined) {
    try {
      parseSince(since, Date.now());
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
    query.since = since;
  }
  for (const name of FILTERS) {
    const value = stringValue(run.values, name);
    if (value === undefined) continue;
    if (!FILTER.test(value)) {
      throw new UsageError(`--${name} must be 1 to 256 printable characters without spaces, not "${value}"`);
    }
    query[name] = value;
  }
  return query;
}

function jsonLines(records: readonly AuditRecordJson[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join("");
}

function auditText(records: readonly AuditRecordJson[], query: Record<string, string>): string {
  if (records.length === 0) {
    return Object.keys(query).length === 0 ? "No audit records.\n" : "No audit records match.\n";
  }
  const cell = (value: string | null) => value === null ? "-" : printable(value);
  const rows = records.map((record) => [
    record.at.replace(/\.\d+Z$/, "Z"),
    cell(record.actor),
    cell(record.action),
    cell(record.target),
    cell(record.outcome),
    cell(record.source_ip),
    cell(record.detail),
  ]);
  const noun = records.length === 1 ? "record" : "records";
  return table(["TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "SOURCE", "DETAIL"], rows) +
    `${records.length} ${noun}.\n`;
}

/** A value with control characters shown as `?`, so that no record can move the terminal's cursor. */
function printable(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
