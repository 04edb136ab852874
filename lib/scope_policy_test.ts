import assert from "node:assert/strict";
import { ForbiddenError, InvalidInputError } from "./errors.ts";
import { effectiveScopes, parseScopePolicy, policyAuditDetail, scopesOutsidePolicy } from "./scope_policy.ts";

const GLOBAL = ["llm:proxy", "billing:read", "vm:read"];

Deno.test("parseScopePolicy() keeps a subset of the global list, null for the default, [] for none", () => {
  assert.deepEqual(parseScopePolicy(" vm:read llm:proxy vm:read", GLOBAL), ["vm:read", "llm:proxy"]);
  assert.equal(parseScopePolicy(null, GLOBAL), null);
  assert.deepEqual(parseScopePolicy("", GLOBAL), []);
});

Deno.test("parseScopePolicy() refuses scopes outside the global list and operator powers with scope_not_allowed", () => {
  const refused = (value: string, named: string) =>
    assert.throws(
      () => parseScopePolicy(value, GLOBAL),
      (e) => e instanceof ForbiddenError && e.code === "scope_not_allowed" && e.message.includes(`"${named}"`),
    );
  refused("llm:proxy container:run", "container:run");
  refused("llm:proxy admin:manage waitlist:read", "admin:manage waitlist:read");
  refused("vm:*", "vm:*");
  // An operator power stays refused even if a list were to name it.
  assert.throws(() => parseScopePolicy("admin:manage", ["admin:manage"]), ForbiddenError);
  assert.throws(() => parseScopePolicy("llm;proxy", GLOBAL), InvalidInputError);
});

Deno.test("effectiveScopes() and scopesOutsidePolicy() intersect the policy with the global list", () => {
  assert.deepEqual(effectiveScopes(null, GLOBAL), GLOBAL);
  assert.deepEqual(effectiveScopes(["vm:read", "gone:scope", "llm:proxy"], GLOBAL), ["vm:read", "llm:proxy"]);
  assert.deepEqual(effectiveScopes([], GLOBAL), []);
  assert.deepEqual(scopesOutsidePolicy(["llm:proxy", "billing:read"], ["llm:proxy"], GLOBAL), ["billing:read"]);
  assert.deepEqual(scopesOutsidePolicy(["llm:proxy", "old:scope"], null, GLOBAL), ["old:scope"]);
  assert.deepEqual(scopesOutsidePolicy([], [], GLOBAL), []);
});

Deno.test("policyAuditDetail() names the scopes, the default or the empty policy", () => {
  assert.equal(policyAuditDetail(["llm:proxy", "vm:read"]), "llm:proxy vm:read");
  assert.equal(policyAuditDetail(null), "default");
  assert.equal(policyAuditDetail([]), "(none)");
});
