/**
 * Auth-service sessions: starting one after OTP verification, recognising
 * its bearer token, refreshing and ending it.
 *
 * @module
 */

import { AUDIENCE, buildClaims, type TokenClaims } from "../claims.ts";
import { AuthenticationError, ForbiddenError } from "../errors.ts";
import { signToken, verifyToken } from "../jwt.ts";
import type { SessionRecord, UserRecord } from "../store/store.ts";
import { recordAudit, userActor } from "./audit.ts";
import type { AuthContext } from "./context.ts";

/** A signed token with its claims. */
export interface IssuedToken {
  token: string;
  claims: TokenClaims;
}

/** A session token handed to a user, with the user it belongs to. */
export interface SessionGrant extends IssuedToken {
  user: UserRecord;
}

/** A recognised session token. */
export interface AuthenticatedSession {
  claims: TokenClaims;
  session: SessionRecord;
  user: UserRecord;
}

/** A session to start: its id and the absolute end the policy gives a session that starts at `now`. */
export function newSession(ctx: AuthContext, now: number): { sessionId: string; absoluteExpiresAt: number } {
  return { sessionId: ctx.newId(), absoluteExpiresAt: now + ctx.policy.sessionMaxSeconds * 1000 };
}

/**
 * Signs the first token of a session the store has started for `user`: one
 * of {@link newSession}, which the store's `attemptOtp` started with the
 * code's match.
 */
export async function sessionGrant(
  ctx: AuthContext,
  user: UserRecord,
  session: { sessionId: string; absoluteExpiresAt: number },
): Promise<SessionGrant> {
  return { ...await signSessionToken(ctx, user, session.sessionId, session.absoluteExpiresAt), user };
}

/**
 * Recognises an auth-service session token: valid signature and claims,
 * audience `ai.hg.fi/auth`, a live session of an existing user, and a token
 * id that was not revoked.
 *
 * @throws {AuthenticationError} `invalid_token`, `token_expired`, `token_wrong_audience`, `token_revoked`
 */
export async function authenticateSession(ctx: AuthContext, token: string): Promise<AuthenticatedSession> {
  const claims = await verifyToken(token, ctx.keys, {
    issuer: ctx.policy.issuer,
    audiences: [AUDIENCE.auth],
    now: ctx.now(),
  });
  if (claims.sid === undefined) {
    throw new AuthenticationError("invalid_token", "The token is not valid: expected a user session token");
  }
  const session = await ctx.store.findSession(claims.sid);
  if (session === null || session.userId !== claims.sub) {
    throw new AuthenticationError("invalid_token", "The token is not valid: unknown session");
  }
  if (session.revokedAt !== null || await ctx.store.isTokenRevoked(claims.jti)) {
    throw new AuthenticationError("token_revoked", "The session has ended: sign in again");
  }
  const user = await ctx.store.findUserById(session.userId);
  if (user === null) throw new AuthenticationError("invalid_token", "The token is not valid: unknown user");
  return { claims, session, user };
}

/**
 * Replaces a session token with a fresh one of the same session. The old
 * token is revoked atomically, so a token refreshes at most once; the new
 * one never outlives the session's absolute lifetime.
 *
 * @throws {ForbiddenError} `refresh_disabled` when the deployment turned refresh off
 * @throws {AuthenticationError} as {@link authenticateSession}, or `session_expired`
 */
export async function refreshSession(ctx: AuthContext, token: string): Promise<SessionGrant> {
  const { claims, session, user } = await authenticateSession(ctx, token);
  if (!ctx.policy.sessionRefresh) {
    throw new ForbiddenError("refresh_disabled", "Session refresh is turned off on this provider: sign in again");
  }
  const now = ctx.now();
  if (now >= session.absoluteExpiresAt) {
    throw new AuthenticationError("session_expired", "The session reached its maximum lifetime: sign in again");
  }
  const revokedNow = await ctx.store.revokeToken({ tokenId: claims.jti, expiresAt: claims.exp * 1000, now });
  if (!revokedNow) throw new AuthenticationError("token_revoked", "The session has ended: sign in again");
  return { ...await signSessionToken(ctx, user, session.sessionId, session.absoluteExpiresAt), user };
}

/**
 * Ends the session of a token: every token of that session stops working.
 * Recorded in the audit trail as `session.logout`.
 */
export async function endSession(ctx: AuthContext, token: string): Promise<void> {
  const { claims, session, user } = await authenticateSession(ctx, token);
  const now = ctx.now();
  await ctx.store.revokeSession(session.sessionId, now);
  await ctx.store.revokeToken({ tokenId: claims.jti, expiresAt: claims.exp * 1000, now });
  await recordAudit(ctx, { actor: userActor(user.userId), action: "session.logout", target: user.userId });
}

async function signSessionToken(
  ctx: AuthContext,
  user: UserRecord,
  sessionId: string,
  absoluteExpiresAt: number,
): Promise<IssuedToken> {
  const now = ctx.now();
  const remaining = Math.floor((absoluteExpiresAt - now) / 1000);
  const claims = buildClaims({
    issuer: ctx.policy.issuer,
    subject: user.userId,
    audience: AUDIENCE.auth,
    scope: "",
    ttlSeconds: Math.max(1, Math.min(ctx.policy.sessionTtlSeconds, remaining)),
    now,
    sid: sessionId,
  });
  return { token: await signToken(claims, ctx.keys), claims };
}
