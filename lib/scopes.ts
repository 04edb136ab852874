/**
 * Scopes: parsing of space-separated scope strings, the end-user allow-list
 * and the operator powers that end users may never hold.
 *
 * @module
 */

import { ForbiddenError, InvalidInputError, quotable } from "./errors.ts";

/** Longest scope string a request may carry, in characters. */
export const MAX_SCOPE_STRING_LENGTH = 2048;
const SCOPE_TOKEN = /^[A-Za-z0-9._:*-]{1,128}$/;

/**
 * Scopes that grant operator or service powers. They are allowed in internal
 * tokens only; an end-user allow-list naming one is a configuration error.
 */
const INTERNAL_SCOPE_PATTERNS: readonly RegExp[] = [
  /^admin(:|$)/,
  /^waitlist(:|$)/,
  /^internal(:|$)/,
  /^billing:catalog(:|$)/,
  /^billing:entitlement(:|$)/,
  /^usage:delete$/,
  /:admin$/,
];

/** Scopes every auth-service admin call accepts, by operation. */
export const ADMIN_SCOPES = Object.freeze({
  waitlist: Object.freeze(["waitlist:read", "admin:manage"]),
  approve: Object.freeze(["waitlist:approve", "admin:manage"]),
  reject: Object.freeze(["waitlist:approve", "waitlist:reject", "admin:manage"]),
  revoke: Object.freeze(["admin:manage"]),
  /** Reading or setting an account's scope policy, also as part of an approval. */
  policy: Object.freeze(["admin:manage"]),
});

/**
 * Splits a space-separated scope string into distinct scopes, keeping their
 * first-seen order. An empty or blank string is the empty list.
 *
 * @throws {InvalidInputError} `invalid_scope` for a scope with characters outside `[A-Za-z0-9._:*-]`
 * @example
 * ```ts
 * parseScope("llm:proxy  billing:read llm:proxy"); // ["llm:proxy", "billing:read"]
 * ```
 */
export function parseScope(value: string): string[] {
  if (value.length > MAX_SCOPE_STRING_LENGTH) {
    throw new InvalidInputError(
      "invalid_scope",
      `Cannot parse scope: longer than ${MAX_SCOPE_STRING_LENGTH} characters`,
    );
  }
  const scopes: string[] = [];
  for (const scope of value.split(/[ \t]+/)) {
    if (scope === "") continue;
    if (!SCOPE_TOKEN.test(scope)) {
      throw new InvalidInputError(
        "invalid_scope",
        `Cannot parse scope "${quotable(scope)}": use letters, digits and . _ : * -`,
      );
    }
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  return scopes;
}

/** Joins scopes into the space-separated claim form. */
export function formatScope(scopes: readonly string[]): string {
  return scopes.join(" ");
}

/**
 * Tells whether a scope is an operator or service power that end users may
 * never receive (`admin:*`, `waitlist:*`, `internal:*`, billing catalog and
 * entitlement management, `…:admin`), or a wildcard pattern.
 */
export function isInternalScope(scope: string): boolean {
  return scope.includes("*") || INTERNAL_SCOPE_PATTERNS.some((pattern) => pattern.test(scope));
}

/**
 * Checks that every requested scope is in the allow-list.
 *
 * @throws {InvalidInputError} `invalid_scope` when nothing is requested
 * @throws {ForbiddenError} `scope_not_allowed` naming the scopes outside the list
 */
export function requireAllowedScopes(requested: readonly string[], allowed: readonly string[]): void {
  if (requested.length === 0) {
    throw new InvalidInputError("invalid_scope", "Cannot issue an API token: no scope requested");
  }
  const refused = requested.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0) {
    throw new ForbiddenError(
      "scope_not_allowed",
      `Cannot issue scope "${refused.join(" ")}": not in the scopes this provider issues to users`,
    );
  }
}

/** Tells whether a scope claim string holds at least one of the given scopes. */
export function hasAnyScope(scopeClaim: string, anyOf: readonly string[]): boolean {
  const held = scopeClaim.split(" ");
  return anyOf.some((scope) => held.includes(scope));
}
