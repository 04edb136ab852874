/**
 * `createApp(deps)`: the Hono application of the auth provider, with every
 * route of DESIGN §2 at the root and under the optional route prefix.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { type Cidr, resolveClientIp } from "../lib/ip.ts";
import type { RelayWatch } from "../lib/otp/relay_watch.ts";
import { type AuthContext, withOrigin } from "../lib/service/context.ts";
import { bodyGuard } from "./body_guard.ts";
import type { AppEnv, Logger } from "./env.ts";
import { errorResponse } from "./error_response.ts";
import type { ProviderMetrics } from "./metrics.ts";
import { adminRoutes } from "./routes_admin.ts";
import { auditRoutes } from "./routes_audit.ts";
import { clientRoutes } from "./routes_clients.ts";
import { healthRoutes } from "./routes_health.ts";
import { openApiRoutes } from "./routes_openapi.ts";
import { policyRoutes } from "./routes_policy.ts";
import { rootRoutes } from "./routes_root.ts";
import { userRoutes } from "./routes_user.ts";
import { wellKnownRoutes } from "./routes_well_known.ts";

/** The auth bases of DESIGN §2 (`{A}`). */
export const AUTH_BASES: readonly string[] = ["/api/v1/auth", "/modules/auth", "/auth"];

/** What the application is built from. */
export interface AppDeps {
  ctx: AuthContext;
  /** Counts every request for the Prometheus metrics; absent or `null`: metrics off, nothing is counted. */
  metrics?: ProviderMetrics | null;
  /** The SMTP relay's watch, for `/readyz`; absent or `null` when the OTP sender reaches no relay. */
  relay?: RelayWatch | null;
  /** Extra prefix, such as `/local-dev/v1`, under which every route is served too. */
  routePrefix?: string | null;
  /** Largest request body in bytes (default 65536). */
  maxBodyBytes?: number;
  /** Seconds a request body may take to arrive (default 30). */
  bodyTimeoutSeconds?: number;
  /** Proxies whose `X-Forwarded-For` is believed. */
  trustedProxies?: readonly Cidr[];
  /** Receives one record per request and per failure (default: discard). */
  log?: Logger;
  /** `BUS_AUTH_PUBLIC_URL` for the discovery document; `null` or absent: each request's origin. */
  publicUrl?: string | null;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Adds the headers every answer carries to the route's answer: its request
 * id, `nosniff`, and `Cache-Control: no-store` unless the route chose a
 * policy (the public key set is cacheable). They are added to the finished
 * answer rather than set on the context before the route: a `Response`
 * built with any header besides `Content-Type` makes Deno 2.9 build its
 * native form at once, about 4 µs (0.3 µs without), while headers added
 * afterwards cost about 0.2 µs and are sent as well
 * (`bench/http_bench.ts`, row `ceiling`).
 */
export function withCommonHeaders(c: Context<AppEnv>, requestId: string): void {
  let headers: Headers;
  try {
    headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
  } catch {
    // An answer with immutable headers (none of the routes makes one): answer a copy.
    c.res = new Response(c.res.body, c.res);
    headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
  }
  headers.set("X-Content-Type-Options", "nosniff");
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
}

/**
 * Builds the application. Tests call `app.request()` on it; `serve` hands it
 * to `Deno.serve` with the peer address as env.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const log = deps.log ?? (() => {});
  const trusted = deps.trustedProxies ?? [];
  const maxSize = deps.maxBodyBytes ?? 65536;
  const metrics = deps.metrics ?? null;
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("X-Request-Id");
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const peer = c.env?.remoteAddr?.hostname ?? "unknown";
    const forwarded = trusted.length === 0 ? null : c.req.header("X-Forwarded-For") ?? null;
    const clientIp = resolveClientIp(peer, forwarded, trusted);
    c.set("ctx", withOrigin(deps.ctx, { requestId, sourceIp: clientIp }));
    c.set("requestId", requestId);
    c.set("clientIp", clientIp);
    c.set("log", log);
    await next();
    withCommonHeaders(c, requestId);
    const elapsed = performance.now() - started;
    log({
      level: "info",
      msg: "request",
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round(elapsed * 100) / 100,
      client_ip: clientIp,
    });
    metrics?.observeRequest(c, elapsed);
  });

  app.use(bodyGuard({ maxBytes: maxSize, timeoutSeconds: deps.bodyTimeoutSeconds ?? 30 }));

  const prefixes = deps.routePrefix ? ["", deps.routePrefix] : [""];
  const user = userRoutes();
  const admin = adminRoutes();
  const root = rootRoutes({ store: deps.ctx.store });
  const probes = healthRoutes({ relay: deps.relay ?? null, store: deps.ctx.store });
  const openApi = openApiRoutes({ routePrefix: deps.routePrefix ?? null });
  for (const prefix of prefixes) {
    for (const base of AUTH_BASES) {
      app.route(prefix + base, user);
      app.route(prefix + base, admin);
      app.route(prefix + base, clientRoutes());
      app.route(prefix + base, policyRoutes());
      app.route(prefix + base, auditRoutes());
    }
    app.route(prefix || "/", probes);
    app.route(prefix || "/", openApi);
    app.route(prefix || "/", root);
    app.route(prefix || "/", wellKnownRoutes({ prefix, bases: AUTH_BASES, publicUrl: deps.publicUrl ?? null }));
  }

  app.notFound((c) =>
    c.json({ error: "not_found", message: `No route for ${c.req.method} ${c.req.path.slice(0, 200)}` }, 404)
  );
  app.onError(
    metrics === null ? errorResponse : (error, c) => {
      metrics.failed(error);
      return errorResponse(error, c);
    },
  );
  return app;
}
