/**
 * Operator calls on account scope policies: read an account's policy and
 * what it allows now, narrow it or restore the default. Both need an
 * `ai.hg.fi/auth` token with `admin:manage`; a change is recorded in the
 * audit trail as `account.policy`.
 *
 * @module
 */

import { normalizeEmail } from "../email.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { effectiveScopes, parseScopePolicy, policyAuditDetail, type ScopePolicy } from "../scope_policy.ts";
import { ADMIN_SCOPES } from "../scopes.ts";
import type { UserRecord } from "../store/store.ts";
import { isCanonicalUuid } from "../uuid.ts";
import { authorizeAdminAct } from "./admin.ts";
import { adminActor, recordAudit } from "./audit.ts";
import type { AuthContext } from "./context.ts";

/** The account a call names: by account id or by the email of its registration. */
export type AccountRef = { accountId: string } | { email: string };

/** An account's policy and what it allows under the current global list. */
export interface AccountPolicy {
  user: UserRecord;
  accountId: string;
  /** The stored policy; `null` is the default (the whole global list). */
  policy: ScopePolicy;
  /** The scopes a token request of the account may name now. */
  effective: string[];
}

/**
 * Reads an account's scope policy.
 *
 * @throws {InvalidInputError} `invalid_account_id`, `invalid_email`
 * @throws {NotFoundError} `account_not_found`, `user_not_found`
 */
export async function readAccountPolicy(ctx: AuthContext, token: string, ref: AccountRef): Promise<AccountPolicy> {
  await authorizeAdminAct(ctx, token, { action: "account.policy.read", anyOf: ADMIN_SCOPES.policy });
  return policyOf(ctx, await findAccount(ctx, ref, "read"));
}

/**
 * Sets an account's scope policy: a space-separated subset of the global
 * list (`""` allows nothing), or `null` for the default. API tokens already
 * issued are not widened; those holding a scope the new policy drops are
 * refused by `checkToken` from now on.
 *
 * @throws {InvalidInputError} `invalid_account_id`, `invalid_email`, `invalid_scope`
 * @throws {ForbiddenError} `scope_not_allowed` for a scope outside the global list or an operator power
 * @throws {NotFoundError} `account_not_found`, `user_not_found`
 */
export async function setAccountPolicy(
  ctx: AuthContext,
  token: string,
  ref: AccountRef,
  scopes: string | null,
): Promise<AccountPolicy> {
  const claims = await authorizeAdminAct(ctx, token, { action: "account.policy", anyOf: ADMIN_SCOPES.policy });
  const policy = parseScopePolicy(scopes, ctx.policy.apiUserScopes);
  const found = await findAccount(ctx, ref, "set");
  const user = await ctx.store.setScopePolicy({ accountId: found.accountId, scopes: policy, now: ctx.now() });
  if (user === null) throw accountNotFound(found.accountId, "set");
  await recordAudit(ctx, {
    actor: adminActor(claims),
    action: "account.policy",
    target: found.accountId,
    detail: policyAuditDetail(policy),
  });
  return policyOf(ctx, { user, accountId: found.accountId });
}

function policyOf(ctx: AuthContext, found: { user: UserRecord; accountId: string }): AccountPolicy {
  const policy = found.user.scopePolicy;
  return { ...found, policy, effective: effectiveScopes(policy, ctx.policy.apiUserScopes) };
}

async function findAccount(
  ctx: AuthContext,
  ref: AccountRef,
  verb: "read" | "set",
): Promise<{ user: UserRecord; accountId: string }> {
  if ("accountId" in ref) {
    const accountId = ref.accountId.toLowerCase();
    if (!isCanonicalUuid(accountId)) {
      throw new InvalidInputError(
        "invalid_account_id",
        `Cannot ${verb} the scope policy of "${ref.accountId.slice(0, 64)}": an account id is a UUID`,
      );
    }
    const user = await ctx.store.findUserByAccountId(accountId);
    if (user === null) throw accountNotFound(accountId, verb);
    return { user, accountId };
  }
  const email = normalizeEmail(ref.email);
  const user = await ctx.store.findUserByEmail(email);
  if (user === null) {
    throw new NotFoundError("user_not_found", `Cannot ${verb} the scope policy of "${email}": no such registration`);
  }
  if (user.accountId === null) {
    throw new NotFoundError(
      "account_not_found",
      `Cannot ${verb} the scope policy of "${email}": it has no account until it is approved (approve can set the policy)`,
    );
  }
  return { user, accountId: user.accountId };
}

function accountNotFound(accountId: string, verb: string): NotFoundError {
  return new NotFoundError(
    "account_not_found",
    `Cannot ${verb} the scope policy of account "${accountId}": no such account`,
  );
}
