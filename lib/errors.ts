/**
 * Domain errors. Every refusal the auth provider can give is one of these
 * classes carrying a stable snake_case `code`; callers branch on the class or
 * the code, never on the message. The HTTP layer maps classes to status codes
 * in exactly one place (`server/error_response.ts`).
 *
 * Messages are one sentence, never contain a token, OTP or secret, and may be
 * shown to the user as they are.
 *
 * @module
 */

/** Base class of every domain error; `code` is part of the API contract. */
export class AuthError extends Error {
  /** Stable snake_case code, for example `otp_expired`. */
  readonly code: string;

  /**
   * @param code stable snake_case code
   * @param message one user-facing sentence without secrets
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The request is malformed: bad JSON, wrong types, missing or invalid fields (HTTP 400). */
export class InvalidInputError extends AuthError {}

/** The credential (token or OTP) is missing, wrong, expired or revoked (HTTP 401). */
export class AuthenticationError extends AuthError {}

/** The caller is known but not allowed to do this (HTTP 403). */
export class ForbiddenError extends AuthError {}

/** The user or resource named in the request does not exist (HTTP 404). */
export class NotFoundError extends AuthError {}

/** The request conflicts with the current state, for example approving an unverified user (HTTP 409). */
export class ConflictError extends AuthError {}

/** The request body is larger than the configured limit (HTTP 413). */
export class PayloadTooLargeError extends AuthError {}

/** The client did not send its request in time, for example a body that stopped arriving (HTTP 408). */
export class RequestTimeoutError extends AuthError {}

/** Too many requests; `retryAfterSeconds` says when to try again (HTTP 429). */
export class RateLimitError extends AuthError {
  /** Whole seconds until the request may succeed; at least 1. */
  readonly retryAfterSeconds: number;

  /**
   * @param code stable snake_case code
   * @param message one user-facing sentence
   * @param retryAfterSeconds seconds until a retry may succeed (rounded up, at least 1)
   */
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/**
 * A refusal of the OAuth 2.0 token endpoint (RFC 6749 §5.2), whose `code` is
 * one of its error codes: `invalid_client` is HTTP 401 (with
 * `WWW-Authenticate: Basic`), every other code 400; the body carries
 * `error_description` beside `message`, so OAuth clients read it too.
 */
export class OAuthError extends AuthError {}

/** A value from a request, safe to quote in a message: at most 64 characters, anything unprintable as `?`. */
export function quotable(value: string): string {
  return value.slice(0, 64).replace(/[^\x20-\x7e]/g, "?");
}

/** The OTP could not be handed to the delivery service (HTTP 502). */
export class DeliveryError extends AuthError {}

/** The store cannot be reached or failed (HTTP 503). */
export class StoreUnavailableError extends AuthError {
  /** @param message one sentence without connection secrets */
  constructor(message = "The auth store is unavailable: try again shortly", options?: ErrorOptions) {
    super("store_unavailable", message, options);
  }
}
