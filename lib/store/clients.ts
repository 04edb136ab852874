/**
 * The part of the `Store` that keeps service clients: named consumers of
 * the internal token endpoint with display-once keys, of which only a hash
 * is stored (OAuth2 client credentials, RFC 6749 §4.4).
 *
 * @module
 */

/** One key of a client: never the key itself, only its prefix and hash. */
export interface ClientKeyRecord {
  keyId: string;
  /** The first characters of the key (`bsk_AbC1…`), safe to show. */
  prefix: string;
  /** SHA-256 of the key, hex: keys carry 256 random bits, so no key stretching is needed. */
  hash: string;
  createdAt: number;
  /** When the key stops working (after a rotation), or `null` while it is current. */
  retiresAt: number | null;
}

/** A service client. */
export interface ClientRecord {
  clientId: string;
  /** Unique name chosen by the operator, such as `billing-worker`. */
  name: string;
  /** The one audience its tokens get. */
  audience: string;
  /** The most its tokens may hold. */
  scopes: readonly string[];
  /** The longest lifetime of its tokens. */
  maxTtlSeconds: number;
  createdAt: number;
  lastUsedAt: number | null;
  /** When it was revoked: its keys stop working and its tokens issued before are refused. */
  revokedAt: number | null;
  /** Every key, oldest first (retired ones included until they are purged). */
  keys: readonly ClientKeyRecord[];
}

/** A key to store. */
export interface NewClientKey {
  keyId: string;
  prefix: string;
  hash: string;
}

/** Outcome of {@link ClientStore.createClient}. */
export type CreateClientResult = { created: true; client: ClientRecord } | { created: false; client: ClientRecord };

/** Service clients, atomic per client, shared by replicas. */
export interface ClientStore {
  /**
   * Creates a client with its first key, unless the name is taken: then
   * nothing changes and the existing client is returned.
   */
  createClient(input: {
    clientId: string;
    name: string;
    audience: string;
    scopes: readonly string[];
    maxTtlSeconds: number;
    key: NewClientKey;
    now: number;
  }): Promise<CreateClientResult>;
  findClientById(clientId: string): Promise<ClientRecord | null>;
  findClientByName(name: string): Promise<ClientRecord | null>;
  /** Every client, by name. */
  listClients(): Promise<ClientRecord[]>;
  /**
   * Adds a key; each key already there that has no earlier retirement
   * retires at `retireOthersAt` (`now` retires them at once).
   *
   * @returns the client, or `null` when there is none with that id (or it is revoked)
   */
  rotateClientKey(
    input: { clientId: string; key: NewClientKey; retireOthersAt: number; now: number },
  ): Promise<ClientRecord | null>;
  /** Revokes a client at `now`; revoking again keeps the first time. @returns the client, or `null` */
  revokeClient(input: { clientId: string; now: number }): Promise<ClientRecord | null>;
  /** Records that a client's key was just used. */
  touchClient(input: { clientId: string; now: number }): Promise<void>;
}
