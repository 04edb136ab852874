/**
 * The {@link ClientStore} part of the PostgreSQL store. Changes of one
 * client take its row lock, so replicas never interleave them.
 *
 * @module
 */

import type postgres from "postgres";
import type { ClientRecord, ClientStore, CreateClientResult, NewClientKey } from "./clients.ts";
import type { PostgresAccess } from "./postgres.ts";

interface ClientRow {
  client_id: string;
  name: string;
  audience: string;
  scopes: string;
  max_ttl_seconds: number;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

interface KeyRow {
  key_id: string;
  client_id: string;
  prefix: string;
  key_hash: string;
  created_at: Date;
  retires_at: Date | null;
}

type Sql = postgres.Sql | postgres.TransactionSql;

/** Service clients in `bus_auth_clients` and `bus_auth_client_keys`. */
export class PostgresClients implements ClientStore {
  #db: PostgresAccess;

  constructor(access: PostgresAccess) {
    this.#db = access;
  }

  createClient(input: {
    clientId: string;
    name: string;
    audience: string;
    scopes: readonly string[];
    maxTtlSeconds: number;
    key: NewClientKey;
    now: number;
  }): Promise<CreateClientResult> {
    return this.#db.run((sql) =>
      this.#db.transaction(sql, async (tx): Promise<CreateClientResult> => {
        const now = new Date(input.now);
        const inserted = await tx`
          INSERT INTO bus_auth_clients (client_id, name, audience, scopes, max_ttl_seconds, created_at)
          VALUES (${input.clientId}, ${input.name}, ${input.audience}, ${input.scopes.join(" ")},
            ${input.maxTtlSeconds}, ${now})
          ON CONFLICT (name) DO NOTHING
          RETURNING client_id`;
        if (inserted.length === 0) return { created: false, client: (await find(tx, "name", input.name))! };
        await insertKey(tx, input.clientId, input.key, now);
        return { created: true, client: (await find(tx, "client_id", input.clientId))! };
      })
    );
  }

  findClientById(clientId: string): Promise<ClientRecord | null> {
    return this.#db.run((sql) => find(sql, "client_id", clientId));
  }

  findClientByName(name: string): Promise<ClientRecord | null> {
    return this.#db.run((sql) => find(sql, "name", name));
  }

  listClients(): Promise<ClientRecord[]> {
    return this.#db.run(async (sql) => {
      const rows = await sql<ClientRow[]>`SELECT * FROM bus_auth_clients ORDER BY name`;
      const keys = await sql<KeyRow[]>`SELECT * FROM bus_auth_client_keys ORDER BY created_at, key_id`;
      return rows.map((row) => toClient(row, keys.filter((key) => key.client_id === row.client_id)));
    });
  }

  rotateClientKey(
    input: { clientId: string; key: NewClientKey; retireOthersAt: number; now: number },
  ): Promise<ClientRecord | null> {
    return this.#db.run((sql) =>
      this.#db.transaction(sql, async (tx) => {
        const [row] = await tx<ClientRow[]>`
          SELECT * FROM bus_auth_clients WHERE client_id = ${input.clientId} FOR UPDATE`;
        if (row === undefined || row.revoked_at !== null) return null;
        const retire = new Date(input.retireOthersAt);
        await tx`
          UPDATE bus_auth_client_keys SET retires_at = LEAST(COALESCE(retires_at, ${retire}), ${retire})
          WHERE client_id = ${input.clientId}`;
        await insertKey(tx, input.clientId, input.key, new Date(input.now));
        return await find(tx, "client_id", input.clientId);
      })
    );
  }

  revokeClient(input: { clientId: string; now: number }): Promise<ClientRecord | null> {
    return this.#db.run(async (sql) => {
      await sql`
        UPDATE bus_auth_clients SET revoked_at = COALESCE(revoked_at, ${new Date(input.now)})
        WHERE client_id = ${input.clientId}`;
      return await find(sql, "client_id", input.clientId);
    });
  }

  touchClient(input: { clientId: string; now: number }): Promise<void> {
    return this.#db.run(async (sql) => {
      const now = new Date(input.now);
      await sql`
        UPDATE bus_auth_clients SET last_used_at = GREATEST(last_used_at, ${now}::timestamptz)
        WHERE client_id = ${input.clientId}`;
    });
  }
}

async function insertKey(sql: Sql, clientId: string, key: NewClientKey, now: Date): Promise<void> {
  await sql`
    INSERT INTO bus_auth_client_keys (key_id, client_id, prefix, key_hash, created_at)
    VALUES (${key.keyId}, ${clientId}, ${key.prefix}, ${key.hash}, ${now})`;
}

async function find(sql: Sql, column: "client_id" | "name", value: string): Promise<ClientRecord | null> {
  const [row] = await sql<ClientRow[]>`SELECT * FROM bus_auth_clients WHERE ${sql(column)} = ${value}`;
  if (row === undefined) return null;
  const keys = await sql<KeyRow[]>`
    SELECT * FROM bus_auth_client_keys WHERE client_id = ${row.client_id} ORDER BY created_at, key_id`;
  return toClient(row, keys);
}

function toClient(row: ClientRow, keys: readonly KeyRow[]): ClientRecord {
  return {
    clientId: row.client_id,
    name: row.name,
    audience: row.audience,
    scopes: row.scopes === "" ? [] : row.scopes.split(" "),
    maxTtlSeconds: Number(row.max_ttl_seconds),
    createdAt: row.created_at.getTime(),
    lastUsedAt: row.last_used_at === null ? null : row.last_used_at.getTime(),
    revokedAt: row.revoked_at === null ? null : row.revoked_at.getTime(),
    keys: keys.map((key) => ({
      keyId: key.key_id,
      prefix: key.prefix,
      hash: key.key_hash,
      createdAt: key.created_at.getTime(),
      retiresAt: key.retires_at === null ? null : key.retires_at.getTime(),
    })),
  };
}
