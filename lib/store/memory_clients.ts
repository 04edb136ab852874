/**
 * The {@link ClientStore} part of the memory store.
 *
 * @module
 */

import type { ClientRecord, ClientStore, CreateClientResult, NewClientKey } from "./clients.ts";

/** Service clients in plain maps. */
export class MemoryClients implements ClientStore {
  #byId = new Map<string, ClientRecord>();

  createClient(input: {
    clientId: string;
    name: string;
    audience: string;
    scopes: readonly string[];
    maxTtlSeconds: number;
    key: NewClientKey;
    now: number;
  }): Promise<CreateClientResult> {
    const existing = this.#byName(input.name);
    if (existing) return Promise.resolve({ created: false, client: clone(existing) });
    const client: ClientRecord = {
      clientId: input.clientId,
      name: input.name,
      audience: input.audience,
      scopes: [...input.scopes],
      maxTtlSeconds: input.maxTtlSeconds,
      createdAt: input.now,
      lastUsedAt: null,
      revokedAt: null,
      keys: [{ ...input.key, createdAt: input.now, retiresAt: null }],
    };
    this.#byId.set(client.clientId, client);
    return Promise.resolve({ created: true, client: clone(client) });
  }

  findClientById(clientId: string): Promise<ClientRecord | null> {
    const client = this.#byId.get(clientId);
    return Promise.resolve(client ? clone(client) : null);
  }

  findClientByName(name: string): Promise<ClientRecord | null> {
    const client = this.#byName(name);
    return Promise.resolve(client ? clone(client) : null);
  }

  listClients(): Promise<ClientRecord[]> {
    return Promise.resolve([...this.#byId.values()].sort((a, b) => a.name < b.name ? -1 : 1).map(clone));
  }

  rotateClientKey(
    input: { clientId: string; key: NewClientKey; retireOthersAt: number; now: number },
  ): Promise<ClientRecord | null> {
    const client = this.#byId.get(input.clientId);
    if (!client || client.revokedAt !== null) return Promise.resolve(null);
    const keys = client.keys.map((key) => ({
      ...key,
      retiresAt: key.retiresAt === null ? input.retireOthersAt : Math.min(key.retiresAt, input.retireOthersAt),
    }));
    client.keys = [...keys, { ...input.key, createdAt: input.now, retiresAt: null }];
    return Promise.resolve(clone(client));
  }

  revokeClient(input: { clientId: string; now: number }): Promise<ClientRecord | null> {
    const client = this.#byId.get(input.clientId);
    if (!client) return Promise.resolve(null);
    client.revokedAt ??= input.now;
    return Promise.resolve(clone(client));
  }

  touchClient(input: { clientId: string; now: number }): Promise<void> {
    const client = this.#byId.get(input.clientId);
    if (client) client.lastUsedAt = Math.max(client.lastUsedAt ?? 0, input.now);
    return Promise.resolve();
  }

  #byName(name: string): ClientRecord | undefined {
    for (const client of this.#byId.values()) if (client.name === name) return client;
    return undefined;
  }
}

function clone(client: ClientRecord): ClientRecord {
  return { ...client, scopes: [...client.scopes], keys: client.keys.map((key) => ({ ...key })) };
}
