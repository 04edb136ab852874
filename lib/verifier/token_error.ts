/**
 * The one error the verifier throws for a token it refuses.
 *
 * @module
 */

/**
 * Why a token was refused, with the auth provider's own codes:
 *
 * - `missing_token`: no `Authorization: Bearer` header (the Hono middleware only);
 * - `invalid_token`: malformed, badly signed, wrong issuer or algorithm, unknown key, or a bad claim;
 * - `token_expired`: past its `exp`;
 * - `token_wrong_audience`: meant for another audience;
 * - `insufficient_scope`: valid, but lacking a scope the caller requires.
 *
 * @example
 * ```ts
 * function retryable(code: TokenErrorCode): boolean {
 *   return code === "token_expired"; // get a new token and try again
 * }
 * ```
 */
export type TokenErrorCode =
  | "missing_token"
  | "invalid_token"
  | "token_expired"
  | "token_wrong_audience"
  | "insufficient_scope";

/**
 * A refused token. `code` is the auth provider's error code and `status`
 * the HTTP status a Bus API should answer with: 403 for
 * `insufficient_scope`, 401 for everything else. The message is one sentence
 * without the token in it, fit for the `message` field of the error JSON.
 *
 * @example
 * ```ts
 * import { TokenError } from "@busdk/bus-auth/verifier";
 *
 * try {
 *   await verifier.verify(token, { scope: "llm:proxy" });
 * } catch (error) {
 *   if (!(error instanceof TokenError)) throw error;
 *   return Response.json({ error: error.code, message: error.message }, { status: error.status });
 * }
 * ```
 */
export class TokenError extends Error {
  /** The auth provider's error code. */
  readonly code: TokenErrorCode;
  /** 403 for `insufficient_scope`, otherwise 401. */
  readonly status: 401 | 403;

  /**
   * Makes the error; `status` follows from `code`.
   *
   * @param code the auth provider's error code
   * @param message one sentence without secrets
   */
  constructor(code: TokenErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TokenError";
    this.code = code;
    this.status = code === "insufficient_scope" ? 403 : 401;
  }
}
