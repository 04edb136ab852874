/**
 * The verifier's copy of a JSON Web Key Set (RFC 7517): fetched when first
 * needed, kept as long as the answer's `Cache-Control: max-age` says (within
 * {@link MIN_CACHE_SECONDS} and {@link MAX_CACHE_SECONDS}, else
 * {@link DEFAULT_CACHE_SECONDS}), fetched again for an unknown `kid` or after
 * a failure at most once per {@link REFETCH_INTERVAL_SECONDS}, so tokens
 * naming made-up keys cannot turn into a flood of fetches. A failed fetch
 * keeps the last good set.
 *
 * Only signing keys of the two algorithms the provider uses are taken: `EdDSA`
 * (OKP, Ed25519; RFC 8037) and `ES256` (EC, P-256; RFC 7518), each with a
 * `kid` and its `alg`. Other keys are ignored; a set in which two usable keys
 * share a `kid` is refused whole.
 *
 * @module
 */

import { base64url, importJWK } from "jose";
import { quotable } from "../errors.ts";

/** Algorithms of keys taken from a key set. */
export const JWKS_ALGORITHMS: readonly JwksAlgorithm[] = Object.freeze(["EdDSA", "ES256"]);

/** An algorithm of a key taken from a key set. */
export type JwksAlgorithm = "EdDSA" | "ES256";

/** Shortest time a fetched set is kept, whatever `Cache-Control` says (`no-store` and `no-cache` included). */
export const MIN_CACHE_SECONDS = 60;
/** Longest time a fetched set is kept. */
export const MAX_CACHE_SECONDS = 86_400;
/** How long a set is kept when the answer has no `max-age`. */
export const DEFAULT_CACHE_SECONDS = 300;
/** Least time between two fetches, so between refetches for unknown keys and retries after a failure. */
export const REFETCH_INTERVAL_SECONDS = 60;
/** How long a fetch may take. */
export const FETCH_TIMEOUT_SECONDS = 5;
/** Largest key set read, in bytes. */
export const MAX_JWKS_BYTES = 256 * 1024;

/** A public key of the set. */
export interface JwksKey {
  readonly kid: string;
  readonly alg: JwksAlgorithm;
  readonly key: CryptoKey;
}

/** What {@link JwksCache.lookup} found: the key, or why there is none. */
export type KeyLookup = { key: JwksKey } | { key?: undefined; why: string; cause?: Error };

/** How the cache fetches and tells the time; tests inject both. */
export interface JwksCacheOptions {
  fetch: typeof globalThis.fetch;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** One key set, cached. */
export class JwksCache {
  readonly #url: URL;
  readonly #fetch: typeof globalThis.fetch;
  readonly #now: () => number;
  #keys: ReadonlyMap<string, JwksKey> | null = null;
  #expiresAt = 0;
  #lastAttemptAt = -Infinity;
  #lastFailure: Error | null = null;
  #pending: Promise<void> | null = null;

  constructor(url: URL, options: JwksCacheOptions) {
    this.#url = url;
    this.#fetch = options.fetch;
    this.#now = options.now;
  }

  /** Finds the key with this `kid`, fetching the set when it is stale or lacks the key and a fetch is allowed. */
  async lookup(kid: string): Promise<KeyLookup> {
    if (this.#keys === null || this.#now() >= this.#expiresAt) await this.#refresh();
    if (!this.#keys?.has(kid)) await this.#refresh();
    const key = this.#keys?.get(kid);
    if (key !== undefined) return { key };
    const failure = this.#lastFailure;
    if (this.#keys === null) {
      return {
        why: `the key set could not be fetched (${failure?.message ?? "not fetched yet"})`,
        cause: failure ?? undefined,
      };
    }
    const why = `its key "${quotable(kid)}" is not in the key set`;
    return failure === null
      ? { why }
      : { why: `${why}, and the last fetch of the set failed (${failure.message})`, cause: failure };
  }

  /** Fetches the set unless a fetch is under way (then waits for it) or one started less than a minute ago. */
  async #refresh(): Promise<void> {
    if (this.#pending !== null) return await this.#pending;
    if (this.#now() - this.#lastAttemptAt < REFETCH_INTERVAL_SECONDS * 1000) return;
    this.#lastAttemptAt = this.#now();
    this.#pending = this.#fetchSet().finally(() => this.#pending = null);
    await this.#pending;
  }

  async #fetchSet(): Promise<void> {
    try {
      const { keys, maxAgeSeconds } = await fetchKeySet(this.#url, this.#fetch);
      this.#keys = keys;
      this.#expiresAt = this.#now() + maxAgeSeconds * 1000;
      this.#lastFailure = null;
    } catch (error) {
      this.#lastFailure = error instanceof Error ? error : new Error(String(error));
    }
  }
}

/** Fetches and reads a key set; throws an `Error` whose message says briefly what went wrong. */
async function fetchKeySet(
  url: URL,
  fetchImpl: typeof globalThis.fetch,
): Promise<{ keys: Map<string, JwksKey>; maxAgeSeconds: number }> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { accept: "application/jwk-set+json, application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_SECONDS * 1000),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    throw new Error(timedOut ? `no answer within ${FETCH_TIMEOUT_SECONDS} s` : "cannot connect", { cause: error });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(await readLimited(response, MAX_JWKS_BYTES));
  } catch (error) {
    throw error instanceof RangeError ? error : new Error("the answer is not JSON", { cause: error });
  }
  return { keys: await readKeySet(body), maxAgeSeconds: cacheSeconds(response.headers.get("cache-control")) };
}

async function readLimited(response: Response, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body?.cancel().catch(() => {});
      throw new RangeError(`the answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** The usable keys of a parsed JWK set, by `kid`. */
export async function readKeySet(body: unknown): Promise<Map<string, JwksKey>> {
  if (!isObject(body) || !Array.isArray(body.keys)) throw new Error("the answer is not a JWK set");
  const keys = new Map<string, JwksKey>();
  for (const entry of body.keys) {
    const key = await usableKey(entry);
    if (key === null) continue;
    if (keys.has(key.kid)) throw new Error(`two keys of the set have kid "${quotable(key.kid)}"`);
    keys.set(key.kid, key);
  }
  return keys;
}

async function usableKey(entry: unknown): Promise<JwksKey | null> {
  if (!isObject(entry)) return null;
  const { kid, alg, kty, crv, x, y, use, key_ops: ops } = entry;
  if (typeof kid !== "string" || kid === "" || kid.length > 256) return null;
  if (use !== undefined && use !== "sig") return null;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes("verify"))) return null;
  if ("d" in entry) return null; // a private key has no place in a published set
  let jwk: Record<string, string>;
  if (alg === "EdDSA" && kty === "OKP" && crv === "Ed25519" && is32Bytes(x)) {
    jwk = { kty, crv, x };
  } else if (alg === "ES256" && kty === "EC" && crv === "P-256" && is32Bytes(x) && is32Bytes(y)) {
    jwk = { kty, crv, x, y };
  } else {
    return null;
  }
  try {
    const key = await importJWK(jwk, alg);
    return key instanceof CryptoKey && key.type === "public" ? { kid, alg, key } : null;
  } catch {
    return null;
  }
}

/** Seconds to keep a set, from the answer's `Cache-Control`. */
export function cacheSeconds(header: string | null): number {
  if (header === null) return DEFAULT_CACHE_SECONDS;
  const directives = header.toLowerCase().split(",").map((directive) => directive.trim());
  if (directives.includes("no-store") || directives.includes("no-cache")) return MIN_CACHE_SECONDS;
  for (const directive of directives) {
    const match = /^max-age="?(\d{1,12})"?$/.exec(directive);
    if (match) return Math.min(MAX_CACHE_SECONDS, Math.max(MIN_CACHE_SECONDS, Number(match[1])));
  }
  return DEFAULT_CACHE_SECONDS;
}

/** Whether a value is the base64url of 32 bytes, as an Ed25519 key and each P-256 coordinate are. */
function is32Bytes(value: unknown): value is string {
  try {
    return typeof value === "string" && base64url.decode(value).length === 32;
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
