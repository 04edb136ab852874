/**
 * Account scope policy routes below each auth base, for operators with
 * `admin:manage`:
 *
 * ```
 * GET|PUT {A}/admin/accounts/{account_id}/policy
 * GET|PUT {A}/admin/accounts/policy?email=<email>
 * ```
 *
 * PUT takes `{"scopes": "llm:proxy billing:read"}` (a subset of the global
 * list; `""` allows nothing) or `{"scopes": null}` for the default. Both
 * answer the policy and what it allows now.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { InvalidInputError } from "../lib/errors.ts";
import { type AccountRef, readAccountPolicy, setAccountPolicy } from "../lib/service/account_policy.ts";
import type { AppEnv } from "./env.ts";
import { accountPolicyJson } from "./presenters.ts";
import { bearerToken, nullableString, readJsonObject } from "./request.ts";

/** Policy routes of one auth base. */
export function policyRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  const read = async (c: Context<AppEnv>, refOf: (c: Context<AppEnv>) => AccountRef) => {
    const token = bearerToken(c);
    return c.json(accountPolicyJson(await readAccountPolicy(c.get("ctx"), token, refOf(c))));
  };
  const write = async (c: Context<AppEnv>, refOf: (c: Context<AppEnv>) => AccountRef) => {
    const token = bearerToken(c);
    const ref = refOf(c);
    const scopes = nullableString(await readJsonObject(c), "scopes");
    if (scopes === undefined) {
      throw new InvalidInputError(
        "invalid_request",
        'The field "scopes" is required: a space-separated list, or null for the default',
      );
    }
    return c.json(accountPolicyJson(await setAccountPolicy(c.get("ctx"), token, ref, scopes)));
  };

  routes.get("/admin/accounts/policy", (c) => read(c, byEmail));
  routes.put("/admin/accounts/policy", (c) => write(c, byEmail));
  routes.get("/admin/accounts/:account_id/policy", (c) => read(c, byAccountId));
  routes.put("/admin/accounts/:account_id/policy", (c) => write(c, byAccountId));

  return routes;
}

function byAccountId(c: Context<AppEnv>): AccountRef {
  return { accountId: c.req.param("account_id") ?? "" };
}

/** `?email=` of the by-email form. @throws {InvalidInputError} `invalid_request` when absent */
function byEmail(c: Context<AppEnv>): AccountRef {
  const email = c.req.query("email");
  if (email === undefined || email === "") {
    throw new InvalidInputError("invalid_request", "The query parameter email is required: ?email=<email>");
  }
  return { email };
}
