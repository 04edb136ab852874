/**
 * Trusted internal service tokens, protected by the internal shared key.
 *
 * @module
 */

import { AUDIENCE, buildClaims, isKnownAudience, isValidSubject, type TokenClaims } from "../claims.ts";
import { ForbiddenError, InvalidInputError } from "../errors.ts";
import { signToken } from "../jwt.ts";
import { formatScope, parseScope } from "../scopes.ts";
import { BOOTSTRAP_KEY_ACTOR, recordAudit } from "./audit.ts";
import type { AuthContext } from "./context.ts";
import type { IssuedToken } from "./session.ts";

/** Subject used when a request names none. */
export const DEFAULT_INTERNAL_SUBJECT = "auth-admin";

/** What a trusted caller asks for; every field is optional. */
export interface InternalTokenRequest {
  subject?: string;
  audience?: string;
  scope?: string;
  ttlSeconds?: number;
}

/** An internal token and whether its lifetime was capped below the request. */
export interface InternalTokenGrant extends IssuedToken {
  ttlCapped: boolean;
}

/**
 * Checks a presented internal key against the configured one, in constant time.
 *
 * @throws {ForbiddenError} `internal_tokens_disabled` when no key is configured, `internal_key_invalid`
 */
export function authorizeInternalKey(ctx: AuthContext, presentedKey: string | null): void {
  if (ctx.internalKey === null) {
    throw new ForbiddenError(
      "internal_tokens_disabled",
      "Internal token issuing is off: BUS_AUTH_INTERNAL_SHARED_KEY is not set on the provider",
    );
  }
  if (presentedKey === null || !ctx.internalKey.matches(presentedKey)) {
    throw new ForbiddenError("internal_key_invalid", "The X-Bus-Internal-Key header is missing or wrong");
  }
}

/**
 * Issues an internal token when `presentedKey` matches the internal shared
 * key (compared in constant time), and records the mint.
 *
 * @throws {ForbiddenError} `internal_tokens_disabled`, `internal_key_invalid`, `invalid_subject`, `invalid_audience`
 * @throws {InvalidInputError} `invalid_scope`, `invalid_ttl`
 */
export async function issueInternalToken(
  ctx: AuthContext,
  presentedKey: string | null,
  request: InternalTokenRequest,
): Promise<InternalTokenGrant> {
  authorizeInternalKey(ctx, presentedKey);
  const subject = request.subject ?? DEFAULT_INTERNAL_SUBJECT;
  if (!isValidSubject(subject)) {
    throw new ForbiddenError("invalid_subject", "Cannot issue a token: the subject must match [A-Za-z0-9._:@-]{1,128}");
  }
  const audience = request.audience ?? AUDIENCE.auth;
  if (!isKnownAudience(audience)) {
    throw new ForbiddenError(
      "invalid_audience",
      `Cannot issue a token for audience "${audience.slice(0, 64)}": use ${Object.values(AUDIENCE).join(", ")}`,
    );
  }
  const scope = formatScope(parseScope(request.scope ?? ""));
  const requested = request.ttlSeconds;
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 1)) {
    throw new InvalidInputError("invalid_ttl", "Cannot issue a token: ttl_seconds must be a positive integer");
  }
  const maxTtl = ctx.policy.internalTokenTtlSeconds;
  const claims = buildClaims({
    issuer: ctx.policy.issuer,
    subject,
    audience,
    scope,
    ttlSeconds: Math.min(requested ?? maxTtl, maxTtl),
    now: ctx.now(),
  });
  const token = await signToken(claims, ctx.keys);
  await recordMint(ctx, BOOTSTRAP_KEY_ACTOR, claims);
  return { token, claims, ttlCapped: requested !== undefined && requested > maxTtl };
}

/**
 * Records a minted internal token in the audit trail: `token.mint` by
 * `actor`, on the token's client id (or its subject when no client obtained
 * it), with its audience, scope and id (never the token).
 */
export async function recordMint(ctx: AuthContext, actor: string, claims: TokenClaims): Promise<void> {
  await recordAudit(ctx, {
    actor,
    action: "token.mint",
    target: claims.client_id ?? claims.sub,
    detail: `aud=${claims.aud} scope=${claims.scope} jti=${claims.jti}`,
  });
}
