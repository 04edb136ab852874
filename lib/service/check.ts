/**
 * Token introspection for diagnostics and for services that prefer asking the
 * provider over verifying locally.
 *
 * @module
 */

import { AUDIENCE, KNOWN_AUDIENCES, type TokenClaims } from "../claims.ts";
import { AuthenticationError, ForbiddenError, InvalidInputError } from "../errors.ts";
import { verifyToken } from "../jwt.ts";
import { scopesOutsidePolicy } from "../scope_policy.ts";
import { formatScope, parseScope } from "../scopes.ts";
import { clientTokenRevoked } from "./client_credentials.ts";
import type { AuthContext } from "./context.ts";

/** Optional expectations of the caller. */
export interface CheckExpectations {
  /** The audience the token must have; any known audience when omitted. */
  audience?: string;
  /** Space-separated scopes the token must all hold. */
  scope?: string;
}

/**
 * Verifies any token of this system and returns its claims: signature,
 * algorithm, expiry, issuer and audience, then the revocation list, the
 * session of session tokens, that the service client of a client's token
 * is not revoked, and, for user API tokens, that the account is
 * still approved, the token was issued after the account's latest
 * rejection (a re-approval does not revive older tokens), and the account's
 * scope policy, under the global list, still allows every scope it holds.
 *
 * @throws {AuthenticationError} `invalid_token`, `token_expired`, `token_wrong_audience`, `token_revoked`
 * @throws {ForbiddenError} `insufficient_scope` when an expected scope is missing
 */
export async function checkToken(
  ctx: AuthContext,
  token: string,
  expect: CheckExpectations = {},
): Promise<TokenClaims> {
  const required = parseScope(expect.scope ?? "");
  if (expect.audience !== undefined && !KNOWN_AUDIENCES.includes(expect.audience)) {
    throw new InvalidInputError(
      "invalid_audience",
      `Cannot check for audience "${expect.audience.slice(0, 64)}": unknown audience`,
    );
  }
  const claims = await verifyToken(token, ctx.keys, {
    issuer: ctx.policy.issuer,
    audiences: expect.audience === undefined ? KNOWN_AUDIENCES : [expect.audience],
    now: ctx.now(),
  });
  if (await clientTokenRevoked(ctx, claims)) {
    throw new AuthenticationError(
      "token_revoked",
      "The token was revoked: the service client it was issued to was revoked",
    );
  }
  const revoked = await revocationOf(ctx, claims);
  if (revoked !== null) throw new AuthenticationError("token_revoked", revoked);
  const held = claims.scope.split(" ");
  const missing = required.filter((scope) => !held.includes(scope));
  if (missing.length > 0) {
    throw new ForbiddenError("insufficient_scope", `The token lacks the scope "${missing.join(" ")}"`);
  }
  return claims;
}

/** Why a verified token no longer counts (the message of `token_revoked`), or `null`. */
async function revocationOf(ctx: AuthContext, claims: TokenClaims): Promise<string | null> {
  const revoked = "The token was revoked";
  if (await ctx.store.isTokenRevoked(claims.jti)) return revoked;
  if (claims.sid !== undefined) {
    const session = await ctx.store.findSession(claims.sid);
    return session === null || session.revokedAt !== null ? revoked : null;
  }
  if (claims.aud === AUDIENCE.api) {
    const user = await ctx.store.findUserByAccountId(claims.sub);
    if (user === null) return null;
    if (user.status !== "approved" || issuedNoLaterThan(claims, user.tokensNotBefore)) return revoked;
    const held = claims.scope.split(" ").filter((scope) => scope !== "");
    const dropped = scopesOutsidePolicy(held, user.scopePolicy, ctx.policy.apiUserScopes);
    if (dropped.length > 0) {
      return `The token was revoked: the account may no longer hold scope "${
        formatScope(dropped)
      }" (its scope policy or BUS_AUTH_API_USER_SCOPES dropped it)`;
    }
  }
  return null;
}

/**
 * Whether a token was issued at or before `instant` (ms). `iat` counts whole
 * seconds (the second the token was signed in, rounded down), so a token
 * signed before the instant always has `iat * 1000 <= instant` and is
 * refused. The price is that a token signed after a re-approval but within
 * the same second as the rejection is refused too; the user asks again a
 * second later. Erring that way never lets a pre-rejection token through.
 */
function issuedNoLaterThan(claims: TokenClaims, instant: number | null): boolean {
  return instant !== null && claims.iat * 1000 <= instant;
}
