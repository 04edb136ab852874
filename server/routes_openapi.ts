/**
 * `GET /openapi.json`, at the root and under the route prefix: the OpenAPI
 * 3.1 document of every route (`openapi/document.ts`). The document and
 * its libraries (`@hono/zod-openapi`, zod) are loaded on the first request
 * and the document is kept, so neither start-up nor any other request pays
 * for them.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppEnv } from "./env.ts";

/** Options of {@link openApiRoutes}. */
export interface OpenApiRouteOptions {
  routePrefix: string | null;
}

/** The document route; mounted at `/` and under the route prefix. */
export function openApiRoutes(options: OpenApiRouteOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  let document: Promise<string> | null = null;
  routes.get("/openapi.json", async (c) => {
    document ??= import("./openapi/document.ts").then((module) =>
      JSON.stringify(module.openApiDocument({ routePrefix: options.routePrefix }))
    );
    document.catch(() => document = null);
    c.header("Content-Type", "application/json; charset=UTF-8");
    return c.body(await document);
  });
  return routes;
}
