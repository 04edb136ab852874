/**
 * The zod schemas of the OpenAPI document: request bodies, answers and the
 * error shapes, with the error codes each route may answer. Only the
 * document is built from them; no request is validated with them (the
 * routes read their input themselves, so the hot paths pay nothing).
 *
 * @module
 */

import { z } from "@hono/zod-openapi";
import { AUDIENCE } from "../../lib/claims.ts";
import { USER_STATUSES } from "../../lib/store/store.ts";

/** The statuses an error may have. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 429 | 500 | 502 | 503;

/** The codes a route may answer, by status. */
export type ErrorCodes = Partial<Record<ErrorStatus, readonly string[]>>;

const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: "Bad input",
  401: "Missing, bad, expired or revoked token, code or credentials",
  403: "Not allowed",
  404: "Not found",
  408: "The body did not arrive in time; the connection is closed",
  409: "Conflicts with the current state",
  413: "The body is too large; the connection is closed",
  429: "Rate limited: retry after Retry-After seconds",
  500: "The provider failed; the error was logged",
  502: "The OTP could not be delivered",
  503: "The store is unavailable: retry shortly",
};

/** Every request that carries a body, on any route, may get these (`body_guard.ts`). */
export const BODY_ERRORS: ErrorCodes = {
  400: ["invalid_json", "invalid_request", "invalid_body"],
  408: ["body_timeout"],
  413: ["body_too_large"],
};

/** Any route may fail unexpectedly; a route that reads the store may find it down. */
export const STORE_ERRORS: ErrorCodes = { 500: ["internal_error"], 503: ["store_unavailable"] };

/** A bad bearer token of any kind. */
export const TOKEN_ERRORS: ErrorCodes = {
  401: ["missing_token", "invalid_token", "token_expired", "token_wrong_audience", "token_revoked"],
};

/** The operator calls: a bad token, or a good one without the scope. */
export const ADMIN_ERRORS: ErrorCodes = merge(TOKEN_ERRORS, { 403: ["insufficient_scope"] });

/** Merges code lists status by status, without repeats. */
export function merge(...groups: ErrorCodes[]): ErrorCodes {
  const merged: Record<number, string[]> = {};
  for (const group of groups) {
    for (const [status, codes] of Object.entries(group)) {
      const list = merged[Number(status)] ??= [];
      for (const code of codes ?? []) if (!list.includes(code)) list.push(code);
    }
  }
  return merged as ErrorCodes;
}

/** The body of every error: `{"error": code, "message": sentence}`. */
export function errorBody(codes: readonly string[]) {
  return z.object({
    error: z.enum(codes as [string, ...string[]]).describe("Stable snake_case code; branch on it, not on the message"),
    message: z.string().describe("One sentence for people"),
  });
}

/** RFC 6749 §5.2 errors of the client-credentials grant, with the provider's `message` besides. */
export function oauthErrorBody(codes: readonly string[]) {
  return z.object({
    error: z.enum(codes as [string, ...string[]]),
    error_description: z.string(),
    message: z.string().describe("The same sentence as error_description"),
  });
}

/** A `responses` entry per status of `codes`, each with its code list in the schema and the description. */
export function errorResponses(codes: ErrorCodes, oauth: ErrorCodes = {}) {
  const responses: Record<string, {
    description: string;
    headers?: Record<string, { description: string; schema: { type: "integer" | "string" } }>;
    content: { "application/json": { schema: z.ZodType } };
  }> = {};
  const statuses = new Set([...Object.keys(codes), ...Object.keys(oauth)].map(Number) as ErrorStatus[]);
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const plain = codes[status] ?? [];
    const grant = oauth[status] ?? [];
    const schemas = [
      ...(plain.length > 0 ? [errorBody(plain)] : []),
      ...(grant.length > 0 ? [oauthErrorBody(grant)] : []),
    ];
    const described = [...plain, ...grant.filter((code) => !plain.includes(code))];
    responses[status] = {
      description: `${STATUS_TEXT[status]}: ${described.join(", ")}`,
      ...(status === 429
        ? { headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } } }
        : status === 401
        ? {
          headers: {
            "WWW-Authenticate": { description: "Bearer, or Basic for the grant", schema: { type: "string" } },
          },
        }
        : {}),
      content: { "application/json": { schema: schemas.length === 1 ? schemas[0] : z.union(schemas) } },
    };
  }
  return responses;
}

// Shared fields.
const uuid = z.uuid();
const isoTime = z.iso.datetime();
const status = z.enum(USER_STATUSES as [string, ...string[]]);
const audience = z.enum([AUDIENCE.auth, AUDIENCE.api, AUDIENCE.internal]);
const scopeString = z.string().describe("Space-separated scopes; may be empty");

/** `{email}`. */
export const EmailBody = z.object({ email: z.string().describe("A plain mailbox such as user@example.com") })
  .openapi("EmailBody");

/** `{email, otp}`. */
export const VerifyBody = z.object({ email: z.string(), otp: z.string().describe("The six digits from the mail") })
  .openapi("VerifyBody");

/** `{scope, ttl_seconds?}`. */
export const ApiTokenBody = z.object({
  scope: z.string().describe("Space-separated scopes of BUS_AUTH_API_USER_SCOPES that the account's policy allows"),
  ttl_seconds: z.int().min(1).optional().describe("At most BUS_AUTH_API_TOKEN_MAX_TTL_SECONDS"),
}).openapi("ApiTokenBody");

/** `register`. */
export const Registration = z.object({ user_id: uuid, email: z.string(), status, verified: z.boolean() })
  .openapi("Registration");

/** `otp/request`. */
export const OtpSent = z.object({ status: z.literal("sent"), expires_in: z.int() }).openapi("OtpSent");

const tokenFields = {
  access_token: z.string().describe("The JWT"),
  token_type: z.literal("Bearer"),
  expires_in: z.int(),
  expires_at: isoTime,
};

/** `otp/verify` and `token/refresh`: an auth-service session token. */
export const Session = z.object({ ...tokenFields, user_id: uuid, verified: z.literal(true), status })
  .openapi("Session");

/** `status`. */
export const Status = z.object({ user_id: uuid, verified: z.boolean(), status, account_id: uuid.optional() })
  .openapi("Status");

/** `me`. */
export const Me = z.object({
  user_id: uuid,
  email: z.string(),
  verified: z.boolean(),
  status,
  account_id: uuid.optional().describe("Only while approved"),
}).openapi("Me");

/** `token`: a user API token. */
export const ApiToken = z.object({ ...tokenFields, audience: z.literal(AUDIENCE.api), scope: scopeString })
  .openapi("ApiToken");

/** `check`: the claims of a token that still counts. */
export const Claims = z.object({
  sub: z.string(),
  aud: audience,
  scope: scopeString,
  iat: z.int(),
  exp: z.int(),
  iss: z.string(),
  jti: uuid,
  client_id: uuid.optional().describe("For a service client's token"),
}).openapi("Claims");

/** `admin/waitlist`. */
export const UserPage = z.object({
  users: z.array(z.object({
    user_id: uuid,
    email: z.string(),
    verified: z.boolean(),
    status,
    created_at: isoTime,
    updated_at: isoTime,
  })),
  next_cursor: z.string().nullable().describe("null on the last page"),
}).openapi("UserPage");

/** `admin/approve` body. */
export const ApproveBody = z.object({
  email: z.string(),
  scopes: z.string().nullable().optional().describe("Sets the account's scope policy too (admin:manage)"),
}).openapi("ApproveBody");

/** `admin/approve`. */
export const Approval = z.object({ user_id: uuid, email: z.string(), status: z.literal("approved"), account_id: uuid })
  .openapi("Approval");

/** `admin/reject` body. */
export const RejectBody = z.object({ email: z.string(), reason: z.string().nullable().optional() })
  .openapi("RejectBody");

/** `admin/reject`. */
export const Rejection = z.object({
  user_id: uuid,
  email: z.string(),
  status: z.literal("rejected"),
  reason: z.string().nullable(),
}).openapi("Rejection");

/** `admin/tokens/revoke` body and answer. */
export const RevokeBody = z.object({ jti: uuid }).openapi("RevokeBody");
export const Revocation = z.object({ jti: uuid, revoked: z.literal(true) }).openapi("Revocation");

/** A policy: `scopes` null for the default. */
export const AccountPolicy = z.object({
  account_id: uuid,
  user_id: uuid,
  email: z.string(),
  status,
  scopes: z.string().nullable().describe("null: the whole BUS_AUTH_API_USER_SCOPES list"),
  default: z.boolean(),
  effective_scopes: scopeString,
}).openapi("AccountPolicy");

/** `PUT …/policy` body. */
export const PolicyBody = z.object({ scopes: z.string().nullable() }).openapi("PolicyBody");

/** `admin/audit`. */
export const AuditPage = z.object({
  records: z.array(z.object({
    audit_id: uuid,
    at: isoTime,
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    detail: z.string().nullable(),
    request_id: z.string().nullable(),
    source_ip: z.string().nullable(),
    outcome: z.string(),
  })),
  next_cursor: z.string().nullable(),
}).openapi("AuditPage");

const clientFields = {
  client_id: uuid,
  name: z.string(),
  audience,
  scopes: z.array(z.string()),
  ttl_max_seconds: z.int(),
};

/** `POST admin/clients` body. */
export const ClientBody = z.object({
  name: z.string().describe("[a-z0-9][a-z0-9-]{0,63}"),
  audience,
  scopes: z.union([z.string(), z.array(z.string())]),
  ttl_max_seconds: z.int().nullable().optional(),
}).openapi("ClientBody");

/** `POST admin/clients`: the only answer besides rotate's that holds a key. */
export const CreatedClient = z.object({
  ...clientFields,
  key: z.string().describe("bsk_ and 43 base64url characters; shown once"),
  key_prefix: z.string(),
  created_at: isoTime,
}).openapi("CreatedClient");

/** `GET admin/clients`. */
export const ClientList = z.object({
  clients: z.array(z.object({
    ...clientFields,
    status: z.enum(["active", "revoked"]),
    keys: z.array(z.object({ key_prefix: z.string(), created_at: isoTime, retires_at: isoTime.nullable() })),
    created_at: isoTime,
    last_used_at: isoTime.nullable(),
    revoked_at: isoTime.nullable(),
  })),
}).openapi("ClientList");

/** `rotate` body and answer. */
export const RotateBody = z.object({ retire_after_seconds: z.int().nullable().optional() }).openapi("RotateBody");
export const Rotation = z.object({
  client_id: uuid,
  name: z.string(),
  key: z.string(),
  key_prefix: z.string(),
  old_keys_retire_at: isoTime.nullable(),
}).openapi("Rotation");

/** `revoke`. */
export const ClientRevocation = z.object({
  client_id: uuid,
  name: z.string(),
  revoked: z.literal(true),
  revoked_at: isoTime,
}).openapi("ClientRevocation");

/** `verify-key` body and answer. */
export const KeyBody = z.object({ key: z.string() }).openapi("KeyBody");
export const KeyCheck = z.object({ client_id: uuid, name: z.string(), valid: z.boolean() }).openapi("KeyCheck");

/** The internal endpoint's JSON body (with `X-Bus-Internal-Key`). */
export const InternalTokenBody = z.object({
  subject: z.string().optional().describe("[A-Za-z0-9._:@-]{1,128}"),
  audience: audience.optional(),
  scope: z.string().optional(),
  ttl_seconds: z.int().min(1).optional(),
}).openapi("InternalTokenBody");

/** The client-credentials grant's form (RFC 6749 §4.4). */
export const ClientCredentialsForm = z.object({
  grant_type: z.literal("client_credentials"),
  client_id: uuid.optional().describe("Or HTTP Basic"),
  client_secret: z.string().optional().describe("Or HTTP Basic"),
  scope: z.string().optional(),
  ttl_seconds: z.string().regex(/^[1-9][0-9]{0,8}$/).optional(),
}).openapi("ClientCredentialsForm");

/** An internal token; `client_id` for a client's grant. */
export const InternalToken = z.object({
  ...tokenFields,
  audience,
  subject: z.string(),
  scope: scopeString,
  ttl_capped: z.boolean(),
  client_id: uuid.optional(),
}).openapi("InternalToken");

/** `/healthz`. */
export const Health = z.object({
  ok: z.literal(true),
  store: z.string(),
  otp_sender: z.string(),
  version: z.string(),
}).openapi("Health");
export const Unhealthy = z.object({ ok: z.literal(false), store: z.string(), error: z.literal("store_unavailable") })
  .openapi("Unhealthy");

/** `/livez`. */
export const Live = z.object({ ok: z.literal(true) }).openapi("Live");

const readiness = {
  store: z.enum(["ok", "unavailable"]),
  schema: z.enum(["current", "ahead", "behind", "unknown"]),
  schema_version: z.int().nullable(),
  schema_latest: z.int().nullable(),
  smtp: z.enum(["ok", "unreachable", "not_used"]),
};

/** `/readyz`. */
export const Ready = z.object({ ok: z.literal(true), ...readiness }).openapi("Ready");
export const NotReady = z.object({
  ok: z.literal(false),
  ...readiness,
  error: z.literal("not_ready"),
  message: z.string(),
}).openapi("NotReady");
