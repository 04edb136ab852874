/**
 * OpenAPI descriptions of the routes outside the auth bases: the health
 * probes and the document itself.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, Health, Live, NotReady, Ready, Unhealthy } from "./schemas.ts";
import { ok } from "./operations_user.ts";

/** The root routes. */
export const ROOT_OPERATIONS = [
  createRoute({
    method: "get",
    path: "/healthz",
    operationId: "healthz",
    tags: ["health"],
    summary: "The store answers (bus-api-provider-auth healthcheck asks this)",
    responses: {
      ...ok(Health, "Healthy"),
      503: { description: "The store does not answer", content: { "application/json": { schema: Unhealthy } } },
    },
  }),
  createRoute({
    method: "get",
    path: "/livez",
    operationId: "livez",
    tags: ["health"],
    summary: "Liveness: the process serves; asks nothing else",
    responses: ok(Live, "Alive"),
  }),
  createRoute({
    method: "get",
    path: "/readyz",
    operationId: "readyz",
    tags: ["health"],
    summary: "Readiness: the store answers, its schema is current, the SMTP relay took a connection lately",
    description: "With the SMTP sender, a relay that took no connection (a delivery, the start-up check or a " +
      "check) within the last minute is checked, at most once a minute. A schema ahead of the code counts as " +
      "ready (a newer replica migrated it).",
    responses: {
      ...ok(Ready, "Ready"),
      503: { description: "Not ready: not_ready", content: { "application/json": { schema: NotReady } } },
    },
  }),
  createRoute({
    method: "get",
    path: "/openapi.json",
    operationId: "openapi",
    tags: ["health"],
    summary: "This document",
    responses: {
      ...ok(z.object({ openapi: z.literal("3.1.0") }).passthrough(), "The OpenAPI 3.1 document"),
      ...errorResponses({ 500: ["internal_error"] }),
    },
  }),
];
