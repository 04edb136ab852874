import assert from "node:assert/strict";
import { InvalidInputError } from "../errors.ts";
import { deriveOtpKey, generateOtp, hashOtp, requireOtpFormat } from "./code.ts";

Deno.test("generateOtp() gives six digits, keeping leading zeros", () => {
  const bytes = [new Uint8Array([0, 0, 0, 42])];
  assert.equal(generateOtp(() => bytes.shift()!), "000042");
  for (let i = 0; i < 100; i++) assert.match(generateOtp(), /^[0-9]{6}$/);
});

Deno.test("generateOtp() rejects draws above the largest multiple of 10^6 (no modulo bias)", () => {
  const draws = [new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array([0, 0, 0x03, 0xe8])];
  assert.equal(generateOtp(() => draws.shift()!), "001000");
  assert.equal(draws.length, 0, "the biased draw was discarded");
});

Deno.test("generateOtp() spreads digits evenly over 60,000 codes", () => {
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 60_000; i++) for (const digit of generateOtp()) counts[Number(digit)]++;
  // 36,000 per digit expected; 4 standard deviations is about ±700.
  for (const count of counts) assert.ok(Math.abs(count - 36_000) < 1_000, `digit count ${count}`);
});

Deno.test("hashOtp() is keyed and bound to the email", () => {
  const key = deriveOtpKey(new TextEncoder().encode("k".repeat(32)));
  const other = deriveOtpKey(new TextEncoder().encode("j".repeat(32)));
  const hash = hashOtp(key, "a@example.com", "123456");
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(hash, hashOtp(key, "a@example.com", "123456"));
  assert.notEqual(hash, hashOtp(other, "a@example.com", "123456"));
  assert.notEqual(hash, hashOtp(key, "b@example.com", "123456"));
  assert.ok(!hash.includes("123456"));
});

Deno.test("hashOtp() makes the hashes earlier versions stored (node:crypto's HMAC-SHA256)", () => {
  // Codes in flight in a SQL store when the provider is upgraded must still verify: these vectors were made with
  // node:crypto's createHmac, which made every stored hash before the provider's own HMAC did.
  const key = deriveOtpKey(new TextEncoder().encode("k".repeat(32)));
  assert.equal(
    hashOtp(key, "a@example.com", "123456"),
    "2316d36d94f0aea3edfc1e390087fc62be4f03f2e042050675d622740562f3e2",
  );
  // A secret longer than SHA-256's 64-byte block (80 UTF-8 bytes) and an email beyond ASCII.
  const long = deriveOtpKey(new TextEncoder().encode("ä".repeat(40)));
  assert.equal(
    hashOtp(long, "ünï@example.com", "000042"),
    "c38d43446caff258de96f994c2f33f847a8670257990214cefc6e8cb08320394",
  );
});

Deno.test("requireOtpFormat() accepts exactly six digits", () => {
  assert.equal(requireOtpFormat(" 012345 "), "012345");
  for (const bad of ["12345", "1234567", "12a456", "", "１２３４５６"]) {
    assert.throws(() => requireOtpFormat(bad), (e) => e instanceof InvalidInputError && e.code === "invalid_otp");
  }
});
