/**
 * `createApp(deps)`: the Hono application of the auth provider, with every
 * route of DESIGN §2 at the root and under the optional route prefix.
 *
 * @module
 */

import { Hono } from "hono";
import type { Cidr } from "../lib/ip.ts";
import type { RelayWatch } from "../lib/otp/relay_watch.ts";
import { type AuthContext, withOrigin } from "../lib/service/context.ts";
import { bodyGuard } from "./body_guard.ts";
import type { AppEnv, Logger } from "./env.ts";
import { requestOrigin, requestRecord, withCommonHeaders } from "./envelope.ts";
import { errorResponse } from "./error_response.ts";
import { type LaneRoute, withFastLane } from "./fast_lane.ts";
import type { ProviderMetrics } from "./metrics.ts";
import { adminRoutes } from "./routes_admin.ts";
import { auditRoutes } from "./routes_audit.ts";
import { clientRoutes } from "./routes_clients.ts";
import { healthRoutes } from "./routes_health.ts";
import { openApiRoutes } from "./routes_openapi.ts";
import { policyRoutes } from "./routes_policy.ts";
import { internalTokenAnswer, rootRoutes } from "./routes_root.ts";
import { checkAnswer, statusAnswer, tokenAnswer, userRoutes } from "./routes_user.ts";
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
  /** `false`: every request goes through Hono, none through the fast lane (`fast_lane.ts`); tests compare the two. */
  fastLane?: boolean;
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
    const origin = requestOrigin(c.req.raw, c.env?.remoteAddr?.hostname ?? "unknown", trusted);
    c.set("ctx", withOrigin(deps.ctx, { requestId: origin.requestId, sourceIp: origin.clientIp }));
    c.set("requestId", origin.requestId);
    c.set("clientIp", origin.clientIp);
    c.set("log", log);
    await next();
    const answer = withCommonHeaders(c.res, origin.requestId);
    if (answer !== c.res) c.res = answer;
    const elapsed = performance.now() - started;
    log(requestRecord(origin, c.req.method, c.req.path, c.res.status, elapsed));
    metrics?.observeRequest(c, elapsed);
  });

  const bodyTimeoutSeconds = deps.bodyTimeoutSeconds ?? 30;
  app.use(bodyGuard({ maxBytes: maxSize, timeoutSeconds: bodyTimeoutSeconds }));

  const prefixes = deps.routePrefix ? ["", deps.routePrefix] : [""];
  const user = userRoutes();
  const admin = adminRoutes();
  const root = rootRoutes({ store: deps.ctx.store });
  const probes = healthRoutes({ relay: deps.relay ?? null, store: deps.ctx.store });
  const openApi = openApiRoutes({ routePrefix: deps.routePrefix ?? null });
  // The fast lane's routes (fast_lane.ts), registered beside Hono's on every prefix and base.
  const lane = new Map<string, LaneRoute>();
  const withKey = (request: Request) => request.headers.has("X-Bus-Internal-Key");
  for (const prefix of prefixes) {
    for (const base of AUTH_BASES) {
      app.route(prefix + base, user);
      app.route(prefix + base, admin);
      app.route(prefix + base, clientRoutes());
      app.route(prefix + base, policyRoutes());
      app.route(prefix + base, auditRoutes());
      lane.set(`GET ${prefix}${base}/check`, { answer: checkAnswer });
      lane.set(`GET ${prefix}${base}/status`, { answer: statusAnswer });
      lane.set(`POST ${prefix}${base}/token`, { answer: tokenAnswer });
    }
    for (const path of ["/api/internal/auth/token", "/internal/token"]) {
      lane.set(`POST ${prefix}${path}`, { answer: internalTokenAnswer, accepts: withKey });
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
  if (deps.fastLane === false) return app;
  return withFastLane(app, {
    routes: lane,
    ctx: deps.ctx,
    log,
    metrics,
    trustedProxies: trusted,
    maxBodyBytes: maxSize,
    bodyTimeoutSeconds,
  });
}
