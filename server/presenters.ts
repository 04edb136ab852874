/**
 * Wire shapes of DESIGN §2: domain records to the JSON field names that
 * clients depend on.
 *
 * @module
 */

import type { TokenClaims } from "../lib/claims.ts";
import { formatScope } from "../lib/scopes.ts";
import type { AccountPolicy } from "../lib/service/account_policy.ts";
import type { UserPage } from "../lib/service/admin.ts";
import type { InternalTokenGrant } from "../lib/service/internal_token.ts";
import type { IssuedToken, SessionGrant } from "../lib/service/session.ts";
import type { UserRecord } from "../lib/store/store.ts";

/** The last instant formatted, and its text: tokens issued in one second share their expiry. */
const lastIso = { ms: Number.NaN, text: "" };

function iso(ms: number): string {
  if (ms !== lastIso.ms) {
    lastIso.text = new Date(ms).toISOString();
    lastIso.ms = ms;
  }
  return lastIso.text;
}

function tokenFields(issued: IssuedToken) {
  return {
    access_token: issued.token,
    token_type: "Bearer",
    expires_in: issued.claims.exp - issued.claims.iat,
    expires_at: iso(issued.claims.exp * 1000),
  };
}

function accountField(user: UserRecord) {
  return user.status === "approved" && user.accountId !== null ? { account_id: user.accountId } : {};
}

/** `register`. */
export function registrationJson(user: UserRecord) {
  return { user_id: user.userId, email: user.email, status: user.status, verified: user.verified };
}

/** `status`: account_id only while approved. */
export function statusJson(user: UserRecord) {
  return { user_id: user.userId, verified: user.verified, status: user.status, ...accountField(user) };
}

/** `me`. */
export function meJson(user: UserRecord) {
  return {
    user_id: user.userId,
    email: user.email,
    verified: user.verified,
    status: user.status,
    ...accountField(user),
  };
}

/** `otp/verify` and `token/refresh`. */
export function sessionJson(grant: SessionGrant) {
  return { ...tokenFields(grant), user_id: grant.user.userId, verified: true, status: grant.user.status };
}

/** `token`. */
export function apiTokenJson(issued: IssuedToken) {
  return { ...tokenFields(issued), audience: issued.claims.aud, scope: issued.claims.scope };
}

/** `check`; `client_id` for a token of a service client. */
export function claimsJson(claims: TokenClaims) {
  const { sub, aud, scope, iat, exp, iss, jti, client_id: clientId } = claims;
  return { sub, aud, scope, iat, exp, iss, jti, ...(clientId === undefined ? {} : { client_id: clientId }) };
}

/** `admin/waitlist`. */
export function userPageJson(page: UserPage) {
  return {
    users: page.users.map((user) => ({
      user_id: user.userId,
      email: user.email,
      verified: user.verified,
      status: user.status,
      created_at: iso(user.createdAt),
      updated_at: iso(user.updatedAt),
    })),
    next_cursor: page.nextCursor,
  };
}

/** `admin/approve`. */
export function approvalJson(user: UserRecord) {
  return { user_id: user.userId, email: user.email, status: user.status, account_id: user.accountId };
}

/** `admin/reject`. */
export function rejectionJson(user: UserRecord) {
  return { user_id: user.userId, email: user.email, status: user.status, reason: user.rejectionReason };
}

/**
 * `admin/accounts/…/policy`: the policy (`scopes`, `null` for the default)
 * and the scopes it allows under the global list now.
 */
export function accountPolicyJson(view: AccountPolicy) {
  return {
    account_id: view.accountId,
    user_id: view.user.userId,
    email: view.user.email,
    status: view.user.status,
    scopes: view.policy === null ? null : formatScope(view.policy),
    default: view.policy === null,
    effective_scopes: formatScope(view.effective),
  };
}

/** `admin/tokens/revoke`: the same answer however often it is repeated. */
export function revocationJson(jti: string) {
  return { jti, revoked: true };
}

/** Internal token; `ttl_capped` says the lifetime was cut to the provider maximum. */
export function internalTokenJson(grant: InternalTokenGrant) {
  return {
    ...tokenFields(grant),
    audience: grant.claims.aud,
    subject: grant.claims.sub,
    scope: grant.claims.scope,
    ttl_capped: grant.ttlCapped,
  };
}
