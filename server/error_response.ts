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
import type { AppEnv, Logger } from "./env.ts";

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

/** How an error is answered: one mapping, rendered by {@link errorResponse} and {@link errorAnswerResponse}. */
export interface ErrorAnswer {
  status: ErrorStatus;
  body: Record<string, string>;
  /** Headers of the answer besides `Content-Type`; a later entry replaces an earlier one of the same name. */
  headers: Record<string, string>;
  /** `error` or `warn`: the failure is logged with its detail (never sent); `null`: not logged. */
  logLevel: "error" | "warn" | null;
  /** What is logged: the domain error, or the unknown value that was thrown. */
  cause: unknown;
}

/** The answer to any thrown value: a domain error's status and code, anything unknown a 500 without detail. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof HTTPException && !(error.cause instanceof AuthError)) {
    return plain(error.status === 413 ? 413 : 400, "invalid_request", "The request could not be read", null, error);
  }
  const domain = error instanceof HTTPException ? error.cause : error;
  const status = statusOf(domain);
  if (!(domain instanceof AuthError) || status === 500) {
    return plain(500, "internal_error", "The auth provider failed: the error was logged", "error", domain);
  }
  // The detail of a 502 or 503 (engine message, SMTP reply) goes to the log only.
  const logLevel = status === 503 || status === 502 ? "warn" : null;
  const headers: Record<string, string> = {};
  if (domain instanceof RateLimitError) headers["Retry-After"] = String(domain.retryAfterSeconds);
  if (status === 401 && /token|session/.test(domain.code)) {
    headers["WWW-Authenticate"] = `Bearer realm="bus-auth", error="invalid_token"`;
  }
  if (domain instanceof OAuthError) {
    // RFC 6749 §5.2: OAuth clients read error_description, the provider's own clients message.
    if (status === 401) headers["WWW-Authenticate"] = `Basic realm="bus-auth", charset="UTF-8"`;
    headers["Pragma"] = "no-cache";
    const body = { error: domain.code, error_description: domain.message, message: domain.message };
    return { status, body, headers, logLevel, cause: domain };
  }
  const message = status === 503 ? "The auth store is unavailable: try again shortly" : domain.message;
  headers["Cache-Control"] = "no-store";
  return { status, body: { error: domain.code, message }, headers, logLevel, cause: domain };
}

function plain(
  status: ErrorStatus,
  code: string,
  message: string,
  logLevel: ErrorAnswer["logLevel"],
  cause: unknown,
): ErrorAnswer {
  return { status, body: { error: code, message }, headers: { "Cache-Control": "no-store" }, logLevel, cause };
}

/** Turns any thrown value into the JSON error response; registered with `app.onError`. */
export function errorResponse(error: unknown, c: Context<AppEnv>): Response {
  const answer = errorAnswer(error);
  logFailure(c.get("log"), c.get("requestId"), answer);
  for (const name in answer.headers) c.header(name, answer.headers[name]);
  return c.json(answer.body, answer.status);
}

/** {@link errorResponse} for a request answered outside Hono (`fast_lane.ts`). */
export function errorAnswerResponse(error: unknown, log: Logger, requestId: string): Response {
  const answer = errorAnswer(error);
  logFailure(log, requestId, answer);
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { ...answer.headers, "Content-Type": "application/json" },
  });
}

function logFailure(log: Logger | undefined, requestId: string | undefined, answer: ErrorAnswer): void {
  if (answer.logLevel === null) return;
  const error = answer.cause;
  const cause = error instanceof Error ? error.cause : undefined;
  log?.({
    level: answer.logLevel,
    msg: "request failed",
    request_id: requestId ?? null,
    error: error instanceof Error ? error.name : typeof error,
    code: error instanceof AuthError ? error.code : null,
    detail: error instanceof Error ? firstLine(error.message) : null,
    cause: cause instanceof Error ? `${cause.name}: ${firstLine(cause.message)}` : null,
  });
}

function firstLine(text: string): string {
  return text.split("\n")[0].slice(0, 300);
}
