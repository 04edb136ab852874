/**
 * OpenAPI descriptions of the discovery documents (`routes_well_known.ts`):
 * the public signing keys and the authorization-server metadata, at the
 * root and under every auth base.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "./schemas.ts";
import { ok } from "./operations_user.ts";

/** One public key of the set (RFC 7517); the HS256 secret is never in it. */
const Jwk = z.object({
  kty: z.enum(["OKP", "EC"]),
  kid: z.string().describe("The key's RFC 7638 thumbprint, as in the tokens' kid"),
  alg: z.enum(["EdDSA", "ES256"]),
  use: z.literal("sig"),
  crv: z.enum(["Ed25519", "P-256"]),
  x: z.string(),
  y: z.string().optional().describe("P-256 only"),
});

/** `/.well-known/jwks.json`. */
const Jwks = z.object({ keys: z.array(Jwk).describe("Empty while only HS256 signs") }).openapi("Jwks");

/** `/.well-known/oauth-authorization-server` (RFC 8414). */
const ServerMetadata = z.object({
  issuer: z.string(),
  jwks_uri: z.url(),
  token_endpoint: z.url(),
  grant_types_supported: z.array(z.string()),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  response_types_supported: z.array(z.string()),
  access_token_signing_alg_values_supported: z.array(z.string()),
}).openapi("ServerMetadata");

/** The discovery routes. */
export const WELL_KNOWN_OPERATIONS = [
  createRoute({
    method: "get",
    path: "/.well-known/jwks.json",
    operationId: "jwks",
    tags: ["discovery"],
    summary: "The public keys that verify the tokens (cache for 5 minutes)",
    responses: { ...ok(Jwks, "The key set"), ...errorResponses({ 500: ["internal_error"] }) },
  }),
  createRoute({
    method: "get",
    path: "/.well-known/oauth-authorization-server",
    operationId: "serverMetadata",
    tags: ["discovery"],
    summary: "Authorization-server metadata (RFC 8414): the key set, the token endpoint and its grant",
    responses: { ...ok(ServerMetadata, "The metadata"), ...errorResponses({ 500: ["internal_error"] }) },
  }),
];
