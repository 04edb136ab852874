/**
 * Routes outside the auth bases: health, the `/me` alias, and the internal
 * token endpoint with its `/internal/token` alias (the internal shared key,
 * or a service client's credentials).
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { authorizeInternalKey, issueInternalToken } from "../lib/service/internal_token.ts";
import { VERSION } from "../lib/version.ts";
import { clientCredentialsToken, isFormEncoded } from "./client_credentials.ts";
import type { AppEnv } from "./env.ts";
import { internalTokenJson } from "./presenters.ts";
import { optionalString, optionalTtl, readJsonObject } from "./request.ts";
import { meHandler } from "./routes_user.ts";
import { singleFlight } from "./single_flight.ts";
import type { Store } from "../lib/store/store.ts";

/** What the root routes need besides the request's context. */
export interface RootRouteOptions {
  /** The store `/healthz` pings. */
  store: Store;
}

/** Root-level routes; mounted at `/` and under the route prefix. */
export function rootRoutes(options: RootRouteOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  // Concurrent probes share one ping.
  const ping = singleFlight(() => options.store.ping());

  routes.get("/healthz", async (c) => {
    const { store, sender } = c.get("ctx");
    try {
      await ping();
      return c.json({ ok: true, store: store.kind, otp_sender: sender.kind, version: VERSION });
    } catch (error) {
      c.get("log")({
        level: "warn",
        msg: "health check failed",
        request_id: c.get("requestId"),
        detail: error instanceof Error ? error.message.split("\n")[0] : String(error),
      });
      return c.json({ ok: false, store: store.kind, error: "store_unavailable" }, 503);
    }
  });

  routes.get("/me", meHandler);

  const internalToken = async (c: Context<AppEnv>) => {
    const ctx = c.get("ctx");
    const key = c.req.header("X-Bus-Internal-Key") ?? null;
    // OAuth2 client credentials (a form); with the internal key, the JSON bootstrap path whatever the Content-Type.
    if (key === null && isFormEncoded(c)) return await clientCredentialsToken(c);
    // The key is checked before the body is read: strangers learn nothing.
    authorizeInternalKey(ctx, key);
    const body = await readJsonObject(c);
    const grant = await issueInternalToken(ctx, key, {
      subject: optionalString(body, "subject"),
      audience: optionalString(body, "audience"),
      scope: optionalString(body, "scope"),
      ttlSeconds: optionalTtl(body, "ttl_seconds"),
    });
    c.set("issuedAudience", grant.claims.aud);
    return c.json(internalTokenJson(grant));
  };
  routes.post("/api/internal/auth/token", internalToken);
  routes.post("/internal/token", internalToken);

  return routes;
}
