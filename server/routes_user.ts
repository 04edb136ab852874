/**
 * The end-user routes below each auth base (`/api/v1/auth`, `/modules/auth`,
 * `/auth`): register, OTP, session, API token, introspection.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { issueApiToken } from "../lib/service/api_token.ts";
import { checkToken } from "../lib/service/check.ts";
import { enforceIpRateLimit } from "../lib/service/rate_limit.ts";
import { register, requestOtp, verifyOtp } from "../lib/service/registration.ts";
import { authenticateSession, endSession, refreshSession } from "../lib/service/session.ts";
import type { AppEnv } from "./env.ts";
import { apiTokenJson, claimsJson, meJson, registrationJson, sessionJson, statusJson } from "./presenters.ts";
import { bearerToken, optionalTtl, readJsonObject, requireString } from "./request.ts";

/** `GET {A}/me`, also served as `GET /me`. */
export async function meHandler(c: Context<AppEnv>): Promise<Response> {
  const { user } = await authenticateSession(c.get("ctx"), bearerToken(c));
  return c.json(meJson(user));
}

/** Routes of one auth base; mounted several times by `createApp`. */
export function userRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.post("/register", async (c) => {
    const ctx = c.get("ctx");
    await enforceIpRateLimit(ctx, c.get("clientIp"));
    const body = await readJsonObject(c);
    return c.json(registrationJson(await register(ctx, requireString(body, "email"))));
  });

  routes.post("/otp/request", async (c) => {
    const ctx = c.get("ctx");
    await enforceIpRateLimit(ctx, c.get("clientIp"));
    const body = await readJsonObject(c);
    const expiresIn = await requestOtp(ctx, requireString(body, "email"));
    return c.json({ status: "sent", expires_in: expiresIn });
  });

  routes.post("/otp/verify", async (c) => {
    const ctx = c.get("ctx");
    await enforceIpRateLimit(ctx, c.get("clientIp"));
    const body = await readJsonObject(c);
    const grant = await verifyOtp(ctx, requireString(body, "email"), requireString(body, "otp"));
    return c.json(sessionJson(grant));
  });

  routes.get("/status", async (c) => {
    const { user } = await authenticateSession(c.get("ctx"), bearerToken(c));
    return c.json(statusJson(user));
  });

  routes.get("/me", meHandler);

  routes.post("/token", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c);
    const issued = await issueApiToken(c.get("ctx"), token, {
      scope: requireString(body, "scope"),
      ttlSeconds: optionalTtl(body, "ttl_seconds"),
    });
    return c.json(apiTokenJson(issued));
  });

  routes.post("/token/refresh", async (c) => {
    return c.json(sessionJson(await refreshSession(c.get("ctx"), bearerToken(c))));
  });

  routes.post("/logout", async (c) => {
    await endSession(c.get("ctx"), bearerToken(c));
    return c.body(null, 204);
  });

  routes.get("/check", async (c) => {
    const claims = await checkToken(c.get("ctx"), bearerToken(c), {
      audience: c.req.query("audience"),
      scope: c.req.query("scope"),
    });
    return c.json(claimsJson(claims));
  });

  return routes;
}
