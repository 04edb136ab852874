/**
 * The one mapping from domain errors to HTTP: status code, JSON body
 * `{"error": code, "message": …}` and headers. Unknown errors become a 500
 * without detail and are logged.
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  AuthenticationError,
  AuthError,
  ConflictError,
  DeliveryError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  OAuthError,
  PayloadTooLargeError,
  RateLimitError,
  RequestTimeoutError,
  StoreUnavailableError,
} from "../lib/errors.ts";
import type { AppEnv } from "./env.ts";

type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 429 | 500 | 502 | 503;

const STATUS_BY_CLASS: ReadonlyArray<[new (...args: never[]) => AuthError, ErrorStatus]> = [
  [OAuthError, 400],
  [InvalidInputError, 400],
  [AuthenticationError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [RequestTimeoutError, 408],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [RateLimitError, 429],
  [DeliveryError, 502],
  [StoreUnavailableError, 503],
];

/** The HTTP status of a domain error (500 for anything unknown). */
export function statusOf(error: unknown): ErrorStatus {
  if (error instanceof OAuthError && error.code === "invalid_client") return 401;
  for (const [errorClass, status] of STATUS_BY_CLASS) {
    if (error instanceof errorClass) return status;
  }
  return 500;
}

/** Turns any thrown value into the JSON error response; registered with `app.onError`. */
export function errorResponse(error: unknown, c: Context<AppEnv>): Response {
  if (error instanceof HTTPException && !(error.cause instanceof AuthError)) {
    return send(c, error.status === 413 ? 413 : 400, "invalid_request", "The request could not be read");
  }
  const domain = error instanceof HTTPException ? error.cause : error;
  const status = statusOf(domain);
  if (!(domain instanceof AuthError) || status === 500) {
    logFailure(c, "error", domain);
    return send(c, 500, "internal_error", "The auth provider failed: the error was logged");
  }
  if (status === 503 || status === 502) {
    // The detail (engine message, SMTP reply) goes to the log only.
    logFailure(c, "warn", domain);
  }
  if (domain instanceof RateLimitError) c.header("Retry-After", String(domain.retryAfterSeconds));
  if (status === 401 && /token|session/.test(domain.code)) {
    c.header("WWW-Authenticate", `Bearer realm="bus-auth", error="invalid_token"`);
  }
  if (domain instanceof OAuthError) {
    // RFC 6749 §5.2: OAuth clients read error_description, the provider's own clients message.
    if (status === 401) c.header("WWW-Authenticate", `Basic realm="bus-auth", charset="UTF-8"`);
    c.header("Pragma", "no-cache");
    return c.json({ error: domain.code, error_description: domain.message, message: domain.message }, status);
  }
  const message = status === 503 ? "The auth store is unavailable: try again shortly" : domain.message;
  return send(c, status, domain.code, message);
}

function send(c: Context<AppEnv>, status: ErrorStatus, code: string, message: string): Response {
  c.header("Cache-Control", "no-store");
  return c.json({ error: code, message }, status);
}

function logFailure(c: Context<AppEnv>, level: "error" | "warn", error: unknown): void {
  const log = c.get("log");
  const cause = error instanceof Error ? error.cause : undefined;
  log?.({
    level,
    msg: "request failed",
    request_id: c.get("requestId") ?? null,
    error: error instanceof Error ? error.name : typeof error,
    code: error instanceof AuthError ? error.code : null,
    detail: error instanceof Error ? firstLine(error.message) : null,
    cause: cause instanceof Error ? `${cause.name}: ${firstLine(cause.message)}` : null,
  });
}

function firstLine(text: string): string {
  return text.split("\n")[0].slice(0, 300);
}
