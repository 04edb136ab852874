/**
 * Service-client routes below each auth base, for operators with
 * `admin:manage`: `admin/clients` (create, list), and per client
 * `rotate`, `revoke` and `verify-key`.
 *
 * @module
 */

import { Hono } from "hono";
import { InvalidInputError } from "../lib/errors.ts";
import {
  createServiceClient,
  listServiceClients,
  revokeServiceClient,
  rotateServiceClientKey,
  verifyServiceClientKey,
} from "../lib/service/clients.ts";
import { clientJson, clientRevocationJson, createdClientJson, rotationJson } from "./client_presenters.ts";
import type { AppEnv } from "./env.ts";
import { bearerToken, type JsonBody, readJsonObject, requireString } from "./request.ts";

/** Client routes of one auth base. */
export function clientRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.post("/admin/clients", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c);
    const created = await createServiceClient(c.get("ctx"), token, {
      name: requireString(body, "name"),
      audience: requireString(body, "audience"),
      scopes: scopesField(body),
      ttlMaxSeconds: optionalNumber(body, "ttl_max_seconds", "invalid_ttl"),
    });
    return c.json(createdClientJson(created));
  });

  routes.get("/admin/clients", async (c) => {
    const ctx = c.get("ctx");
    const clients = await listServiceClients(ctx, bearerToken(c));
    const now = ctx.now();
    return c.json({ clients: clients.map((client) => clientJson(client, now)) });
  });

  routes.post("/admin/clients/:client_id/rotate", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c, { optional: true });
    const retireAfter = optionalNumber(body, "retire_after_seconds", "invalid_retire_after");
    return c.json(
      rotationJson(await rotateServiceClientKey(c.get("ctx"), token, c.req.param("client_id"), retireAfter)),
    );
  });

  routes.post("/admin/clients/:client_id/revoke", async (c) => {
    const revoked = await revokeServiceClient(c.get("ctx"), bearerToken(c), c.req.param("client_id"));
    return c.json(clientRevocationJson(revoked));
  });

  routes.post("/admin/clients/:client_id/verify-key", async (c) => {
    const token = bearerToken(c);
    const body = await readJsonObject(c);
    const checked = await verifyServiceClientKey(
      c.get("ctx"),
      token,
      c.req.param("client_id"),
      requireString(body, "key"),
    );
    return c.json({ client_id: checked.client.clientId, name: checked.client.name, valid: checked.valid });
  });

  return routes;
}

/** `scopes`: a space-separated string or a list of strings. */
function scopesField(body: JsonBody): string | readonly string[] {
  const value = body.scopes;
  if (typeof value === "string" || Array.isArray(value)) return value;
  throw new InvalidInputError(
    "invalid_scope",
    'The field "scopes" is required: a space-separated string or a list of scopes',
  );
}

/** A number field that the service checks further; `undefined` when absent. */
function optionalNumber(body: JsonBody, name: string, code: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number") throw new InvalidInputError(code, `The field "${name}" must be a whole number`);
  return value;
}
