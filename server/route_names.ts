/**
 * The names of the routes: the auth bases every user and admin route is
 * served under, the root-level aliases, and the canonical pattern of a
 * served route (the path the OpenAPI document gives it and the `route`
 * label of the metrics), never a raw request path.
 *
 * @module
 */

import { AUTH_BASES } from "./app.ts";

/** The canonical auth base (the first of `AUTH_BASES`), under which the OpenAPI document lists the routes. */
export const CANONICAL_AUTH_BASE = "/api/v1/auth";

/** Root-level discovery paths that every auth base serves too (`routes_well_known.ts`). */
const WELL_KNOWN = "/.well-known/";

/** Root-level paths that serve another route, by alias. */
export const ROOT_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  "/me": `${CANONICAL_AUTH_BASE}/me`,
  "/internal/token": "/api/internal/auth/token",
});

/**
 * The canonical pattern of a registered route path: the route prefix
 * removed, an alias base or root alias replaced by the canonical path, and
 * Hono's `:name` parameters written `{name}` as in OpenAPI.
 *
 * @example
 * ```ts
 * canonicalRoute("/local-dev/v1/modules/auth/admin/clients/:client_id/rotate", "/local-dev/v1");
 * // "/api/v1/auth/admin/clients/{client_id}/rotate"
 * ```
 */
export function canonicalRoute(path: string, routePrefix: string | null): string {
  let route = path;
  if (routePrefix && (route === routePrefix || route.startsWith(`${routePrefix}/`))) {
    route = route.slice(routePrefix.length) || "/";
  }
  for (const base of AUTH_BASES) {
    if (route.startsWith(`${base}${WELL_KNOWN}`)) {
      route = route.slice(base.length);
      break;
    }
    if (base !== CANONICAL_AUTH_BASE && route.startsWith(`${base}/`)) {
      route = CANONICAL_AUTH_BASE + route.slice(base.length);
      break;
    }
  }
  route = ROOT_ALIASES[route] ?? route;
  return route.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/**
 * The other paths (without the route prefix) that serve a canonical
 * route: the alias bases for a route below the canonical base, every auth
 * base for a `/.well-known/` document, and any root alias.
 *
 * @example
 * ```ts
 * routeAliases("/api/v1/auth/me"); // ["/modules/auth/me", "/auth/me", "/me"]
 * ```
 */
export function routeAliases(canonical: string): string[] {
  const aliases: string[] = [];
  if (canonical.startsWith(`${CANONICAL_AUTH_BASE}/`)) {
    const rest = canonical.slice(CANONICAL_AUTH_BASE.length);
    for (const base of AUTH_BASES) if (base !== CANONICAL_AUTH_BASE) aliases.push(base + rest);
  }
  if (canonical.startsWith(WELL_KNOWN)) { for (const base of AUTH_BASES) aliases.push(base + canonical); }
  for (const [alias, target] of Object.entries(ROOT_ALIASES)) if (target === canonical) aliases.push(alias);
  return aliases;
}
