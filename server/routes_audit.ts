/**
 * `GET {A}/admin/audit?since=&actor=&target=&action=&cursor=&limit=`: one
 * page of the audit trail, oldest first, as `{records, next_cursor}`.
 *
 * @module
 */

import { Hono } from "hono";
import { InvalidInputError } from "../lib/errors.ts";
import { type AuditPage, listAuditTrail } from "../lib/service/audit_trail.ts";
import type { AppEnv } from "./env.ts";
import { bearerToken } from "./request.ts";

/** The audit route of one auth base. */
export function auditRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/admin/audit", async (c) => {
    const token = bearerToken(c);
    const limit = c.req.query("limit");
    if (limit !== undefined && !/^[0-9]{1,6}$/.test(limit)) {
      throw new InvalidInputError("invalid_limit", "Cannot list the audit trail: limit must be a whole number");
    }
    const page = await listAuditTrail(c.get("ctx"), token, {
      since: c.req.query("since"),
      actor: c.req.query("actor"),
      target: c.req.query("target"),
      action: c.req.query("action"),
      cursor: c.req.query("cursor"),
      limit: limit === undefined ? undefined : Number(limit),
    });
    return c.json(auditPageJson(page));
  });

  return routes;
}

/** The wire shape of a page: snake_case fields, ISO times. */
export function auditPageJson(page: AuditPage) {
  return {
    records: page.records.map((record) => ({
      audit_id: record.auditId,
      at: new Date(record.at).toISOString(),
      actor: record.actor,
      action: record.action,
      target: record.target,
      detail: record.detail,
      request_id: record.requestId,
      source_ip: record.sourceIp,
      outcome: record.outcome,
    })),
    next_cursor: page.nextCursor,
  };
}
