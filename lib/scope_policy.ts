/**
 * Account scope policies: the scopes one account may be issued, a subset of
 * the global end-user list (`BUS_AUTH_API_USER_SCOPES`). `null` is the
 * default, the whole global list; an operator may narrow it, never widen it.
 * A scope is issued, and an issued token keeps working, only while both the
 * global list and the account's policy allow it.
 *
 * @module
 */

import { ForbiddenError } from "./errors.ts";
import { formatScope, isInternalScope, parseScope } from "./scopes.ts";

/** A stored policy: the scopes, or `null` for the default (the whole global list). */
export type ScopePolicy = readonly string[] | null;

/**
 * Parses the policy an operator asks for: a space-separated scope string
 * (`""` allows no scope at all), or `null` for the default. Every scope must
 * be in the global list, which never holds operator powers.
 *
 * @throws {InvalidInputError} `invalid_scope` for a malformed scope
 * @throws {ForbiddenError} `scope_not_allowed` naming an operator power or a scope outside the global list
 * @example
 * ```ts
 * parseScopePolicy("llm:proxy", ["llm:proxy", "billing:read"]); // ["llm:proxy"]
 * parseScopePolicy(null, ["llm:proxy"]); // null
 * ```
 */
export function parseScopePolicy(value: string | null, globalScopes: readonly string[]): string[] | null {
  if (value === null) return null;
  const scopes = parseScope(value);
  const internal = scopes.filter(isInternalScope);
  if (internal.length > 0) {
    throw new ForbiddenError(
      "scope_not_allowed",
      `Cannot put scope "${formatScope(internal)}" in a scope policy: operator powers are never issued to users`,
    );
  }
  const outside = scopes.filter((scope) => !globalScopes.includes(scope));
  if (outside.length > 0) {
    throw new ForbiddenError(
      "scope_not_allowed",
      `Cannot put scope "${
        formatScope(outside)
      }" in a scope policy: not in the scopes this provider issues to users (BUS_AUTH_API_USER_SCOPES)`,
    );
  }
  return scopes;
}

/**
 * The scopes a policy allows now: the global list for the default, else the
 * policy's scopes that the global list still holds, in the policy's order.
 *
 * @example
 * ```ts
 * effectiveScopes(["vm:read", "llm:proxy"], ["llm:proxy"]); // ["llm:proxy"]
 * ```
 */
export function effectiveScopes(policy: ScopePolicy, globalScopes: readonly string[]): string[] {
  return policy === null ? [...globalScopes] : policy.filter((scope) => globalScopes.includes(scope));
}

/** The scopes among `held` that the policy (under the global list) does not allow now, in `held`'s order. */
export function scopesOutsidePolicy(
  held: readonly string[],
  policy: ScopePolicy,
  globalScopes: readonly string[],
): string[] {
  const allowed = effectiveScopes(policy, globalScopes);
  return held.filter((scope) => !allowed.includes(scope));
}

/**
 * Checks that an account's policy allows every requested scope; run after
 * the global list check, so a refusal here is the policy's.
 *
 * @throws {ForbiddenError} `scope_not_allowed` naming the scopes the policy forbids
 */
export function requirePolicyAllows(
  requested: readonly string[],
  policy: ScopePolicy,
  globalScopes: readonly string[],
): void {
  const refused = scopesOutsidePolicy(requested, policy, globalScopes);
  if (refused.length > 0) {
    throw new ForbiddenError(
      "scope_not_allowed",
      `Cannot issue scope "${formatScope(refused)}": the account's scope policy does not allow it`,
    );
  }
}

/**
 * How a policy reads in the audit trail: its scopes, `default`, or `(none)`
 * for the empty policy (parentheses never occur in a scope).
 */
export function policyAuditDetail(policy: ScopePolicy): string {
  if (policy === null) return "default";
  return policy.length === 0 ? "(none)" : formatScope(policy);
}
