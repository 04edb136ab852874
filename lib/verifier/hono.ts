/**
 * Hono middleware on the verifier: a route answers only requests with a
 * good bearer token, finds the token's claims with `c.get("busClaims")`, and
 * refuses the others as the auth provider does (`{"error": code,
 * "message": …}`, 401 or 403, `WWW-Authenticate: Bearer` per RFC 6750).
 *
 * Only this module of the verifier uses Hono, and only its types.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createVerifier } from "@busdk/bus-auth/verifier";
 * import { busAuth } from "@busdk/bus-auth/verifier/hono";
 *
 * const verifier = createVerifier({
 *   issuer: "bus-api-provider-auth",
 *   audience: "ai.hg.fi/api",
 *   jwksUrl: "http://127.0.0.1:8080/.well-known/jwks.json",
 * });
 * const app = new Hono();
 * app.get("/v1/usage", busAuth(verifier, { scope: "usage:read" }), (c) => c.json({ account: c.get("busClaims").sub }));
 * ```
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { TokenError } from "./token_error.ts";
import { requiredScopes, type VerifiedClaims, type Verifier } from "./verifier.ts";

/**
 * The Hono environment {@link busAuth} adds: the verified claims as the
 * variable `busClaims`. Declare it on an app whose every route is guarded.
 *
 * @example
 * ```ts
 * const app = new Hono<BusAuthEnv>();
 * app.use("/v1/*", busAuth(verifier));
 * app.get("/v1/me", (c) => c.json({ account: c.get("busClaims").sub }));
 * ```
 */
export interface BusAuthEnv {
  /** Hono's request variables. */
  Variables: {
    /** The claims of the request's verified token. */
    busClaims: VerifiedClaims;
  };
}

/**
 * Options of {@link busAuth}.
 *
 * @example
 * ```ts
 * const options: BusAuthOptions = { scope: "llm:proxy", realm: "bus-llm" };
 * ```
 */
export interface BusAuthOptions {
  /** Scopes the token must all hold on this route: a space-separated string or a list. */
  scope?: string | readonly string[];
  /** The `realm` of `WWW-Authenticate`; `bus` by default. */
  realm?: string;
}

/** `Authorization: Bearer <token>`, as the auth provider reads it. */
const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i;

/**
 * Middleware that verifies the request's bearer token with `verifier`,
 * requires `options.scope`, and puts the claims on the context as
 * `busClaims`. A refusal is answered at once with the auth provider's error
 * JSON and `Cache-Control: no-store`: 401 with
 * `WWW-Authenticate: Bearer realm="bus", error="invalid_token", error_description="…"`
 * for a missing (then without `error`), malformed, badly signed, expired
 * or wrongly addressed token, 403 with `error="insufficient_scope", scope="…"`
 * for a missing scope. Other errors (none are expected) go to the app's
 * error handler.
 *
 * @throws {TypeError} at creation, when a scope of `options.scope` is not a scope
 * @example
 * ```ts
 * const app = new Hono();
 * app.post("/v1/chat/completions", busAuth(verifier, { scope: "llm:proxy" }), (c) => {
 *   const claims = c.get("busClaims");
 *   return c.json({ account: claims.sub, scopes: claims.scopes });
 * });
 * ```
 */
export function busAuth(verifier: Verifier, options: BusAuthOptions = {}): MiddlewareHandler<BusAuthEnv> {
  const scope = requiredScopes(options.scope);
  const realm = (options.realm ?? "bus").replace(/[^\x20-\x7e]|["\\]/g, "");
  return async (c, next) => {
    let claims: VerifiedClaims;
    try {
      claims = await verifier.verify(bearerToken(c.req.header("Authorization")), { scope });
    } catch (error) {
      if (error instanceof TokenError) return refusal(c, error, realm, scope);
      throw error;
    }
    c.set("busClaims", claims);
    await next();
  };
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header === "") {
    throw new TokenError("missing_token", "This call needs an Authorization: Bearer <token> header");
  }
  const match = BEARER.exec(header);
  if (!match) throw new TokenError("invalid_token", "The Authorization header must be Bearer <token>");
  return match[1];
}

function refusal(c: Context, error: TokenError, realm: string, scope: readonly string[]): Response {
  const challenge = [`realm="${realm}"`];
  if (error.code === "insufficient_scope") {
    challenge.push(`error="insufficient_scope"`, `scope="${scope.join(" ")}"`);
  } else if (error.code !== "missing_token") {
    challenge.push(`error="invalid_token"`);
  }
  if (error.code !== "missing_token") {
    // RFC 6750 §3: error_description is a quoted string of printable ASCII without " and \.
    challenge.push(`error_description="${error.message.replace(/[^\x20-\x7e]/g, "?").replace(/["\\]/g, "'")}"`);
  }
  c.header("WWW-Authenticate", `Bearer ${challenge.join(", ")}`);
  c.header("Cache-Control", "no-store");
  return c.json({ error: error.code, message: error.message }, error.status);
}
