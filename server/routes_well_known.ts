/**
 * What verifiers and OAuth clients discover: `/.well-known/jwks.json`, the
 * public signing keys (RFC 7517; the HS256 secret is never in it), and
 * `/.well-known/oauth-authorization-server`, the authorization-server
 * metadata (RFC 8414). Both are served at the root, under the route prefix,
 * and under each auth base, so every gateway that routes the auth API routes
 * them too.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import type { AppEnv } from "./env.ts";

/** How long verifiers and caches may keep the key set: a new key is published at least this long before it signs. */
export const JWKS_MAX_AGE_SECONDS = 300;

/** Where the routes are mounted and how absolute URLs are made. */
export interface WellKnownOptions {
  /** The route prefix they are mounted under, such as `/local-dev/v1`; `""` at the root. */
  prefix: string;
  /** The auth bases (`{A}`) under which they are served as well. */
  bases: readonly string[];
  /** `BUS_AUTH_PUBLIC_URL`, or `null` to take the origin of each request (its Host header and scheme). */
  publicUrl: string | null;
}

/** The well-known routes below one prefix. */
export function wellKnownRoutes(options: WellKnownOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  for (const base of ["", ...options.bases]) {
    routes.get(`${base}/.well-known/jwks.json`, (c) => {
      c.header("Cache-Control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      return c.json(c.get("ctx").keys.jwks);
    });
    routes.get(`${base}/.well-known/oauth-authorization-server`, (c) => metadata(c, options, base));
  }
  return routes;
}

/**
 * RFC 8414 metadata. The URLs stay below the prefix and base the document
 * was asked through, so a client that reached it reaches them. Built from
 * the request's Host, it is not for shared caches (`no-store`, the app's
 * default); from `BUS_AUTH_PUBLIC_URL` it may be cached like the key set.
 */
function metadata(c: Context<AppEnv>, options: WellKnownOptions, base: string): Response {
  const { policy, keys } = c.get("ctx");
  const root = (options.publicUrl ?? new URL(c.req.url).origin) + options.prefix;
  if (options.publicUrl !== null) c.header("Cache-Control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
  return c.json({
    issuer: policy.issuer,
    jwks_uri: `${root}${base}/.well-known/jwks.json`,
    token_endpoint: `${root}/api/internal/auth/token`,
    grant_types_supported: ["client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    // No authorization endpoint: no response type is supported.
    response_types_supported: [],
    access_token_signing_alg_values_supported: keys.algorithms,
  });
}
