/**
 * The verifier library: how a Bus API checks the tokens of
 * `bus-api-provider-auth` locally, by the provider's own rules, against the
 * keys it publishes at `/.well-known/jwks.json` (EdDSA, ES256) or its HS256
 * secret. It depends on jose alone; the Hono middleware is in
 * `@busdk/bus-auth/verifier/hono`.
 *
 * Revocation is not the verifier's job: a revoked token passes until it
 * expires (user API tokens live an hour at most). A Bus API that needs
 * revocations to take effect at once asks the provider's `GET {A}/check`.
 *
 * @example
 * ```ts
 * import { createVerifier, TokenError } from "@busdk/bus-auth/verifier";
 *
 * const verifier = createVerifier({
 *   issuer: "bus-api-provider-auth",
 *   audience: "ai.hg.fi/api",
 *   jwksUrl: "http://127.0.0.1:8080/.well-known/jwks.json",
 * });
 *
 * Deno.serve(async (request) => {
 *   const token = request.headers.get("authorization")?.replace(/^Bearer +/i, "") ?? "";
 *   try {
 *     const claims = await verifier.verify(token, { scope: "llm:proxy" });
 *     return Response.json({ account: claims.sub });
 *   } catch (error) {
 *     if (!(error instanceof TokenError)) throw error;
 *     return Response.json({ error: error.code, message: error.message }, { status: error.status });
 *   }
 * });
 * ```
 *
 * @module
 */

export {
  createVerifier,
  type VerifiedClaims,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
} from "./verifier.ts";
export { TokenError, type TokenErrorCode } from "./token_error.ts";
