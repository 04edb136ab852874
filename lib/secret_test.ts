import assert from "node:assert/strict";
import { decodeSecret, SecretDigest, secretsEqual } from "./secret.ts";

Deno.test("decodeSecret() treats plain values as text, even when they look like base64", () => {
  assert.deepEqual(decodeSecret("AAEC"), new TextEncoder().encode("AAEC"));
});

Deno.test("decodeSecret() decodes base64: values in both alphabets and refuses garbage", () => {
  assert.deepEqual(decodeSecret("base64:AAEC/w=="), new Uint8Array([0, 1, 2, 255]));
  assert.deepEqual(decodeSecret("base64:AAEC_w"), new Uint8Array([0, 1, 2, 255]));
  assert.equal(decodeSecret("base64:not base64!"), null);
  assert.equal(decodeSecret("base64:A"), null);
});

Deno.test("secretsEqual() compares contents whatever the lengths", () => {
  assert.equal(secretsEqual("same-key", "same-key"), true);
  assert.equal(secretsEqual("same-key", new TextEncoder().encode("same-key")), true);
  assert.equal(secretsEqual("same-key", "same-kex"), false);
  assert.equal(secretsEqual("same-key", "same-key-longer"), false);
  assert.equal(secretsEqual("", "x"), false);
  assert.equal(secretsEqual("", ""), true);
});

Deno.test("secretsEqual() tells apart secrets that differ in any one byte, also past 4 KiB and in UTF-8", () => {
  const secret = crypto.getRandomValues(new Uint8Array(40));
  for (let i = 0; i < secret.length; i++) {
    const other = secret.slice();
    other[i] ^= 1;
    assert.equal(secretsEqual(secret, other), false, `byte ${i}`);
    assert.equal(secretsEqual(secret, secret.slice()), true);
  }
  assert.equal(secretsEqual("k".repeat(5000), "k".repeat(5000)), true);
  assert.equal(secretsEqual("k".repeat(5000), "k".repeat(4999) + "j"), false);
  assert.equal(secretsEqual("schlüssel", new TextEncoder().encode("schlüssel")), true);
  assert.equal(secretsEqual("schlüssel", "schlussel"), false);
});

Deno.test("SecretDigest.matches() accepts the secret alone, in any encoding, and again after a refusal", () => {
  const secret = crypto.getRandomValues(new Uint8Array(40));
  const digest = new SecretDigest(secret);
  for (let i = 0; i < secret.length; i++) {
    const other = secret.slice();
    other[i] ^= 1;
    assert.equal(digest.matches(other), false, `byte ${i}`);
    assert.equal(digest.matches(secret.slice()), true);
  }
  assert.equal(digest.matches(secret.subarray(0, 39)), false);
  assert.equal(digest.matches(new Uint8Array([...secret, 0])), false);
  assert.equal(digest.matches(""), false);
  const text = new SecretDigest("schlüssel");
  assert.equal(text.matches(new TextEncoder().encode("schlüssel")), true);
  assert.equal(text.matches("schlüssel"), true);
  assert.equal(text.matches("schlussel"), false);
  assert.equal(new SecretDigest("").matches(""), true);
});

Deno.test("SecretDigest and secretsEqual() share their scratch digests without mixing them up", () => {
  const digest = new SecretDigest("configured-key");
  assert.equal(secretsEqual("a", "b"), false);
  assert.equal(digest.matches("configured-key"), true);
  assert.equal(secretsEqual("same", "same"), true);
  assert.equal(digest.matches("configured-kez"), false);
});
