/**
 * Bus API tokens for approved users: audience `ai.hg.fi/api`, subject the
 * account UUID (never the email), scopes that both the allow-list and the
 * account's scope policy allow.
 *
 * @module
 */

import { AUDIENCE, buildClaims } from "../claims.ts";
import { ForbiddenError, InvalidInputError } from "../errors.ts";
import { signToken } from "../jwt.ts";
import { requirePolicyAllows } from "../scope_policy.ts";
import { formatScope, parseScope, requireAllowedScopes } from "../scopes.ts";
import type { UserRecord } from "../store/store.ts";
import type { AuthContext } from "./context.ts";
import { authenticateSession, type IssuedToken } from "./session.ts";

/** What a user asks for. */
export interface ApiTokenRequest {
  /** Space-separated scopes. */
  scope: string;
  /** Wanted lifetime; capped at the policy maximum, which is also the default. */
  ttlSeconds?: number;
}

/**
 * Issues an API token to the user of a session token.
 *
 * @throws {ForbiddenError} `not_verified`, `not_approved`, `account_rejected`, `scope_not_allowed`
 * @throws {InvalidInputError} `invalid_scope`, `invalid_ttl`
 */
export async function issueApiToken(
  ctx: AuthContext,
  sessionToken: string,
  request: ApiTokenRequest,
): Promise<IssuedToken> {
  const { user } = await authenticateSession(ctx, sessionToken);
  const scopes = parseScope(request.scope);
  if (request.ttlSeconds !== undefined && (!Number.isSafeInteger(request.ttlSeconds) || request.ttlSeconds < 1)) {
    throw new InvalidInputError("invalid_ttl", "Cannot issue an API token: ttl_seconds must be a positive integer");
  }
  const accountId = requireApproved(user);
  requireAllowedScopes(scopes, ctx.policy.apiUserScopes);
  requirePolicyAllows(scopes, user.scopePolicy, ctx.policy.apiUserScopes);
  const maxTtl = ctx.policy.apiTokenMaxTtlSeconds;
  const claims = buildClaims({
    issuer: ctx.policy.issuer,
    subject: accountId,
    audience: AUDIENCE.api,
    scope: formatScope(scopes),
    ttlSeconds: Math.min(request.ttlSeconds ?? maxTtl, maxTtl),
    now: ctx.now(),
  });
  return { token: await signToken(claims, ctx.keys), claims };
}

function requireApproved(user: UserRecord): string {
  if (!user.verified) {
    throw new ForbiddenError("not_verified", `Cannot issue an API token for "${user.email}": email not verified`);
  }
  if (user.status === "rejected") {
    throw new ForbiddenError(
      "account_rejected",
      `Cannot issue an API token for "${user.email}": registration rejected`,
    );
  }
  if (user.status !== "approved" || user.accountId === null) {
    throw new ForbiddenError(
      "not_approved",
      `Cannot issue an API token for "${user.email}": still on the waitlist, waiting for operator approval`,
    );
  }
  return user.accountId;
}
