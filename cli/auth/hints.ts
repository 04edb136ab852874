/**
 * What a user of `bus auth` can do about a refusal of the provider: one
 * actionable sentence per error code, added to the provider's message.
 *
 * @module
 */

import { RefusedError } from "../shared/errors.ts";

const SIGN_IN_AGAIN =
  "sign in again: bus auth login --email <email>, then bus auth verify --email <email> --otp <code>";
const NEW_CODE = "ask for a new code with bus auth login --email <email>";

/** Hints by provider error code, for commands that send the session token. */
const SESSION_HINTS: Readonly<Record<string, string>> = {
  token_revoked: SIGN_IN_AGAIN,
  token_expired: SIGN_IN_AGAIN,
  session_expired: SIGN_IN_AGAIN,
  invalid_token: `the stored session is not valid for this provider; ${SIGN_IN_AGAIN}`,
  token_wrong_audience: "the token file holds no auth-service session (an API token?); use the session token file",
  refresh_disabled: SIGN_IN_AGAIN,
  not_approved: "bus auth status shows when an operator has approved it",
  account_rejected: "an operator rejected this registration; bus auth status shows it, and the operator can approve it",
  not_verified: "verify the email first: bus auth login --email <email>, then bus auth verify",
  scope_not_allowed:
    "ask only for scopes this provider allows your account (its operator sets BUS_AUTH_API_USER_SCOPES and each account's scope policy)",
};

/** Hints by provider error code for `verify`. */
const OTP_HINTS: Readonly<Record<string, string>> = {
  otp_expired: NEW_CODE,
  otp_used: NEW_CODE,
  otp_attempts_exceeded: NEW_CODE,
  otp_not_requested: NEW_CODE,
  otp_invalid: "check the code in the latest mail",
};

/** Hints by provider error code for `check --api`. */
const API_TOKEN_HINTS: Readonly<Record<string, string>> = {
  token_expired: 'request a new one with bus auth token --scope "<scopes>"',
  token_revoked:
    "the account's tokens were revoked (bus auth status shows a rejection), or its scope policy dropped a scope of this token",
};

/** Which hints apply to a command. */
export type HintSet = "session" | "otp" | "api_token" | "none";

const TABLES: Record<HintSet, Readonly<Record<string, string>>> = {
  session: SESSION_HINTS,
  otp: OTP_HINTS,
  api_token: API_TOKEN_HINTS,
  none: {},
};

/** The refusal with an actionable hint appended, or the same error when there is none. */
export function withHint(error: unknown, set: HintSet, email?: string): unknown {
  if (!(error instanceof RefusedError)) return error;
  const hint = TABLES[set][error.code];
  if (hint === undefined) return error;
  const filled = email === undefined ? hint : hint.replaceAll("<email>", email);
  return new RefusedError(`${error.message}; ${filled}`, error.code, error.status);
}
