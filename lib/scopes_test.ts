import assert from "node:assert/strict";
import { ForbiddenError, InvalidInputError } from "./errors.ts";
import { hasAnyScope, isInternalScope, parseScope, requireAllowedScopes } from "./scopes.ts";

Deno.test("parseScope() splits on spaces, drops repeats and keeps order", () => {
  assert.deepEqual(parseScope(" llm:proxy  billing:read\tllm:proxy "), ["llm:proxy", "billing:read"]);
  assert.deepEqual(parseScope(""), []);
});

Deno.test("parseScope() refuses characters outside the scope alphabet and huge strings", () => {
  for (const bad of ["a;b", "a,b", "llm:proxy\nadmin", "é", "a".repeat(129), "x ".repeat(1100)]) {
    assert.throws(() => parseScope(bad), (e) => e instanceof InvalidInputError && e.code === "invalid_scope");
  }
});

Deno.test("isInternalScope() marks operator powers and wildcards, not user features", () => {
  for (
    const scope of [
      "admin:manage",
      "waitlist:read",
      "waitlist:approve",
      "internal:x",
      "billing:catalog:write",
      "billing:entitlement:check",
      "container:admin",
      "events:*",
      "*",
    ]
  ) {
    assert.equal(isInternalScope(scope), true, scope);
  }
  for (
    const scope of [
      "llm:proxy",
      "billing:read",
      "billing:setup",
      "vm:read",
      "container:run",
      "usage:read",
      "terminal:read",
    ]
  ) {
    assert.equal(isInternalScope(scope), false, scope);
  }
});

Deno.test("requireAllowedScopes() names the refused scopes and refuses an empty request", () => {
  requireAllowedScopes(["llm:proxy"], ["llm:proxy", "vm:read"]);
  assert.throws(
    () => requireAllowedScopes(["llm:proxy", "vm:write"], ["llm:proxy"]),
    (e) => e instanceof ForbiddenError && e.code === "scope_not_allowed" && e.message.includes('"vm:write"'),
  );
  assert.throws(() => requireAllowedScopes([], ["llm:proxy"]), InvalidInputError);
});

Deno.test("hasAnyScope() matches whole scopes only", () => {
  assert.equal(hasAnyScope("waitlist:read admin:manage", ["admin:manage"]), true);
  assert.equal(hasAnyScope("waitlist:reader", ["waitlist:read"]), false);
  assert.equal(hasAnyScope("", ["waitlist:read"]), false);
});
