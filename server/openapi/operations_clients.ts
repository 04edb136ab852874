/**
 * OpenAPI descriptions of the service clients (below `/api/v1/auth`,
 * admin:manage) and of the internal token endpoint with its two bodies:
 * JSON with `X-Bus-Internal-Key`, or the client-credentials grant's form,
 * whose refusals follow RFC 6749 §5.2.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import {
  ADMIN_ERRORS,
  BODY_ERRORS,
  ClientBody,
  ClientCredentialsForm,
  ClientList,
  ClientRevocation,
  CreatedClient,
  errorResponses,
  InternalToken,
  InternalTokenBody,
  KeyBody,
  KeyCheck,
  merge,
  RotateBody,
  Rotation,
  STORE_ERRORS,
} from "./schemas.ts";
import { jsonBody, ok } from "./operations_user.ts";

const CLIENTS = "/api/v1/auth/admin/clients";
const ADMIN = [{ bearerAuth: [] }];
const byClientId = z.object({ client_id: z.string().describe("The client's UUID") });
const ONE_CLIENT = merge(ADMIN_ERRORS, { 400: ["invalid_client_id"], 404: ["client_not_found"] }, STORE_ERRORS);

/** The service-client routes and the internal token endpoint. */
export const CLIENT_OPERATIONS = [
  createRoute({
    method: "post",
    path: CLIENTS,
    operationId: "createClient",
    tags: ["service clients"],
    summary: "Create a service client with its first key (admin:manage)",
    security: ADMIN,
    request: { body: jsonBody(ClientBody) },
    responses: {
      ...ok(CreatedClient, "The client and its key, shown this once"),
      ...errorResponses(
        merge(
          BODY_ERRORS,
          { 400: ["invalid_client_name", "invalid_audience", "invalid_scope", "invalid_ttl"] },
          ADMIN_ERRORS,
          {
            409: ["client_exists"],
          },
          STORE_ERRORS,
        ),
      ),
    },
  }),
  createRoute({
    method: "get",
    path: CLIENTS,
    operationId: "listClients",
    tags: ["service clients"],
    summary: "Every service client, its working keys by prefix (admin:manage)",
    security: ADMIN,
    responses: { ...ok(ClientList, "The clients"), ...errorResponses(merge(ADMIN_ERRORS, STORE_ERRORS)) },
  }),
  createRoute({
    method: "post",
    path: `${CLIENTS}/{client_id}/rotate`,
    operationId: "rotateClientKey",
    tags: ["service clients"],
    summary: "A new key; the older ones work until old_keys_retire_at (admin:manage)",
    security: ADMIN,
    request: { params: byClientId, body: { ...jsonBody(RotateBody, "Optional"), required: false } },
    responses: {
      ...ok(Rotation, "The new key, shown this once"),
      ...errorResponses(merge(BODY_ERRORS, ONE_CLIENT, { 400: ["invalid_retire_after"], 409: ["client_revoked"] })),
    },
  }),
  createRoute({
    method: "post",
    path: `${CLIENTS}/{client_id}/revoke`,
    operationId: "revokeClient",
    tags: ["service clients"],
    summary: "End a client: its keys and every token issued to it (admin:manage)",
    security: ADMIN,
    request: { params: byClientId },
    responses: { ...ok(ClientRevocation, "Revoked; the same answer when repeated"), ...errorResponses(ONE_CLIENT) },
  }),
  createRoute({
    method: "post",
    path: `${CLIENTS}/{client_id}/verify-key`,
    operationId: "verifyClientKey",
    tags: ["service clients"],
    summary: "Whether a key is one of the client's working keys; issues nothing (admin:manage)",
    security: ADMIN,
    request: { params: byClientId, body: jsonBody(KeyBody) },
    responses: { ...ok(KeyCheck, "The answer"), ...errorResponses(merge(BODY_ERRORS, ONE_CLIENT)) },
  }),
  createRoute({
    method: "post",
    path: "/api/internal/auth/token",
    operationId: "issueInternalToken",
    tags: ["tokens"],
    summary: "Issue an internal token: the bootstrap key with JSON, or a client's credentials grant",
    description: "With X-Bus-Internal-Key, a JSON body names the subject, audience, scope and lifetime. " +
      "Without it, a form with grant_type=client_credentials (RFC 6749 §4.4) authenticates a service client in " +
      "the body or with HTTP Basic (not both); its refusals carry OAuth's error_description (§5.2) and " +
      "invalid_client is 401 with WWW-Authenticate: Basic.",
    security: [{ internalKey: [] }, { clientBasic: [] }, {}],
    request: {
      body: {
        required: true,
        content: {
          "application/json": { schema: InternalTokenBody },
          "application/x-www-form-urlencoded": { schema: ClientCredentialsForm },
        },
      },
    },
    responses: {
      ...ok(InternalToken, "The token; ttl_capped when the lifetime was cut"),
      ...errorResponses(
        merge(BODY_ERRORS, { 400: ["invalid_scope", "invalid_ttl"] }, {
          403: ["internal_tokens_disabled", "internal_key_invalid", "invalid_subject", "invalid_audience"],
        }, STORE_ERRORS),
        { 400: ["invalid_request", "unsupported_grant_type", "invalid_scope"], 401: ["invalid_client"] },
      ),
    },
  }),
];
