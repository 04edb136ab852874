/**
 * Operator routes below each auth base: `admin/waitlist`, `admin/approve`,
 * `admin/reject`, `admin/tokens/revoke`.
 *
 * @module
 */

import { Hono } from "hono";
import { InvalidInputError } from "../lib/errors.ts";
import { approveUser, listUsers, rejectUser, revokeTokenId } from "../lib/service/admin.ts";
import { USER_STATUSES, type UserStatus } from "../lib/store/store.ts";
import type { AppEnv } from "./env.ts";
import { approvalJson, rejectionJson, revocationJson, userPageJson } from "./presenters.ts";
import { bearerToken, nullableString, optionalString, readJsonObject, requireString } from "./request.ts";

/** Admin routes of one auth base. */
export function adminRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/admin/waitlist", async (c) => {
    const token = bearerToken(c);
    const limit = c.req.query("limit");
    if (limit !== undefined && !/^[0-9]{1,6}$/.test(limit)) {
      throw new InvalidInputError("invalid_limit", "Cannot list users: limit must be a whole number");
    }
    const page = await listUsers(c.get("ctx"), token, {
      status: readStatusFilter(c.req.query("status")),
      limit: limit === undefined ? undefined : Number(limit),
      cursor: c.req.query("cursor"),
    });
    return c.json(userPageJson(page));
  });

  routes.post("/admin/approve", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c);
    const approved = await approveUser(
      c.get("ctx"),
      token,
      requireString(body, "email"),
      nullableString(body, "scopes"),
    );
    return c.json(approvalJson(approved));
  });

  routes.post("/admin/reject", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c);
    const user = await rejectUser(
      c.get("ctx"),
      token,
      requireString(body, "email"),
      optionalString(body, "reason") ?? null,
    );
    return c.json(rejectionJson(user));
  });

  routes.post("/admin/tokens/revoke", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c);
    return c.json(revocationJson(await revokeTokenId(c.get("ctx"), token, requireString(body, "jti"))));
  });

  return routes;
}

/** `?status=` of the waitlist: a status, `all`, or absent (waitlisted). */
function readStatusFilter(value: string | undefined): UserStatus | null {
  if (value === undefined) return "waitlisted";
  if (value === "all") return null;
  if ((USER_STATUSES as readonly string[]).includes(value)) return value as UserStatus;
  throw new InvalidInputError(
    "invalid_status",
    `Cannot list status "${value.slice(0, 32)}": use waitlisted, approved, rejected or all`,
  );
}
