/**
 * Operator calls on service clients: create one with its first key, list
 * them, rotate a key, revoke a client, and check that a key is one of a
 * client's working keys. Each needs an `ai.hg.fi/auth` token with
 * `admin:manage`. A key is returned once, by create and rotate; the store
 * keeps only its prefix and hash.
 *
 * @module
 */

import { isKnownAudience, KNOWN_AUDIENCES, MAX_TOKEN_LIFETIME_SECONDS } from "../claims.ts";
import { generateClientKey, type GeneratedClientKey, matchesClientKey } from "../client_keys.ts";
import { ConflictError, InvalidInputError, NotFoundError, quotable } from "../errors.ts";
import { parseScope } from "../scopes.ts";
import type { ClientRecord } from "../store/clients.ts";
import { isCanonicalUuid } from "../uuid.ts";
import { authorizeAdminAct } from "./admin.ts";
import { adminActor, recordAudit } from "./audit.ts";
import type { AuthContext } from "./context.ts";

/** Scopes that allow every client call. */
export const CLIENT_ADMIN_SCOPES: readonly string[] = Object.freeze(["admin:manage"]);

/** Client names: lowercase letters, digits and dashes, starting with a letter or digit, at most 64. */
export const CLIENT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Shortest `ttl_max_seconds` of a client. */
export const MIN_CLIENT_TTL_SECONDS = 60;

/** How long the old keys keep working after a rotation when the call names no time: an hour. */
export const DEFAULT_RETIRE_AFTER_SECONDS = 3600;

/** What a new client is made of; the lifetime defaults to the provider's internal-token lifetime. */
export interface NewServiceClient {
  name: string;
  audience: string;
  /** Scopes its tokens may hold: a space-separated string or a list. */
  scopes: string | readonly string[];
  ttlMaxSeconds?: number;
}

/** A client with a key that was just made: the only time the key is seen. */
export interface ClientWithNewKey {
  client: ClientRecord;
  key: string;
  keyPrefix: string;
}

/** A rotation: the new key, and when the keys before it stop working. */
export interface ClientRotation extends ClientWithNewKey {
  oldKeysRetireAt: number;
}

/**
 * Creates a client with its first key. A name that is taken (also by a
 * revoked client) changes nothing and makes no key.
 *
 * @throws {InvalidInputError} `invalid_client_name`, `invalid_audience`, `invalid_scope`, `invalid_ttl`
 * @throws {ConflictError} `client_exists`
 */
export async function createServiceClient(
  ctx: AuthContext,
  token: string,
  input: NewServiceClient,
): Promise<ClientWithNewKey> {
  const claims = await authorizeAdminAct(ctx, token, { action: "client.create", anyOf: CLIENT_ADMIN_SCOPES });
  if (!CLIENT_NAME.test(input.name)) {
    throw new InvalidInputError(
      "invalid_client_name",
      `Cannot create client "${quotable(input.name)}": a name is 1 to 64 lowercase letters, digits and dashes, ` +
        "starting with a letter or digit",
    );
  }
  if (!isKnownAudience(input.audience)) {
    throw new InvalidInputError(
      "invalid_audience",
      `Cannot create client "${input.name}" for audience "${quotable(input.audience)}": use ${
        KNOWN_AUDIENCES.join(", ")
      }`,
    );
  }
  const scopes = parseScope(typeof input.scopes === "string" ? input.scopes : scopeList(input.scopes));
  if (scopes.length === 0) {
    throw new InvalidInputError("invalid_scope", `Cannot create client "${input.name}": name at least one scope`);
  }
  const ttlMaxSeconds = input.ttlMaxSeconds ?? ctx.policy.internalTokenTtlSeconds;
  if (
    !Number.isSafeInteger(ttlMaxSeconds) || ttlMaxSeconds < MIN_CLIENT_TTL_SECONDS ||
    ttlMaxSeconds > MAX_TOKEN_LIFETIME_SECONDS
  ) {
    throw new InvalidInputError(
      "invalid_ttl",
      `Cannot create client "${input.name}": ttl_max_seconds must be a whole number from ${MIN_CLIENT_TTL_SECONDS} ` +
        `to ${MAX_TOKEN_LIFETIME_SECONDS} (30 days)`,
    );
  }
  const generated = generateClientKey(ctx.randomBytes);
  const result = await ctx.store.createClient({
    clientId: ctx.newId(),
    name: input.name,
    audience: input.audience,
    scopes,
    maxTtlSeconds: ttlMaxSeconds,
    key: storedKey(ctx, generated),
    now: ctx.now(),
  });
  if (!result.created) {
    const existing = result.client;
    throw new ConflictError(
      "client_exists",
      `Cannot create client "${input.name}": a client of that name exists (client_id ${existing.clientId}` +
        `${existing.revokedAt === null ? "" : ", revoked"}); rotate its key or choose another name`,
    );
  }
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "client.create",
    target: result.client.clientId,
    detail: result.client.name,
  });
  return { client: result.client, key: generated.key, keyPrefix: generated.prefix };
}

/** Every client, by name. */
export async function listServiceClients(ctx: AuthContext, token: string): Promise<ClientRecord[]> {
  await authorizeAdminAct(ctx, token, { action: "client.list", anyOf: CLIENT_ADMIN_SCOPES });
  return await ctx.store.listClients();
}

/**
 * Gives a client a new key. The keys it had keep working for
 * `retireAfterSeconds` (default an hour; 0 ends them at once), or less
 * when an earlier rotation retires them sooner.
 *
 * @throws {InvalidInputError} `invalid_client_id`, `invalid_retire_after`
 * @throws {NotFoundError} `client_not_found`
 * @throws {ConflictError} `client_revoked`
 */
export async function rotateServiceClientKey(
  ctx: AuthContext,
  token: string,
  clientId: string,
  retireAfterSeconds: number = DEFAULT_RETIRE_AFTER_SECONDS,
): Promise<ClientRotation> {
  const claims = await authorizeAdminAct(ctx, token, { action: "client.rotate", anyOf: CLIENT_ADMIN_SCOPES });
  if (
    !Number.isSafeInteger(retireAfterSeconds) || retireAfterSeconds < 0 ||
    retireAfterSeconds > MAX_TOKEN_LIFETIME_SECONDS
  ) {
    throw new InvalidInputError(
      "invalid_retire_after",
      `Cannot rotate: retire_after_seconds must be a whole number from 0 to ${MAX_TOKEN_LIFETIME_SECONDS} (30 days)`,
    );
  }
  const client = await existingClient(ctx, clientId, "rotate the key of");
  if (client.revokedAt !== null) throw revokedClient(client, "rotate the key of");
  const now = ctx.now();
  const generated = generateClientKey(ctx.randomBytes);
  const oldKeysRetireAt = now + retireAfterSeconds * 1000;
  const rotated = await ctx.store.rotateClientKey({
    clientId: client.clientId,
    key: storedKey(ctx, generated),
    retireOthersAt: oldKeysRetireAt,
    now,
  });
  if (rotated === null) throw revokedClient(client, "rotate the key of");
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "client.rotate",
    target: rotated.clientId,
    detail: rotated.name,
  });
  return { client: rotated, key: generated.key, keyPrefix: generated.prefix, oldKeysRetireAt };
}

/**
 * Revokes a client: its keys stop working and every token it was issued is
 * refused from now on. Repeating it keeps the first time.
 *
 * @throws {InvalidInputError} `invalid_client_id`
 * @throws {NotFoundError} `client_not_found`
 */
export async function revokeServiceClient(ctx: AuthContext, token: string, clientId: string): Promise<ClientRecord> {
  const claims = await authorizeAdminAct(ctx, token, { action: "client.revoke", anyOf: CLIENT_ADMIN_SCOPES });
  requireClientId(clientId, "revoke");
  const revoked = await ctx.store.revokeClient({ clientId, now: ctx.now() });
  if (revoked === null) throw clientNotFound(clientId, "revoke");
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "client.revoke",
    target: revoked.clientId,
    detail: revoked.name,
  });
  return revoked;
}

/**
 * Tells whether `key` is one of the client's working keys now (not
 * retired, client not revoked), without issuing anything: how
 * `bus operator auth client create` decides to reuse a key file.
 *
 * @throws {InvalidInputError} `invalid_client_id`
 * @throws {NotFoundError} `client_not_found`
 */
export async function verifyServiceClientKey(
  ctx: AuthContext,
  token: string,
  clientId: string,
  key: string,
): Promise<{ client: ClientRecord; valid: boolean }> {
  await authorizeAdminAct(ctx, token, { action: "client.verify-key", anyOf: CLIENT_ADMIN_SCOPES });
  const client = await existingClient(ctx, clientId, "check a key of");
  const valid = client.revokedAt === null && matchesClientKey(key, client.keys, ctx.now());
  return { client, valid };
}

function storedKey(ctx: AuthContext, generated: GeneratedClientKey) {
  return { keyId: ctx.newId(), prefix: generated.prefix, hash: generated.hash };
}

function scopeList(scopes: readonly string[]): string {
  if (scopes.some((scope) => typeof scope !== "string" || /\s/.test(scope))) {
    throw new InvalidInputError("invalid_scope", "Cannot create the client: scopes must be strings without spaces");
  }
  return scopes.join(" ");
}

async function existingClient(ctx: AuthContext, clientId: string, verb: string): Promise<ClientRecord> {
  requireClientId(clientId, verb);
  const client = await ctx.store.findClientById(clientId);
  if (client === null) throw clientNotFound(clientId, verb);
  return client;
}

function requireClientId(clientId: string, verb: string): void {
  if (!isCanonicalUuid(clientId)) {
    throw new InvalidInputError(
      "invalid_client_id",
      `Cannot ${verb} client "${quotable(clientId)}": a client id is the UUID that create and list show`,
    );
  }
}

function clientNotFound(clientId: string, verb: string): NotFoundError {
  return new NotFoundError("client_not_found", `Cannot ${verb} client ${clientId}: no such client`);
}

function revokedClient(client: ClientRecord, verb: string): ConflictError {
  return new ConflictError(
    "client_revoked",
    `Cannot ${verb} client "${client.name}" (${client.clientId}): it was revoked; create a client of another name`,
  );
}
