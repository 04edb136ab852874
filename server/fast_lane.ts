/**
 * The fast lane: the routes that Bus APIs and their services call on every
 * request or token they need (`GET {A}/check`, `GET {A}/status`,
 * `POST {A}/token`, `POST /api/internal/auth/token` with its key) are
 * answered without Hono's dispatch. Dispatch (its context, router,
 * middleware chain, body guard and promises) cost about 3-5 µs of CPU a
 * `check` and 8-10 µs a `POST {A}/token` under load (`docs/BENCHMARKS.md`).
 *
 * The lane changes nothing a client or an operator sees. It calls the same
 * answer functions as Hono's routes and makes their answers the same way
 * (`jsonAnswer()`: an issued token's is chunked, to leave in one write),
 * reads a body within the body guard's limits and answers a late or broken
 * one as the guard does, answers errors through the same mapping
 * (`errorAnswer`), and gives every answer the same envelope: the request
 * id, the common headers, one log line, the same metrics series.
 * Everything else goes to Hono: other paths and methods (`HEAD` too), a
 * `GET` that declares a body, a `POST` whose body is chunked, undeclared or
 * over the limit (the guard judges those), and a request a route does not
 * accept (the internal endpoint's form posts of OAuth2 clients).
 *
 * @module
 */

import type { Hono } from "hono";
import { getPath } from "hono/utils/url";
import type { Cidr } from "../lib/ip.ts";
import { type AuthContext, withOrigin } from "../lib/service/context.ts";
import { type BodyFailure, declaresLengthWithin, declaresNoBody, readDeclared } from "./body_guard.ts";
import type { AppEnv, ConnectionInfo, Logger } from "./env.ts";
import { jsonAnswer, requestOrigin, requestRecord, withCommonHeaders } from "./envelope.ts";
import { errorAnswerResponse } from "./error_response.ts";
import type { ProviderMetrics } from "./metrics.ts";
import { type JsonBody, parseJsonObject } from "./request.ts";

/**
 * A route of the lane: the JSON body of its `200` answer; anything it
 * throws is answered as an error. `body()` parses the request's body,
 * already read, as a JSON object, as Hono's routes read it (`readJsonObject`).
 */
export type LaneAnswer = (ctx: AuthContext, request: Request, body: () => Promise<JsonBody>) => Promise<unknown>;

/** A route of the lane. */
export interface LaneRoute {
  answer: LaneAnswer;
  /** Only the requests it accepts take the lane (default: all of them); the others go to Hono. */
  accepts?: (request: Request) => boolean;
}

/** What the lane answers with. */
export interface FastLaneOptions {
  /** The lane's routes by `METHOD path`, the path exact as Hono's router reads it (`getPath`); GET and POST only. */
  routes: ReadonlyMap<string, LaneRoute>;
  ctx: AuthContext;
  log: Logger;
  metrics: ProviderMetrics | null;
  trustedProxies: readonly Cidr[];
  /** The body guard's limits (`body_guard.ts`), which the lane applies to the bodies it reads. */
  maxBodyBytes: number;
  bodyTimeoutSeconds: number;
}

/**
 * Puts the lane in front of `app.fetch`, which `Deno.serve` and
 * `app.request()` (the tests) both call.
 */
export function withFastLane(app: Hono<AppEnv>, options: FastLaneOptions): Hono<AppEnv> {
  const { routes, ctx, log, metrics, trustedProxies, maxBodyBytes, bodyTimeoutSeconds } = options;
  const general = app.fetch;

  const answerInLane = async (request: Request, env: unknown, method: string, path: string, answer: LaneAnswer) => {
    const started = performance.now();
    const connection = env as ConnectionInfo | undefined;
    const origin = requestOrigin(request, connection?.remoteAddr?.hostname ?? "unknown", trustedProxies);
    let refused: BodyFailure | null = null;
    let response: Response;
    let json: unknown;
    try {
      // Read before the route, as the body guard reads it: a late or broken body is answered as such.
      let text = "";
      if (method === "POST") {
        const read = await readDeclared(request.text(), bodyTimeoutSeconds);
        if (typeof read !== "string") throw (refused = read).error;
        text = read;
      }
      const scoped = withOrigin(ctx, { requestId: origin.requestId, sourceIp: origin.clientIp });
      json = await answer(scoped, request, () => Promise.resolve(parseJsonObject(text)));
      response = jsonAnswer(json);
    } catch (error) {
      metrics?.failed(error);
      response = errorAnswerResponse(error, log, origin.requestId);
    }
    if (refused !== null) {
      connection?.closeConnection?.({ bodyLeft: refused.bodyLeft });
      response.headers.set("Connection", "close");
    }
    response = withCommonHeaders(response, origin.requestId);
    const elapsed = performance.now() - started;
    log(requestRecord(origin, method, path, response.status, elapsed));
    metrics?.observeRoute(method, path, response.status, elapsed, issuedAudience(json));
    return response;
  };

  app.fetch = (request, env, executionCtx) => {
    const method = request.method;
    if (method === "GET" || method === "POST") {
      const path = getPath(request);
      const route = routes.get(`${method} ${path}`);
      if (
        route !== undefined && (route.accepts?.(request) ?? true) &&
        (method === "GET" ? declaresNoBody(request) : declaresLengthWithin(request, maxBodyBytes))
      ) return answerInLane(request, env, method, path, route.answer);
    }
    return general(request, env, executionCtx);
  };
  return app;
}

/** The `audience` of an answer that issued a token, for the metrics. */
function issuedAudience(json: unknown): string | undefined {
  const audience = (json as { audience?: unknown } | undefined)?.audience;
  return typeof audience === "string" ? audience : undefined;
}
