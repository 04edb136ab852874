/**
 * `bus operator auth policy show|set`: read an account's scope policy, narrow
 * it to a subset of the provider's user scopes, or restore the default.
 *
 * @module
 */

import { EXIT } from "../../../lib/program.ts";
import { didYouMean } from "../../../lib/suggest.ts";
import { UsageError } from "../../shared/errors.ts";
import { requestJson } from "../../shared/http.ts";
import { emit, fields, jsonText } from "../../shared/output.ts";
import { type OperatorAuthCommand, type OperatorAuthRun, stringValue } from "./command.ts";
import { requiredEmail } from "./decisions.ts";

/** The provider's answer (`GET`/`PUT {A}/admin/accounts/…/policy`). */
interface AccountPolicy {
  account_id: string;
  user_id: string;
  email: string;
  status: string;
  scopes: string | null;
  default: boolean;
  effective_scopes: string;
}

const ACTIONS = ["show", "set"] as const;

/** `policy show (--email E | --account-id ID)`, `policy set (--email E | --account-id ID) (--scopes S | --default)`. */
export const policyCommand: OperatorAuthCommand = {
  summary: "show an account's scope policy, or set it to a subset of the provider's user scopes (or the default)",
  options: {
    email: { type: "string" },
    "account-id": { type: "string" },
    scopes: { type: "string" },
    default: { type: "boolean" },
  },
  maxWords: 1,
  run: async (run) => {
    const action = run.words[0];
    if (action === undefined) throw new UsageError("policy needs show or set");
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown policy command "${action}"${didYouMean(action, ACTIONS)}`);
    }
    const scopes = stringValue(run.values, "scopes");
    const restore = run.values.default === true;
    if (action === "show" && (scopes !== undefined || restore)) {
      throw new UsageError(`${scopes !== undefined ? "--scopes" : "--default"} goes with policy set, not show`);
    }
    if (action === "set" && (scopes === undefined) === !restore) {
      throw new UsageError('policy set needs either --scopes "<scopes>" or --default');
    }
    const url = policyUrl(run, action);
    const answer = await requestJson({
      method: action === "show" ? "GET" : "PUT",
      url,
      bearer: await run.adminToken(),
      body: action === "show" ? undefined : { scopes: restore ? null : scopes },
      timeoutSeconds: run.timeoutSeconds,
    }) as AccountPolicy;
    emit(run.io, run.target, run.json ? jsonText(answer) : policyText(answer, action));
    return EXIT.ok;
  },
};

/** The policy URL of `--email` or `--account-id` (exactly one). @throws {UsageError} */
function policyUrl(run: OperatorAuthRun, action: string): string {
  const accountId = stringValue(run.values, "account-id");
  const hasEmail = stringValue(run.values, "email") !== undefined;
  if (accountId !== undefined && hasEmail) throw new UsageError("give --email or --account-id, not both");
  if (accountId !== undefined) {
    if (accountId === "") throw new UsageError("--account-id needs a value");
    return `${run.authBase}/admin/accounts/${encodeURIComponent(accountId)}/policy`;
  }
  if (!hasEmail) throw new UsageError(`policy ${action} needs --email <email> or --account-id <id>`);
  return `${run.authBase}/admin/accounts/policy?email=${encodeURIComponent(requiredEmail(run, `policy ${action}`))}`;
}

/** How a policy reads: its scopes, the default, or none at all. */
function policyWords(scopes: string | null): string {
  if (scopes === null) return "default (every scope of BUS_AUTH_API_USER_SCOPES)";
  return scopes === "" ? "none (no scope at all)" : scopes;
}

function policyText(answer: AccountPolicy, action: string): string {
  const heading = action === "show"
    ? ""
    : answer.default
    ? `Restored the default scope policy of ${answer.email}.\n`
    : `Set the scope policy of ${answer.email}.\n`;
  return heading + fields([
    ["Email", answer.email],
    ["Account", answer.account_id],
    ["Status", answer.status],
    ["Policy", policyWords(answer.scopes)],
    ["Allowed now", answer.effective_scopes === "" ? "(none)" : answer.effective_scopes],
  ]);
}
