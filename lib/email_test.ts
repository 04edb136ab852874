import assert from "node:assert/strict";
import { normalizeEmail } from "./email.ts";
import { InvalidInputError } from "./errors.ts";

Deno.test("normalizeEmail() lower-cases, trims and converts IDN domains", () => {
  assert.equal(normalizeEmail("  User.Name+tag@Example.COM "), "user.name+tag@example.com");
  assert.equal(normalizeEmail("anna@Bücher.example"), "anna@xn--bcher-kva.example");
});

Deno.test("normalizeEmail() refuses everything that is not one plain mailbox", () => {
  for (
    const bad of [
      "",
      "plain",
      "@example.com",
      "user@",
      "user@localhost",
      "user@example.123",
      "a b@example.com",
      "a@b@example.com",
      '"quoted"@example.com',
      "user@[192.0.2.1]",
      "user@example.com\r\nBcc: x@example.com",
      "a@example.com,b@example.com",
      "user..dots@example.com",
      ".user@example.com",
      "user@-example.com",
      `${"a".repeat(65)}@example.com`,
      `a@${"b".repeat(250)}.com`,
    ]
  ) {
    assert.throws(() => normalizeEmail(bad), (e) => e instanceof InvalidInputError && e.code === "invalid_email", bad);
  }
});

Deno.test("normalizeEmail() messages never carry raw line breaks", () => {
  try {
    normalizeEmail("x\r\ny");
    assert.fail("accepted");
  } catch (error) {
    assert.ok(!/[\r\n]/.test((error as Error).message));
  }
});
