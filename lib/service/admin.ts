/**
 * Operator calls: list the waitlist, approve, reject, revoke a token. Each
 * needs an `ai.hg.fi/auth` token with the scopes of {@link ADMIN_SCOPES}.
 *
 * @module
 */

import { AUDIENCE, MAX_TOKEN_LIFETIME_SECONDS, type TokenClaims } from "../claims.ts";
import { normalizeEmail } from "../email.ts";
import { AuthenticationError, ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import { MAX_CLOCK_SKEW_SECONDS, verifyToken } from "../jwt.ts";
import { parseScopePolicy, policyAuditDetail } from "../scope_policy.ts";
import { ADMIN_SCOPES, hasAnyScope } from "../scopes.ts";
import type { DecisionResult, UserRecord, UserStatus } from "../store/store.ts";
import { isCanonicalUuid } from "../uuid.ts";
import { adminActor, recordAudit } from "./audit.ts";
import { clientTokenRevoked } from "./client_credentials.ts";
import type { AuthContext } from "./context.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

/** Largest waitlist page. */
export const MAX_PAGE_SIZE = 500;
/** Waitlist page size when none is asked for. */
export const DEFAULT_PAGE_SIZE = 100;
/** Longest rejection note, in characters. */
export const MAX_REASON_LENGTH = 500;
/**
 * How long a revocation by token id is kept. The call knows only the `jti`,
 * not the token's expiry, so the entry outlives any token this system can
 * issue: the longest lifetime (30 days) plus the clock skew `verifyToken`
 * tolerates in `iat`. Afterwards the token has expired on its own.
 */
export const REVOCATION_KEEP_SECONDS = MAX_TOKEN_LIFETIME_SECONDS + MAX_CLOCK_SKEW_SECONDS;

/** One page of users. */
export interface UserPage {
  users: UserRecord[];
  /** Cursor of the next page, or `null` on the last page. */
  nextCursor: string | null;
}

/**
 * Verifies an admin token and checks that it holds one of `anyOf`; the
 * token of a service client counts only while the client is not revoked.
 *
 * @throws {AuthenticationError} for a bad, expired, revoked or wrong-audience token
 * @throws {ForbiddenError} `insufficient_scope`
 */
export async function authorizeAdmin(ctx: AuthContext, token: string, anyOf: readonly string[]): Promise<TokenClaims> {
  const claims = await verifyToken(token, ctx.keys, {
    issuer: ctx.policy.issuer,
    audiences: [AUDIENCE.auth],
    now: ctx.now(),
  });
  if (await ctx.store.isTokenRevoked(claims.jti) || await clientTokenRevoked(ctx, claims)) {
    throw new AuthenticationError("token_revoked", "The token was revoked");
  }
  if (!hasAnyScope(claims.scope, anyOf)) {
    throw new ForbiddenError("insufficient_scope", `This call needs one of the scopes "${anyOf.join('", "')}"`);
  }
  return claims;
}

/**
 * Lists users with a status (default `waitlisted`; `null` for all), oldest first.
 *
 * @throws {InvalidInputError} `invalid_limit`, `invalid_cursor`
 */
export async function listUsers(
  ctx: AuthContext,
  token: string,
  query: { status: UserStatus | null; limit?: number; cursor?: string },
): Promise<UserPage> {
  await authorizeAdminAct(ctx, token, { action: "waitlist.read", anyOf: ADMIN_SCOPES.waitlist });
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError("invalid_limit", `Cannot list users: limit must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const rows = await ctx.store.listUsers({ status: query.status, limit: limit + 1, after });
  const users = rows.slice(0, limit);
  const last = users[users.length - 1];
  const nextCursor = rows.length > limit && last !== undefined
    ? encodeCursor({ createdAt: last.createdAt, userId: last.userId })
    : null;
  return { users, nextCursor };
}

/**
 * Approves a verified user; the first approval creates the account UUID.
 * Given `scopes`, it sets the account's scope policy in the same step (as
 * `setAccountPolicy` does: a subset of the global list, `null` for the
 * default), which needs `admin:manage`.
 *
 * @throws {NotFoundError} `user_not_found`
 * @throws {ConflictError} `not_verified`
 * @throws {ForbiddenError} `scope_not_allowed`, `insufficient_scope`
 */
export async function approveUser(
  ctx: AuthContext,
  token: string,
  rawEmail: string,
  scopes?: string | null,
): Promise<UserRecord> {
  const anyOf = scopes === undefined ? ADMIN_SCOPES.approve : ADMIN_SCOPES.policy;
  const claims = await authorizeAdminAct(ctx, token, { action: "user.approve", anyOf });
  const email = normalizeEmail(rawEmail);
  const scopePolicy = scopes === undefined ? undefined : parseScopePolicy(scopes, ctx.policy.apiUserScopes);
  const result = await ctx.store.approveUser({ email, accountId: ctx.newId(), now: ctx.now(), scopePolicy });
  const user = decided(result, email, "approve");
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "user.approve",
    target: user.userId,
    detail: `${user.email}; account ${user.accountId}${result.ok && !result.changed ? "; already approved" : ""}`,
  });
  if (scopePolicy !== undefined) {
    await recordAudit(ctx, {
      actor: adminActor(claims),
      action: "account.policy",
      target: user.accountId,
      detail: policyAuditDetail(scopePolicy),
    });
  }
  return user;
}

/**
 * Rejects a user: API tokens issued to the account until now are refused for
 * good and new ones are refused while rejected. The user's sessions stay
 * usable, so `status` can say `rejected`. Repeating it changes nothing.
 *
 * @throws {NotFoundError} `user_not_found`
 * @throws {InvalidInputError} `invalid_reason`
 */
export async function rejectUser(
  ctx: AuthContext,
  token: string,
  rawEmail: string,
  reason: string | null,
): Promise<UserRecord> {
  const claims = await authorizeAdminAct(ctx, token, { action: "user.reject", anyOf: ADMIN_SCOPES.reject });
  const email = normalizeEmail(rawEmail);
  const note = reason?.trim() || null;
  // deno-lint-ignore no-control-regex
  if (note !== null && (note.length > MAX_REASON_LENGTH || /[\u0000-\u001f\u007f]/.test(note))) {
    throw new InvalidInputError(
      "invalid_reason",
      `Cannot reject "${email}": the reason must be one line of at most ${MAX_REASON_LENGTH} characters`,
    );
  }
  const result = await ctx.store.rejectUser({ email, reason: note, now: ctx.now() });
  const user = decided(result, email, "reject");
  const kept = result.ok && !result.changed ? "; already rejected" : "";
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "user.reject",
    target: user.userId,
    detail: `${user.email}${note === null ? "" : `; reason: ${note}`}${kept}`,
  });
  return user;
}

function decided(result: DecisionResult, email: string, verb: string): UserRecord {
  if (result.ok) return result.user;
  if (result.reason === "not_verified") {
    throw new ConflictError("not_verified", `Cannot ${verb} "${email}": the email is not verified yet`);
  }
  throw new NotFoundError("user_not_found", `Cannot ${verb} "${email}": no such registration`);
}

/**
 * Revokes any token of this system by its `jti` (admin and internal tokens,
 * which cannot be ended otherwise, but also sessions and API tokens): every
 * check of the revocation list refuses it from now on. Repeating it changes
 * nothing. Returns the id as stored (lowercase).
 *
 * @throws {InvalidInputError} `invalid_jti` unless the id is a UUID
 */
export async function revokeTokenId(ctx: AuthContext, token: string, rawJti: string): Promise<string> {
  const claims = await authorizeAdminAct(ctx, token, { action: "token.revoke", anyOf: ADMIN_SCOPES.revoke });
  const jti = rawJti.toLowerCase();
  if (!isCanonicalUuid(jti)) {
    throw new InvalidInputError(
      "invalid_jti",
      `Cannot revoke "${rawJti.slice(0, 64)}": a token id (jti) is a UUID such as "bus auth check" shows`,
    );
  }
  const now = ctx.now();
  const revokedNow = await ctx.store.revokeToken({
    tokenId: jti,
    expiresAt: now + REVOCATION_KEEP_SECONDS * 1000,
    now,
  });
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "token.revoke",
    target: jti,
    detail: revokedNow ? null : "already revoked",
  });
  return jti;
}

/**
 * {@link authorizeAdmin} for an act of the audit trail: when the token is
 * good but lacks the scope, the refusal is recorded as `act.action` with the
 * outcome `insufficient_scope`, the scopes the act needs and the token's
 * id (so it can be revoked). Refusals of user session tokens (they carry a
 * `sid`) and of tokens that fail verification are not recorded, only
 * logged per request: anyone who signs up holds a session, so recording
 * them would let anyone grow the trail.
 *
 * @throws as {@link authorizeAdmin}
 */
export async function authorizeAdminAct(
  ctx: AuthContext,
  token: string,
  act: { action: string; anyOf: readonly string[] },
): Promise<TokenClaims> {
  const { action, anyOf } = act;
  try {
    return await authorizeAdmin(ctx, token, anyOf);
  } catch (error) {
    if (error instanceof ForbiddenError && error.code === "insufficient_scope") {
      // The token passed verification a moment ago; only its claims are needed.
      const claims = await verifyToken(token, ctx.keys, {
        issuer: ctx.policy.issuer,
        audiences: [AUDIENCE.auth],
        now: ctx.now(),
      }).catch(() => null);
      if (claims !== null && claims.sid === undefined) {
        await recordAudit(ctx, {
          actor: adminActor(claims),
          action,
          detail: `needs ${anyOf.join(" or ")}; token ${claims.jti}`,
          outcome: "insufficient_scope",
        });
      }
    }
    throw error;
  }
}
