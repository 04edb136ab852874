/**
 * The provider's Prometheus metrics: plain counters in memory, written out
 * in the text exposition format (version 0.0.4) by {@link ProviderMetrics.render}.
 * They are served only on the separate `BUS_AUTH_METRICS_LISTEN` listener
 * (`metrics_server.ts`), never on the public one.
 *
 * Labels are bounded and carry nothing personal: `route` is the canonical
 * pattern of the route that answered (`/api/v1/auth/admin/clients/{client_id}/rotate`,
 * the path of the OpenAPI document) or `unmatched`, never a raw path;
 * `method` is a standard method or `OTHER`; `status` an HTTP status;
 * `audience` one of the three audiences; `code` a rate-limit code. No label
 * holds an email, a token, an account id or a request path.
 *
 * What a request costs when metrics are on: Hono's list of the matched
 * routes (one small array), one map lookup and a few additions. When they
 * are off the app does not call in here at all.
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import { AUDIENCE, KNOWN_AUDIENCES } from "../lib/claims.ts";
import { RateLimitError, StoreUnavailableError } from "../lib/errors.ts";
import type { Store } from "../lib/store/store.ts";
import { VERSION } from "../lib/version.ts";
import type { AppEnv } from "./env.ts";
import { canonicalRoute } from "./route_names.ts";

/** Upper bounds (seconds) of the latency histogram buckets. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The codes of 429 answers, each counted. */
export const RATE_LIMIT_CODES: readonly string[] = ["rate_limited", "otp_resend_too_soon", "otp_locked"];

const STANDARD_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** What a 200 of some routes means besides the request itself. */
interface Outcome {
  login?: boolean;
  /** The audience of the token the route issued, or `from_context` when it varies (the internal endpoint). */
  audience?: string;
}

/** Routes whose success issues a token or completes a login, by `METHOD canonical-route`. */
const OUTCOMES: Readonly<Record<string, Outcome>> = {
  "POST /api/v1/auth/otp/verify": { login: true, audience: AUDIENCE.auth },
  "POST /api/v1/auth/token/refresh": { audience: AUDIENCE.auth },
  "POST /api/v1/auth/token": { audience: AUDIENCE.api },
  "POST /api/internal/auth/token": { audience: "from_context" },
};

/** The counters of one route pattern and method. */
class RouteSeries {
  readonly method: string;
  readonly route: string;
  readonly outcome: Outcome | undefined;
  readonly statuses = new Map<number, number>();
  /** Requests per bucket (not cumulative), the last one past every bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(method: string, route: string) {
    this.method = method;
    this.route = route;
    this.outcome = OUTCOMES[`${method} ${route}`];
  }

  observe(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
    this.buckets[bucket]++;
    this.sum += seconds;
    this.count++;
  }
}

/** Options of {@link ProviderMetrics}. */
export interface MetricsOptions {
  /** The route prefix the app serves under, removed from route labels. */
  routePrefix?: string | null;
  /** The store, for its pool statistics when it has a pool. */
  store?: Store;
}

/** Every counter of one provider process. */
export class ProviderMetrics {
  #routePrefix: string | null;
  #store: Store | null;
  /** Series by the route object Hono matched (stable for the app's lifetime). */
  #byRoute = new Map<object, RouteSeries>();
  #unmatched = new Map<string, RouteSeries>();
  /** Series of the routes the fast lane answers, by `METHOD registered-path`. */
  #byPath = new Map<string, RouteSeries>();
  #tokens = new Map<string, number>(KNOWN_AUDIENCES.map((audience) => [audience, 0]));
  #rateLimited = new Map<string, number>(RATE_LIMIT_CODES.map((code) => [code, 0]));
  otpSent = 0;
  otpFailed = 0;
  logins = 0;
  storeErrors = 0;

  constructor(options: MetricsOptions = {}) {
    this.#routePrefix = options.routePrefix ?? null;
    this.#store = options.store ?? null;
  }

  /** Counts one answered request; called by the app's first middleware with the time it took. */
  observeRequest(c: Context<AppEnv>, milliseconds: number): void {
    this.#observe(this.#seriesOf(c), c.res.status, milliseconds, c.get("issuedAudience"));
  }

  /**
   * Counts one request that the fast lane answered (`fast_lane.ts`), by the
   * path its route is registered under; it lands in the same series as the
   * route's requests that Hono answered. `issuedAudience`: the audience of
   * the token it issued, if any.
   */
  observeRoute(method: string, path: string, status: number, milliseconds: number, issuedAudience?: string): void {
    const key = `${method} ${path}`;
    let series = this.#byPath.get(key);
    if (series === undefined) {
      this.#byPath.set(key, series = new RouteSeries(method, canonicalRoute(path, this.#routePrefix)));
    }
    this.#observe(series, status, milliseconds, issuedAudience);
  }

  #observe(series: RouteSeries, status: number, milliseconds: number, issuedAudience: string | undefined): void {
    series.observe(status, milliseconds / 1000);
    const outcome = series.outcome;
    if (outcome === undefined || status !== 200) return;
    if (outcome.login) this.logins++;
    const audience = outcome.audience === "from_context" ? issuedAudience : outcome.audience;
    if (audience !== undefined) this.tokenIssued(audience);
  }

  /** Counts a token issued for `audience` (one of the known audiences; others are ignored). */
  tokenIssued(audience: string): void {
    const count = this.#tokens.get(audience);
    if (count !== undefined) this.#tokens.set(audience, count + 1);
  }

  /** Counts what a failed request says about rate limits and the store; called from `app.onError`. */
  failed(error: unknown): void {
    const domain = error instanceof HTTPException ? error.cause : error;
    if (domain instanceof StoreUnavailableError) this.storeErrors++;
    if (domain instanceof RateLimitError) {
      const count = this.#rateLimited.get(domain.code);
      if (count !== undefined) this.#rateLimited.set(domain.code, count + 1);
    }
  }

  #seriesOf(c: Context<AppEnv>): RouteSeries {
    const routes = matchedRoutes(c);
    const route = routes[routes.length - 1];
    // Only middleware (method ALL) matched: no route serves this path.
    if (route === undefined || route.method === "ALL") {
      const method = STANDARD_METHODS.has(c.req.method) ? c.req.method : "OTHER";
      let series = this.#unmatched.get(method);
      if (series === undefined) this.#unmatched.set(method, series = new RouteSeries(method, "unmatched"));
      return series;
    }
    let series = this.#byRoute.get(route);
    if (series === undefined) {
      series = new RouteSeries(route.method, canonicalRoute(route.path, this.#routePrefix));
      this.#byRoute.set(route, series);
    }
    return series;
  }

  /** The exposition text (`text/plain; version=0.0.4`). */
  render(): string {
    const out: string[] = [];
    const series = [...this.#byRoute.values(), ...this.#byPath.values(), ...this.#unmatched.values()];
    // Aliases and the route prefix share their canonical route's series in the output.
    const merged = mergeByLabel(series);
    family(out, "bus_auth_http_requests_total", "counter", "HTTP requests answered, by route pattern and status.");
    for (const entry of merged) {
      for (const [status, count] of [...entry.statuses].sort((a, b) => a[0] - b[0])) {
        out.push(sample("bus_auth_http_requests_total", { ...entry.labels, status: String(status) }, count));
      }
    }
    family(
      out,
      "bus_auth_http_request_duration_seconds",
      "histogram",
      "Time the provider took to answer, from the request head to the response, by route pattern.",
    );
    for (const entry of merged) {
      let cumulative = 0;
      for (const [index, bound] of LATENCY_BUCKETS.entries()) {
        cumulative += entry.buckets[index];
        out.push(
          sample("bus_auth_http_request_duration_seconds_bucket", { ...entry.labels, le: String(bound) }, cumulative),
        );
      }
      out.push(sample("bus_auth_http_request_duration_seconds_bucket", { ...entry.labels, le: "+Inf" }, entry.count));
      out.push(sample("bus_auth_http_request_duration_seconds_sum", entry.labels, entry.sum));
      out.push(sample("bus_auth_http_request_duration_seconds_count", entry.labels, entry.count));
    }
    family(out, "bus_auth_otp_sent_total", "counter", "OTP codes handed to the OTP sender.");
    out.push(sample("bus_auth_otp_sent_total", {}, this.otpSent));
    family(out, "bus_auth_otp_send_failures_total", "counter", "OTP codes the sender could not deliver (502).");
    out.push(sample("bus_auth_otp_send_failures_total", {}, this.otpFailed));
    family(out, "bus_auth_logins_total", "counter", "Sign-ins: OTP codes verified.");
    out.push(sample("bus_auth_logins_total", {}, this.logins));
    family(out, "bus_auth_tokens_issued_total", "counter", "Tokens issued, by audience.");
    for (const [audience, count] of this.#tokens) out.push(sample("bus_auth_tokens_issued_total", { audience }, count));
    family(out, "bus_auth_rate_limited_total", "counter", "Requests refused with 429, by code.");
    for (const [code, count] of this.#rateLimited) out.push(sample("bus_auth_rate_limited_total", { code }, count));
    family(out, "bus_auth_store_errors_total", "counter", "Requests answered 503 store_unavailable.");
    out.push(sample("bus_auth_store_errors_total", {}, this.storeErrors));
    const pool = this.#store?.poolStats?.();
    if (pool !== undefined) {
      family(out, "bus_auth_store_pool_max_connections", "gauge", "Size of the store's connection pool.");
      out.push(sample("bus_auth_store_pool_max_connections", {}, pool.max));
      family(out, "bus_auth_store_pool_open_connections", "gauge", "Connections to the store open now.");
      out.push(sample("bus_auth_store_pool_open_connections", {}, pool.open));
      family(
        out,
        "bus_auth_store_operations_in_flight",
        "gauge",
        "Store operations running or waiting for a connection now.",
      );
      out.push(sample("bus_auth_store_operations_in_flight", {}, pool.inFlight));
    }
    const cache = this.#store?.cacheStats?.();
    if (cache !== undefined) {
      family(out, "bus_auth_cache_reads_total", "counter", "Reads of token checks, by how the cache answered them.");
      out.push(sample("bus_auth_cache_reads_total", { result: "hit" }, cache.hits));
      out.push(sample("bus_auth_cache_reads_total", { result: "miss" }, cache.misses));
      out.push(sample("bus_auth_cache_reads_total", { result: "bypassed" }, cache.bypassed));
      family(out, "bus_auth_cache_entries", "gauge", "Values the cache of token checks keeps now.");
      out.push(sample("bus_auth_cache_entries", {}, cache.size));
      family(
        out,
        "bus_auth_cache_entries_per_kind_limit",
        "gauge",
        "Most values the cache keeps of each kind: sessions, users, accounts, clients, revoked ids asked one by one (BUS_AUTH_CACHE_ENTRIES).",
      );
      out.push(sample("bus_auth_cache_entries_per_kind_limit", {}, cache.maxEntries));
      family(
        out,
        "bus_auth_cache_trusted",
        "gauge",
        "1 while the cache is proven current by its change feed, 0 while every read asks the database.",
      );
      out.push(sample("bus_auth_cache_trusted", {}, cache.trusted ? 1 : 0));
      family(
        out,
        "bus_auth_cache_revocation_list_held",
        "gauge",
        "1 while token checks answer revocations from the whole list of revoked ids, 0 while they ask for each id.",
      );
      out.push(sample("bus_auth_cache_revocation_list_held", {}, cache.revokedIds === null ? 0 : 1));
      family(out, "bus_auth_cache_revoked_ids", "gauge", "Revoked token ids in the list held; 0 while none is held.");
      out.push(sample("bus_auth_cache_revoked_ids", {}, cache.revokedIds ?? 0));
    }
    family(out, "bus_auth_build_info", "gauge", "The provider's version and store backend; always 1.");
    out.push(sample("bus_auth_build_info", { version: VERSION, store: this.#store?.kind ?? "unknown" }, 1));
    return `${out.join("\n")}\n`;
  }
}

/** Series of one label set, summed over the route objects that share it. */
interface MergedSeries {
  labels: Record<string, string>;
  statuses: Map<number, number>;
  buckets: Float64Array;
  sum: number;
  count: number;
}

function mergeByLabel(series: RouteSeries[]): MergedSeries[] {
  const merged = new Map<string, MergedSeries>();
  for (const one of series) {
    const key = `${one.method} ${one.route}`;
    let entry = merged.get(key);
    if (entry === undefined) {
      entry = {
        labels: { method: one.method, route: one.route },
        statuses: new Map(),
        buckets: new Float64Array(one.buckets.length),
        sum: 0,
        count: 0,
      };
      merged.set(key, entry);
    }
    for (const [status, count] of one.statuses) entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + count);
    for (const [index, count] of one.buckets.entries()) entry.buckets[index] += count;
    entry.sum += one.sum;
    entry.count += one.count;
  }
  return [...merged.values()].sort((a, b) =>
    a.labels.route === b.labels.route
      ? a.labels.method.localeCompare(b.labels.method)
      : a.labels.route.localeCompare(b.labels.route)
  );
}

function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([key, text]) => `${key}="${escapeLabel(text)}"`);
  return `${name}${pairs.length === 0 ? "" : `{${pairs.join(",")}}`} ${formatValue(value)}`;
}

/** Label values escape backslash, double quote and line feed (the exposition format's rule). */
function escapeLabel(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}
