/**
 * Wire shapes of the service-client calls: records to the JSON field names
 * that clients depend on. A key appears only in the answers of create and
 * rotate; everywhere else a client shows the prefixes of its keys.
 *
 * @module
 */

import type { ClientRotation, ClientWithNewKey } from "../lib/service/clients.ts";
import type { ClientRecord } from "../lib/store/clients.ts";

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function clientFields(client: ClientRecord) {
  return {
    client_id: client.clientId,
    name: client.name,
    audience: client.audience,
    scopes: [...client.scopes],
    ttl_max_seconds: client.maxTtlSeconds,
  };
}

/** One client of `admin/clients`: the keys that still work at `now` (none once revoked), oldest first. */
export function clientJson(client: ClientRecord, now: number) {
  const working = client.revokedAt === null
    ? client.keys.filter((key) => key.retiresAt === null || key.retiresAt > now)
    : [];
  return {
    ...clientFields(client),
    status: client.revokedAt === null ? "active" : "revoked",
    keys: working.map((key) => ({
      key_prefix: key.prefix,
      created_at: iso(key.createdAt),
      retires_at: iso(key.retiresAt),
    })),
    created_at: iso(client.createdAt),
    last_used_at: iso(client.lastUsedAt),
    revoked_at: iso(client.revokedAt),
  };
}

/** `POST admin/clients`: the only answer besides rotate's that holds a key. */
export function createdClientJson(created: ClientWithNewKey) {
  return {
    ...clientFields(created.client),
    key: created.key,
    key_prefix: created.keyPrefix,
    created_at: iso(created.client.createdAt),
  };
}

/** `POST admin/clients/{id}/rotate`: the new key, and when the keys before it stop working. */
export function rotationJson(rotation: ClientRotation) {
  return {
    client_id: rotation.client.clientId,
    name: rotation.client.name,
    key: rotation.key,
    key_prefix: rotation.keyPrefix,
    old_keys_retire_at: iso(rotation.oldKeysRetireAt),
  };
}

/** `POST admin/clients/{id}/revoke`: the same answer however often it is repeated. */
export function clientRevocationJson(client: ClientRecord) {
  return { client_id: client.clientId, name: client.name, revoked: true, revoked_at: iso(client.revokedAt) };
}
