/**
 * OpenAPI descriptions of the end-user routes below `/api/v1/auth` (and its
 * aliases): sign-in, the session, API tokens and `check`.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { AUDIENCE } from "../../lib/claims.ts";
import {
  ApiToken,
  ApiTokenBody,
  BODY_ERRORS,
  Claims,
  EmailBody,
  errorResponses,
  Me,
  merge,
  OtpSent,
  Registration,
  Session,
  Status,
  STORE_ERRORS,
  TOKEN_ERRORS,
  VerifyBody,
} from "./schemas.ts";

const A = "/api/v1/auth";
const SESSION = [{ bearerAuth: [] }];
const BAD_EMAIL = { 400: ["invalid_email"] };

/** A JSON body. */
export function jsonBody(schema: z.ZodType, description?: string) {
  return { required: true, ...(description ? { description } : {}), content: { "application/json": { schema } } };
}

/** A 200 answer. */
export function ok(schema: z.ZodType, description: string) {
  return { 200: { description, content: { "application/json": { schema } } } };
}

/** The user routes. */
export const USER_OPERATIONS = [
  createRoute({
    method: "post",
    path: `${A}/register`,
    operationId: "register",
    tags: ["sign-in"],
    summary: "Register an email into the waitlist",
    description: "Creates or finds the registration; the same answer for a known email. Rate limited per client IP.",
    request: { body: jsonBody(EmailBody) },
    responses: {
      ...ok(Registration, "The registration"),
      ...errorResponses(merge(BODY_ERRORS, BAD_EMAIL, { 429: ["rate_limited"] }, STORE_ERRORS)),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/otp/request`,
    operationId: "requestOtp",
    tags: ["sign-in"],
    summary: "Mail a one-time code",
    description: "Registers an unknown email as register does, so the answer tells nothing about whether it " +
      "existed; never contains the code. One code per email per BUS_AUTH_OTP_RESEND_SECONDS.",
    request: { body: jsonBody(EmailBody) },
    responses: {
      ...ok(OtpSent, "The code was handed to the mail relay"),
      ...errorResponses(
        merge(BODY_ERRORS, BAD_EMAIL, { 429: ["rate_limited", "otp_resend_too_soon", "otp_locked"] }, {
          502: ["otp_delivery_failed"],
        }, STORE_ERRORS),
      ),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/otp/verify`,
    operationId: "verifyOtp",
    tags: ["sign-in"],
    summary: "Trade the code for a session token",
    request: { body: jsonBody(VerifyBody) },
    responses: {
      ...ok(Session, `A session token (aud ${AUDIENCE.auth}); it grants no API access by itself`),
      ...errorResponses(
        merge(BODY_ERRORS, { 400: ["invalid_email", "invalid_otp"] }, {
          401: ["otp_invalid", "otp_expired", "otp_used", "otp_not_requested", "otp_attempts_exceeded"],
          429: ["rate_limited", "otp_locked"],
        }, STORE_ERRORS),
      ),
    },
  }),
  createRoute({
    method: "get",
    path: `${A}/status`,
    operationId: "status",
    tags: ["session"],
    summary: "The signed-in user's approval state",
    security: SESSION,
    responses: { ...ok(Status, "The state"), ...errorResponses(merge(TOKEN_ERRORS, STORE_ERRORS)) },
  }),
  createRoute({
    method: "get",
    path: `${A}/me`,
    operationId: "me",
    tags: ["session"],
    summary: "The signed-in user",
    security: SESSION,
    responses: { ...ok(Me, "The user"), ...errorResponses(merge(TOKEN_ERRORS, STORE_ERRORS)) },
  }),
  createRoute({
    method: "post",
    path: `${A}/token`,
    operationId: "issueApiToken",
    tags: ["session"],
    summary: "Issue a short-lived API token to an approved user",
    security: SESSION,
    request: { body: jsonBody(ApiTokenBody) },
    responses: {
      ...ok(ApiToken, `An API token (aud ${AUDIENCE.api}, sub the account id)`),
      ...errorResponses(
        merge(BODY_ERRORS, { 400: ["invalid_scope", "invalid_ttl"] }, TOKEN_ERRORS, {
          403: ["not_verified", "not_approved", "account_rejected", "scope_not_allowed"],
        }, STORE_ERRORS),
      ),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/token/refresh`,
    operationId: "refreshSession",
    tags: ["session"],
    summary: "Replace the session token; the old one stops working",
    security: SESSION,
    responses: {
      ...ok(Session, "A new token of the same session"),
      ...errorResponses(
        merge(TOKEN_ERRORS, { 401: ["session_expired"], 403: ["refresh_disabled"] }, STORE_ERRORS),
      ),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/logout`,
    operationId: "logout",
    tags: ["session"],
    summary: "End the session: every token of it stops working",
    security: SESSION,
    responses: { 204: { description: "Signed out" }, ...errorResponses(merge(TOKEN_ERRORS, STORE_ERRORS)) },
  }),
  createRoute({
    method: "get",
    path: `${A}/check`,
    operationId: "check",
    tags: ["tokens"],
    summary: "Verify any token of this system and return its claims",
    description: "Signature, expiry, issuer, audience, revocation, the session, the service client and the " +
      "account's approval and scope policy.",
    security: SESSION,
    request: {
      query: z.object({
        audience: z.enum([AUDIENCE.auth, AUDIENCE.api, AUDIENCE.internal]).optional()
          .describe("The audience the token must have"),
        scope: z.string().optional().describe("Space-separated scopes the token must all hold"),
      }),
    },
    responses: {
      ...ok(Claims, "The token counts"),
      ...errorResponses(
        merge(
          { 400: ["invalid_audience", "invalid_scope"] },
          TOKEN_ERRORS,
          { 403: ["insufficient_scope"] },
          STORE_ERRORS,
        ),
      ),
    },
  }),
];
