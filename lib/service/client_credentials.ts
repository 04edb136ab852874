/**
 * The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) of the internal
 * token endpoint: a service client proves itself with its id and one of its
 * working keys and gets a token within its audience, scopes and longest
 * lifetime. Also the check that refuses every token of a revoked client.
 *
 * @module
 */

import { buildClaims, type TokenClaims } from "../claims.ts";
import { matchesClientKey } from "../client_keys.ts";
import { InvalidInputError, OAuthError } from "../errors.ts";
import { signToken } from "../jwt.ts";
import { formatScope, parseScope } from "../scopes.ts";
import type { ClientRecord } from "../store/clients.ts";
import { isCanonicalUuid } from "../uuid.ts";
import { clientActor } from "./audit.ts";
import type { AuthContext } from "./context.ts";
import { type InternalTokenGrant, recordMint } from "./internal_token.ts";

/** What a client sends, already taken apart by the HTTP layer. */
export interface ClientCredentialsRequest {
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes; all of the client's when omitted or empty. */
  scope?: string;
  /** A shorter lifetime than the client's longest (the `ttl_seconds` extension parameter). */
  ttlSeconds?: number;
}

/** A token issued to a client. */
export interface ClientTokenGrant extends InternalTokenGrant {
  client: ClientRecord;
}

/**
 * Issues a token to a client whose id and key check out: subject the
 * client's name, its audience, the scopes asked for (a subset of its own)
 * and a lifetime within both its `ttl_max_seconds` and the provider's
 * internal-token lifetime. Records the use and the mint.
 *
 * @throws {OAuthError} `invalid_client` for an unknown or revoked client or a wrong or retired key,
 *   `invalid_scope`, `invalid_request` for a bad lifetime
 */
export async function issueClientToken(ctx: AuthContext, request: ClientCredentialsRequest): Promise<ClientTokenGrant> {
  const now = ctx.now();
  const client = isCanonicalUuid(request.clientId) ? await ctx.store.findClientById(request.clientId) : null;
  // One answer for every failure: an id alone tells nobody whether the client exists.
  if (client === null || client.revokedAt !== null || !matchesClientKey(request.clientSecret, client.keys, now)) {
    throw new OAuthError(
      "invalid_client",
      "Client authentication failed: unknown client, wrong or retired key, or revoked client",
    );
  }
  const scopes = grantedScopes(client, request.scope);
  const requested = request.ttlSeconds;
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 1)) {
    throw new OAuthError("invalid_request", "ttl_seconds must be a positive whole number of seconds");
  }
  const maxTtl = Math.min(client.maxTtlSeconds, ctx.policy.internalTokenTtlSeconds);
  const claims = buildClaims({
    issuer: ctx.policy.issuer,
    subject: client.name,
    audience: client.audience,
    scope: formatScope(scopes),
    ttlSeconds: Math.min(requested ?? maxTtl, maxTtl),
    now,
    clientId: client.clientId,
  });
  const token = await signToken(claims, ctx.keys);
  await ctx.store.touchClient({ clientId: client.clientId, now });
  await recordMint(ctx, clientActor(client.clientId), claims);
  return { token, claims, ttlCapped: requested !== undefined && requested > maxTtl, client };
}

/**
 * Whether a token must be refused because of its client: it names a
 * client (`client_id`) that is revoked, or that this provider does not
 * know. Every token of a revoked client is refused, whenever it was
 * issued: a revoked client gets no new tokens, so all of its tokens date
 * from before the revocation, even one whose exchange raced it. One store
 * read, for client tokens only.
 */
export async function clientTokenRevoked(ctx: AuthContext, claims: TokenClaims): Promise<boolean> {
  if (claims.client_id === undefined) return false;
  const client = await ctx.store.findClientById(claims.client_id);
  return client === null || client.revokedAt !== null;
}

function grantedScopes(client: ClientRecord, scope: string | undefined): readonly string[] {
  let requested: string[];
  try {
    requested = parseScope(scope ?? "");
  } catch (error) {
    if (error instanceof InvalidInputError) throw new OAuthError("invalid_scope", error.message);
    throw error;
  }
  if (requested.length === 0) return client.scopes;
  const refused = requested.filter((wanted) => !client.scopes.includes(wanted));
  if (refused.length > 0) {
    throw new OAuthError(
      "invalid_scope",
      `Cannot issue scope "${refused.join(" ")}" to client "${client.name}": it may hold only "${
        client.scopes.join(" ")
      }"`,
    );
  }
  return requested;
}
