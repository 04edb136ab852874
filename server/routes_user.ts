/**
 * The end-user routes below each auth base (`/api/v1/auth`, `/modules/auth`,
 * `/auth`): register, OTP, session, API token, introspection.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { getQueryParam } from "hono/utils/url";
import type { AuthContext } from "../lib/service/context.ts";
import { issueApiToken } from "../lib/service/api_token.ts";
import { checkToken } from "../lib/service/check.ts";
import { enforceIpRateLimit } from "../lib/service/rate_limit.ts";
import { register, requestOtp, verifyOtp } from "../lib/service/registration.ts";
import { authenticateSession, endSession, refreshSession } from "../lib/service/session.ts";
import type { AppEnv } from "./env.ts";
import { jsonAnswer } from "./envelope.ts";
import { apiTokenJson, claimsJson, meJson, registrationJson, sessionJson, statusJson } from "./presenters.ts";
import { bearerToken, bearerTokenOf, type JsonBody, optionalTtl, readJsonObject, requireString } from "./request.ts";

/** `GET {A}/me`, also served as `GET /me`. */
export async function meHandler(c: Context<AppEnv>): Promise<Response> {
  const { user } = await authenticateSession(c.get("ctx"), bearerToken(c));
  return c.json(meJson(user));
}

/** `GET {A}/status`: the JSON body of the answer; Hono's route and the fast lane (`fast_lane.ts`) both call it. */
export async function statusAnswer(ctx: AuthContext, request: Request): Promise<ReturnType<typeof statusJson>> {
  const { user } = await authenticateSession(ctx, bearerTokenOf(request.headers.get("Authorization")));
  return statusJson(user);
}

/** `GET {A}/check[?audience=…&scope=…]`: the JSON body of the answer, for Hono's route and the fast lane. */
export async function checkAnswer(ctx: AuthContext, request: Request): Promise<ReturnType<typeof claimsJson>> {
  const url = request.url;
  const claims = await checkToken(ctx, bearerTokenOf(request.headers.get("Authorization")), {
    audience: queryValue(url, "audience"),
    scope: queryValue(url, "scope"),
  });
  return claimsJson(claims);
}

/** `POST {A}/token`: the JSON body of the answer, for Hono's route and the fast lane; `body()` reads the request's. */
export async function tokenAnswer(
  ctx: AuthContext,
  request: Request,
  body: () => Promise<JsonBody>,
): Promise<ReturnType<typeof apiTokenJson>> {
  const token = bearerTokenOf(request.headers.get("Authorization"));
  const fields = await body();
  const issued = await issueApiToken(ctx, token, {
    scope: requireString(fields, "scope"),
    ttlSeconds: optionalTtl(fields, "ttl_seconds"),
  });
  return apiTokenJson(issued);
}

/** A query parameter read as Hono's `c.req.query(name)` reads it (its first value). */
function queryValue(url: string, name: string): string | undefined {
  return getQueryParam(url, name) as string | undefined;
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
    return jsonAnswer(sessionJson(grant));
  });

  routes.get("/status", async (c) => c.json(await statusAnswer(c.get("ctx"), c.req.raw)));

  routes.get("/me", meHandler);

  routes.post("/token", async (c) => jsonAnswer(await tokenAnswer(c.get("ctx"), c.req.raw, () => readJsonObject(c))));

  routes.post("/token/refresh", async (c) => {
    return jsonAnswer(sessionJson(await refreshSession(c.get("ctx"), bearerToken(c))));
  });

  routes.post("/logout", async (c) => {
    await endSession(c.get("ctx"), bearerToken(c));
    return c.body(null, 204);
  });

  routes.get("/check", async (c) => c.json(await checkAnswer(c.get("ctx"), c.req.raw)));

  return routes;
}
