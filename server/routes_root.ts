/**
 * Routes outside the auth bases: health, the `/me` alias, and the internal
 * token endpoint with its `/internal/token` alias (the internal shared key,
 * or a service client's credentials).
 *
 * @module
 */

import { type Context, Hono } from "hono";
import type { AuthContext } from "../lib/service/context.ts";
import { authorizeInternalKey, issueInternalToken } from "../lib/service/internal_token.ts";
import { VERSION } from "../lib/version.ts";
import { clientCredentialsToken, isFormEncoded } from "./client_credentials.ts";
import type { AppEnv } from "./env.ts";
import { jsonAnswer } from "./envelope.ts";
import { internalTokenJson } from "./presenters.ts";
import { type JsonBody, optionalString, optionalTtl, readJsonObject } from "./request.ts";
import { meHandler } from "./routes_user.ts";
import { singleFlight } from "./single_flight.ts";
import type { Store } from "../lib/store/store.ts";

/**
 * `POST /api/internal/auth/token` with `X-Bus-Internal-Key`: the JSON body
 * of the answer, for Hono's route and the fast lane; `body()` reads the
 * request's. The key is checked before the body is parsed: strangers learn
 * nothing.
 */
export async function internalTokenAnswer(
  ctx: AuthContext,
  request: Request,
  body: () => Promise<JsonBody>,
): Promise<ReturnType<typeof internalTokenJson>> {
  const key = request.headers.get("X-Bus-Internal-Key");
  authorizeInternalKey(ctx, key);
  const fields = await body();
  const grant = await issueInternalToken(ctx, key, {
    subject: optionalString(fields, "subject"),
    audience: optionalString(fields, "audience"),
    scope: optionalString(fields, "scope"),
    ttlSeconds: optionalTtl(fields, "ttl_seconds"),
  });
  return internalTokenJson(grant);
}

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
    const json = await internalTokenAnswer(ctx, c.req.raw, () => readJsonObject(c));
    c.set("issuedAudience", json.audience);
    return jsonAnswer(json);
  };
  routes.post("/api/internal/auth/token", internalToken);
  routes.post("/internal/token", internalToken);

  return routes;
}
