/**
 * Keeps a replica's {@link ReadCache} current with what other replicas
 * change in PostgreSQL, and trusted only while that is proven.
 *
 * - **Changes.** Triggers of migration 7 (`postgres_schema.ts`) send a
 *   `NOTIFY bus_auth_changes` with the id of every user, session, revoked
 *   token and client a transaction inserts or updates, and the table's name
 *   when rows are deleted or a table is truncated, delivered when it
 *   commits; since migration 8 a deletion of expired revocations or
 *   sessions only (a purge) is told apart. This feed listens on one
 *   dedicated connection and drops each named value from the cache, or
 *   everything for a deletion other than a purge (which drops nothing: see
 *   `read_cache.ts`).
 * - **Proof of currency.** PostgreSQL delivers the notifications of
 *   different transactions in commit order. Every {@link HEARTBEAT_MS} the
 *   feed sends a notification of its own on its listening connection, noting
 *   the time it was sent; when that one comes back, every change committed
 *   before that time has been delivered and applied, and the cache is
 *   trusted until that time plus {@link LEASE_MS}. A connection that closes
 *   (a restart of the database, a killed backend, a network error) ends the
 *   trust at once; one that goes silent ends it when the lease lapses, after
 *   at most {@link LEASE_MS}. Until the feed listens again and a heartbeat has
 *   come back, every read goes to the database, and the cache starts empty.
 *   Where LISTEN cannot work (a pooler in transaction mode) no heartbeat ever
 *   comes back and the cache is never used.
 *
 * @module
 */

import type postgres from "postgres";
import type { CachedStore, StateChange } from "./cached_store.ts";
import { type ClientArguments, createPool } from "./postgres_connection.ts";

/** The channel of migration 7's triggers. */
export const CHANGES_CHANNEL = "bus_auth_changes";
/** How often the feed proves its connection current. */
export const HEARTBEAT_MS = 250;
/** How long after a heartbeat was sent the cache stays trusted without a newer one. */
export const LEASE_MS = 1000;
/** `application_name` of the listening connection, as `pg_stat_activity` shows it. */
export const FEED_APPLICATION_NAME = "bus-auth-changes";
/** Longest wait between two attempts to listen again. */
const MAX_RETRY_MS = 5000;

/** Options of {@link PostgresChangeFeed}. */
export interface ChangeFeedOptions {
  heartbeatMs?: number;
  leaseMs?: number;
  /** Hears the feed's state changes (the server logs them). */
  onState?: (state: "listening" | "lost", detail?: string) => void;
}

/**
 * The feed of one {@link CachedStore}. Start it with {@link start}; the
 * cache stays untrusted until the first heartbeat comes back.
 */
export class PostgresChangeFeed {
  #store: CachedStore;
  #client: ClientArguments;
  #heartbeatMs: number;
  #leaseMs: number;
  #onState: (state: "listening" | "lost", detail?: string) => void;
  #sql: postgres.Sql | null = null;
  #listening = false;
  #closed = false;
  #id = crypto.randomUUID();
  #sequence = 0;
  /** Send times (`performance.now()`) of the heartbeats not yet back, by sequence number. */
  #sent = new Map<number, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryMs = 100;

  constructor(store: CachedStore, client: ClientArguments, options: ChangeFeedOptions = {}) {
    this.#store = store;
    this.#client = client;
    this.#heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.#leaseMs = options.leaseMs ?? LEASE_MS;
    this.#onState = options.onState ?? (() => {});
  }

  /** Whether the feed listens now. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Opens the listening connection (retrying in the background when it cannot) and starts the heartbeat. */
  start(): void {
    this.#timer = setInterval(() => this.#heartbeat(), this.#heartbeatMs);
    this.#listen();
  }

  /** Stops listening; the cache is no longer trusted. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#lost();
    await this.#sql?.end({ timeout: 1 }).catch(() => {});
  }

  #listen(): void {
    if (this.#closed) return;
    const [dsn, options] = this.#client;
    // One connection that never idles out: LISTEN holds only on the connection that ran it.
    const listenOptions = {
      ...options,
      max: 1,
      idle_timeout: undefined,
      max_lifetime: null,
      connection: { ...options.connection, application_name: FEED_APPLICATION_NAME },
      onnotify: (channel: string, payload: string) => this.#notified(channel, payload),
      onclose: () => {
        if (this.#sql !== sql) return;
        this.#lost("the listening connection closed");
        this.#sql = null;
        sql.end({ timeout: 0 }).catch(() => {});
        this.#scheduleRetry();
      },
    };
    const sql = createPool([dsn, listenOptions as postgres.Options<Record<string, never>>]);
    this.#sql = sql;
    sql.unsafe(`LISTEN ${CHANGES_CHANNEL}`).then(() => {
      if (this.#sql !== sql || this.#closed) return;
      this.#listening = true;
      this.#retryMs = 100;
      this.#onState("listening");
      this.#heartbeat();
    }, (error) => {
      if (this.#sql !== sql) return;
      this.#lost(`cannot listen: ${errorText(error)}`);
      this.#sql = null;
      sql.end({ timeout: 0 }).catch(() => {});
      this.#scheduleRetry();
    });
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#listen();
    }, this.#retryMs);
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
  }

  /**
   * The connection is gone or unproven: trust ends now, heartbeats in flight no longer count. Reported unless the
   * feed was closed: a provider that stops closes its feed, and that is no loss to warn an operator of.
   */
  #lost(detail?: string): void {
    const wasListening = this.#listening;
    this.#listening = false;
    this.#sent.clear();
    this.#store.cache.distrust();
    if (wasListening && !this.#closed) this.#onState("lost", detail);
  }

  #heartbeat(): void {
    const sql = this.#sql;
    if (!this.#listening || sql === null) return;
    const sequence = ++this.#sequence;
    this.#sent.set(sequence, performance.now());
    // Heartbeats that never came back are dropped once they could no longer extend the lease.
    for (const [old, at] of this.#sent) {
      if (at < performance.now() - this.#leaseMs) this.#sent.delete(old);
      else break;
    }
    sql.unsafe("SELECT pg_notify($1, $2)", [CHANGES_CHANNEL, `p:${this.#id}:${sequence}`]).catch(() => {
      // The connection's close, if that is why, is handled by onclose; a lapse by the lease.
    });
  }

  #notified(channel: string, payload: string): void {
    if (channel !== CHANGES_CHANNEL) return;
    if (payload.startsWith("p:")) {
      const [, id, sequence] = payload.split(":");
      if (id !== this.#id) return;
      const sentAt = this.#sent.get(Number(sequence));
      if (sentAt === undefined) return;
      this.#sent.delete(Number(sequence));
      this.#store.cache.trustUntil(sentAt + this.#leaseMs);
      return;
    }
    const change = parseChange(payload);
    // A payload this code does not know may name anything: drop everything.
    if (change === null) this.#store.cache.clear();
    else this.#store.applyChange(change);
  }
}

/**
 * Reads a trigger's payload: `u:<user id>:<account id or empty>`,
 * `s:<session id>`, `j:<token id>`, `c:<client id>`, `e:<table>` for
 * expired rows deleted (a purge: every deleted revocation's or session's
 * expiry had passed, by the database's clock), or `x:<table>` for any other
 * deletion and a truncation.
 *
 * @returns the change, or `null` for a payload of another form
 */
export function parseChange(payload: string): StateChange | null {
  const [tag, id, accountId, ...rest] = payload.split(":");
  if (id === undefined || id === "" || rest.length > 0) return null;
  if (tag === "x" && accountId === undefined) return { kind: "all" };
  if (tag === "e" && accountId === undefined) return { kind: "expired" };
  if (tag === "u" && accountId !== undefined) return { kind: "user", userId: id, accountId: accountId || null };
  if (accountId !== undefined) return null;
  if (tag === "s") return { kind: "session", id };
  if (tag === "j") return { kind: "revoked", id };
  if (tag === "c") return { kind: "client", id };
  return null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
