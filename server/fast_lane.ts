/**
 * The fast lane: the bodyless `GET` routes that Bus APIs call on every
 * request they serve (`{A}/check`, `{A}/status`) are answered without
 * Hono's dispatch. Dispatch (its context, router, middleware chain and
 * promises) cost about 5 µs of CPU a request under load, a sixth of a
 * `check` (`docs/BENCHMARKS.md`).
 *
 * The lane changes nothing a client or an operator sees. It calls the same
 * answer functions as Hono's routes, answers errors through the same
 * mapping (`errorAnswer`), and gives every answer the same envelope: the
 * request id, the common headers, one log line, the same metrics series.
 * Everything else goes to Hono: other paths and methods (`HEAD` too), and a
 * `GET` that declares a body (`Content-Length` or chunked framing), which
 * the body guard judges.
 *
 * @module
 */

import type { Hono } from "hono";
import { getPath } from "hono/utils/url";
import type { Cidr } from "../lib/ip.ts";
import { type AuthContext, withOrigin } from "../lib/service/context.ts";
import { declaresNoBody } from "./body_guard.ts";
import type { AppEnv, ConnectionInfo, Logger } from "./env.ts";
import { requestOrigin, requestRecord, withCommonHeaders } from "./envelope.ts";
import { errorAnswerResponse } from "./error_response.ts";
import type { ProviderMetrics } from "./metrics.ts";

/** A route of the lane: the JSON body of its `200` answer; anything it throws is answered as an error. */
export type LaneAnswer = (ctx: AuthContext, request: Request) => Promise<unknown>;

/** What the lane answers with. */
export interface FastLaneOptions {
  /** The lane's `GET` routes, by exact path as Hono's router reads it (`getPath`). */
  routes: ReadonlyMap<string, LaneAnswer>;
  ctx: AuthContext;
  log: Logger;
  metrics: ProviderMetrics | null;
  trustedProxies: readonly Cidr[];
}

/**
 * Puts the lane in front of `app.fetch`, which `Deno.serve` and
 * `app.request()` (the tests) both call.
 */
export function withFastLane(app: Hono<AppEnv>, options: FastLaneOptions): Hono<AppEnv> {
  const { routes, ctx, log, metrics, trustedProxies } = options;
  const general = app.fetch;

  const answerInLane = async (request: Request, env: unknown, path: string, answer: LaneAnswer) => {
    const started = performance.now();
    const peer = (env as ConnectionInfo | undefined)?.remoteAddr?.hostname ?? "unknown";
    const origin = requestOrigin(request, peer, trustedProxies);
    let response: Response;
    try {
      const body = await answer(withOrigin(ctx, { requestId: origin.requestId, sourceIp: origin.clientIp }), request);
      response = new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    } catch (error) {
      metrics?.failed(error);
      response = errorAnswerResponse(error, log, origin.requestId);
    }
    response = withCommonHeaders(response, origin.requestId);
    const elapsed = performance.now() - started;
    log(requestRecord(origin, "GET", path, response.status, elapsed));
    metrics?.observeRoute("GET", path, response.status, elapsed);
    return response;
  };

  app.fetch = (request, env, executionCtx) => {
    if (request.method === "GET") {
      const path = getPath(request);
      const answer = routes.get(path);
      if (answer !== undefined && declaresNoBody(request)) return answerInLane(request, env, path, answer);
    }
    return general(request, env, executionCtx);
  };
  return app;
}
