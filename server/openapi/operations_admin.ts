/**
 * OpenAPI descriptions of the operator routes below `/api/v1/auth`: the
 * waitlist and its decisions, token revocation, account scope policies and
 * the audit trail. Each needs an `ai.hg.fi/auth` admin token with a scope.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import {
  AccountPolicy,
  ADMIN_ERRORS,
  Approval,
  ApproveBody,
  AuditPage,
  BODY_ERRORS,
  errorResponses,
  merge,
  PolicyBody,
  RejectBody,
  Rejection,
  Revocation,
  RevokeBody,
  STORE_ERRORS,
  UserPage,
} from "./schemas.ts";
import { jsonBody, ok } from "./operations_user.ts";

const A = "/api/v1/auth";
const ADMIN = [{ bearerAuth: [] }];

const byAccountId = z.object({ account_id: z.uuid() });
const byEmail = z.object({ email: z.string().describe("The email of the account's registration") });
const POLICY_READ = merge(ADMIN_ERRORS, STORE_ERRORS, { 404: ["account_not_found", "user_not_found"] });
const POLICY_WRITE = merge(POLICY_READ, BODY_ERRORS, { 400: ["invalid_scope"], 403: ["scope_not_allowed"] });

/** The operator routes. */
export const ADMIN_OPERATIONS = [
  createRoute({
    method: "get",
    path: `${A}/admin/waitlist`,
    operationId: "listWaitlist",
    tags: ["admin"],
    summary: "One page of registrations (waitlist:read)",
    security: ADMIN,
    request: {
      query: z.object({
        limit: z.string().regex(/^[0-9]{1,6}$/).optional().describe("1 to 500; 100 by default"),
        cursor: z.string().optional().describe("next_cursor of the page before, as written"),
        status: z.enum(["waitlisted", "approved", "rejected", "all"]).optional().describe("waitlisted by default"),
      }),
    },
    responses: {
      ...ok(UserPage, "The page, oldest first"),
      ...errorResponses(
        merge({ 400: ["invalid_limit", "invalid_cursor", "invalid_status"] }, ADMIN_ERRORS, STORE_ERRORS),
      ),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/admin/approve`,
    operationId: "approve",
    tags: ["admin"],
    summary: "Approve a verified user (waitlist:approve or admin:manage; with scopes, admin:manage)",
    description: "The first approval creates the account id; repeating it answers the same.",
    security: ADMIN,
    request: { body: jsonBody(ApproveBody) },
    responses: {
      ...ok(Approval, "Approved"),
      ...errorResponses(
        merge(BODY_ERRORS, { 400: ["invalid_email", "invalid_scope"] }, ADMIN_ERRORS, {
          403: ["scope_not_allowed"],
          404: ["user_not_found"],
          409: ["not_verified"],
        }, STORE_ERRORS),
      ),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/admin/reject`,
    operationId: "reject",
    tags: ["admin"],
    summary: "Reject a user (waitlist:approve, waitlist:reject or admin:manage)",
    description: "Every API token issued to the account before it stops working for good.",
    security: ADMIN,
    request: { body: jsonBody(RejectBody) },
    responses: {
      ...ok(Rejection, "Rejected"),
      ...errorResponses(
        merge(
          BODY_ERRORS,
          { 400: ["invalid_email", "invalid_reason"] },
          ADMIN_ERRORS,
          { 404: ["user_not_found"] },
          STORE_ERRORS,
        ),
      ),
    },
  }),
  createRoute({
    method: "post",
    path: `${A}/admin/tokens/revoke`,
    operationId: "revokeToken",
    tags: ["admin"],
    summary: "Revoke any token of this system by its jti (admin:manage)",
    security: ADMIN,
    request: { body: jsonBody(RevokeBody) },
    responses: {
      ...ok(Revocation, "Revoked; the same answer when repeated"),
      ...errorResponses(merge(BODY_ERRORS, { 400: ["invalid_jti"] }, ADMIN_ERRORS, STORE_ERRORS)),
    },
  }),
  createRoute({
    method: "get",
    path: `${A}/admin/accounts/{account_id}/policy`,
    operationId: "readAccountPolicy",
    tags: ["admin"],
    summary: "An account's scope policy (admin:manage)",
    security: ADMIN,
    request: { params: byAccountId },
    responses: {
      ...ok(AccountPolicy, "The policy"),
      ...errorResponses(merge({ 400: ["invalid_account_id"] }, POLICY_READ)),
    },
  }),
  createRoute({
    method: "put",
    path: `${A}/admin/accounts/{account_id}/policy`,
    operationId: "setAccountPolicy",
    tags: ["admin"],
    summary: "Set an account's scope policy (admin:manage)",
    security: ADMIN,
    request: { params: byAccountId, body: jsonBody(PolicyBody) },
    responses: {
      ...ok(AccountPolicy, "The new policy"),
      ...errorResponses(merge({ 400: ["invalid_account_id"] }, POLICY_WRITE)),
    },
  }),
  createRoute({
    method: "get",
    path: `${A}/admin/accounts/policy`,
    operationId: "readAccountPolicyByEmail",
    tags: ["admin"],
    summary: "An account's scope policy, by its registration's email (admin:manage)",
    security: ADMIN,
    request: { query: byEmail },
    responses: {
      ...ok(AccountPolicy, "The policy"),
      ...errorResponses(merge({ 400: ["invalid_request", "invalid_email"] }, POLICY_READ)),
    },
  }),
  createRoute({
    method: "put",
    path: `${A}/admin/accounts/policy`,
    operationId: "setAccountPolicyByEmail",
    tags: ["admin"],
    summary: "Set an account's scope policy, by its registration's email (admin:manage)",
    security: ADMIN,
    request: { query: byEmail, body: jsonBody(PolicyBody) },
    responses: {
      ...ok(AccountPolicy, "The new policy"),
      ...errorResponses(merge({ 400: ["invalid_request", "invalid_email"] }, POLICY_WRITE)),
    },
  }),
  createRoute({
    method: "get",
    path: `${A}/admin/audit`,
    operationId: "listAudit",
    tags: ["audit"],
    summary: "One page of the audit trail, oldest first (admin:manage)",
    security: ADMIN,
    request: {
      query: z.object({
        since: z.string().optional().describe("An ISO time with offset, a date, or 90m/24h/7d back from now"),
        actor: z.string().optional(),
        target: z.string().optional(),
        action: z.string().optional(),
        cursor: z.string().optional(),
        limit: z.string().regex(/^[0-9]{1,6}$/).optional().describe("1 to 500; 100 by default"),
      }),
    },
    responses: {
      ...ok(AuditPage, "The page"),
      ...errorResponses(
        merge(
          { 400: ["invalid_since", "invalid_filter", "invalid_limit", "invalid_cursor"] },
          ADMIN_ERRORS,
          STORE_ERRORS,
        ),
      ),
    },
  }),
];
