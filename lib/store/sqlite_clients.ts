/**
 * The {@link ClientStore} part of the SQLite store.
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import type { ClientRecord, ClientStore, CreateClientResult, NewClientKey } from "./clients.ts";
import type { SqliteAccess } from "./sqlite.ts";

type Row = Record<string, SQLInputValue>;

const CLIENT_COLUMNS = "client_id, name, audience, scopes, max_ttl_seconds, created_at, last_used_at, revoked_at";

/** Service clients in the `clients` and `client_keys` tables. */
export class SqliteClients implements ClientStore {
  #db: SqliteAccess;

  constructor(access: SqliteAccess) {
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
    return this.#db.run(() =>
      this.#db.transaction((): CreateClientResult => {
        const existing = this.#find("name", input.name);
        if (existing) return { created: false, client: existing };
        this.#db.prepare(
          `INSERT INTO clients (client_id, name, audience, scopes, max_ttl_seconds, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(input.clientId, input.name, input.audience, input.scopes.join(" "), input.maxTtlSeconds, input.now);
        this.#insertKey(input.clientId, input.key, input.now);
        return { created: true, client: this.#find("client_id", input.clientId)! };
      })
    );
  }

  findClientById(clientId: string): Promise<ClientRecord | null> {
    return this.#db.run(() => this.#find("client_id", clientId));
  }

  findClientByName(name: string): Promise<ClientRecord | null> {
    return this.#db.run(() => this.#find("name", name));
  }

  listClients(): Promise<ClientRecord[]> {
    return this.#db.run(() => {
      const rows = this.#db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY name`).all() as Row[];
      return rows.map((row) => this.#withKeys(row));
    });
  }

  rotateClientKey(
    input: { clientId: string; key: NewClientKey; retireOthersAt: number; now: number },
  ): Promise<ClientRecord | null> {
    return this.#db.run(() =>
      this.#db.transaction(() => {
        const client = this.#find("client_id", input.clientId);
        if (!client || client.revokedAt !== null) return null;
        this.#db.prepare(
          `UPDATE client_keys SET retires_at = CASE WHEN retires_at IS NULL OR retires_at > ? THEN ? ELSE retires_at END
           WHERE client_id = ?`,
        ).run(input.retireOthersAt, input.retireOthersAt, input.clientId);
        this.#insertKey(input.clientId, input.key, input.now);
        return this.#find("client_id", input.clientId);
      })
    );
  }

  revokeClient(input: { clientId: string; now: number }): Promise<ClientRecord | null> {
    return this.#db.run(() =>
      this.#db.transaction(() => {
        this.#db.prepare("UPDATE clients SET revoked_at = COALESCE(revoked_at, ?) WHERE client_id = ?")
          .run(input.now, input.clientId);
        return this.#find("client_id", input.clientId);
      })
    );
  }

  touchClient(input: { clientId: string; now: number }): Promise<void> {
    return this.#db.run(() => {
      this.#db.prepare(
        "UPDATE clients SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE client_id = ?",
      ).run(input.now, input.clientId);
    });
  }

  #insertKey(clientId: string, key: NewClientKey, now: number): void {
    this.#db.prepare(
      "INSERT INTO client_keys (key_id, client_id, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
    ).run(key.keyId, clientId, key.prefix, key.hash, now);
  }

  #find(column: "client_id" | "name", value: string): ClientRecord | null {
    const row = this.#db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE ${column} = ?`).get(value) as
      | Row
      | undefined;
    return row ? this.#withKeys(row) : null;
  }

  #withKeys(row: Row): ClientRecord {
    const keys = this.#db.prepare(
      "SELECT key_id, prefix, key_hash, created_at, retires_at FROM client_keys WHERE client_id = ? ORDER BY created_at, key_id",
    ).all(row.client_id) as Row[];
    return {
      clientId: String(row.client_id),
      name: String(row.name),
      audience: String(row.audience),
      scopes: String(row.scopes) === "" ? [] : String(row.scopes).split(" "),
      maxTtlSeconds: Number(row.max_ttl_seconds),
      createdAt: Number(row.created_at),
      lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
      revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
      keys: keys.map((key) => ({
        keyId: String(key.key_id),
        prefix: String(key.prefix),
        hash: String(key.key_hash),
        createdAt: Number(key.created_at),
        retiresAt: key.retires_at === null ? null : Number(key.retires_at),
      })),
    };
  }
}
