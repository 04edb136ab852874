import assert from "node:assert/strict";
import { closestMatch, didYouMean, editDistance } from "./suggest.ts";

Deno.test("closestMatch() suggests the nearest command for a typo", () => {
  const commands = ["register", "login", "verify", "status", "token", "refresh", "logout", "me", "check"];
  assert.equal(closestMatch("regster", commands), "register");
  assert.equal(closestMatch("lgoin", commands), "login");
  assert.equal(closestMatch("stat", commands), "status");
  assert.equal(closestMatch("tokne", commands), "token");
});

Deno.test("closestMatch() stays silent when nothing is close", () => {
  assert.equal(closestMatch("teleport", ["register", "login"]), undefined);
  assert.equal(closestMatch("xy", ["me", "check"]), undefined);
  assert.equal(didYouMean("teleport", ["auth"]), "");
  assert.equal(didYouMean("auht", ["auth", "operator"]), '; did you mean "auth"?');
});

Deno.test("editDistance() counts a swap of neighbours as one edit", () => {
  assert.equal(editDistance("auth", "auht"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});
