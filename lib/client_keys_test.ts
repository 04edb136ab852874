import assert from "node:assert/strict";
import {
  CLIENT_KEY_PREFIX,
  clientKeyPrefix,
  generateClientKey,
  hashClientKey,
  isClientKey,
  matchesClientKey,
} from "./client_keys.ts";

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));

Deno.test("generateClientKey() makes bsk_ and 43 base64url characters of 32 random bytes, with prefix and hash", () => {
  const { key, prefix, hash } = generateClientKey(random);
  assert.match(key, /^bsk_[A-Za-z0-9_-]{43}$/);
  assert.equal(prefix, key.slice(0, 8));
  assert.ok(prefix.startsWith(CLIENT_KEY_PREFIX));
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(hash, hashClientKey(key));
  assert.notEqual(generateClientKey(random).key, key, "a fresh key each time");
});

Deno.test("generateClientKey() encodes the bytes it is given and refuses a short source", () => {
  const zeros = generateClientKey((length) => new Uint8Array(length));
  assert.equal(zeros.key, `bsk_${"A".repeat(43)}`);
  assert.equal(zeros.prefix, "bsk_AAAA");
  // SHA-256 of the text of the key, as `printf %s KEY | sha256sum` gives it.
  assert.equal(zeros.hash, "b67a99aefbfb5ecc04b145e9a2272bfbcdf270986dd6efc3d0db5c43b5c0c23f");
  const ones = generateClientKey((length) => new Uint8Array(length).fill(0xff));
  assert.equal(ones.key, `bsk_${"_".repeat(42)}8`);
  assert.throws(() => generateClientKey(() => new Uint8Array(16)), RangeError);
});

Deno.test("isClientKey() accepts only the canonical form", () => {
  const { key } = generateClientKey(random);
  assert.equal(isClientKey(key), true);
  assert.equal(isClientKey(`bsk_${"_".repeat(42)}8`), true);
  for (
    const bad of [
      "",
      key.slice(1),
      `${key}=`,
      `${key}x`,
      key.slice(0, -1),
      `BSK_${key.slice(4)}`,
      `bsk_${"A".repeat(42)}B`, // unused bits set: not what the encoder writes
      `bsk_${"A".repeat(42)}+`,
      `${key.slice(0, 20)} ${key.slice(21)}`,
    ]
  ) {
    assert.equal(isClientKey(bad), false, bad);
  }
});

Deno.test("clientKeyPrefix() shows the first 8 characters only", () => {
  assert.equal(clientKeyPrefix("bsk_AbC1defghijklmnop"), "bsk_AbC1");
});

Deno.test("matchesClientKey() accepts a current or still-retiring key and refuses retired, unknown and malformed ones", () => {
  const now = 1_700_000_000_000;
  const current = generateClientKey(random);
  const retiring = generateClientKey(random);
  const retired = generateClientKey(random);
  const keys = [
    { hash: retired.hash, retiresAt: now - 1 },
    { hash: retiring.hash, retiresAt: now + 60_000 },
    { hash: current.hash, retiresAt: null },
  ];
  assert.equal(matchesClientKey(current.key, keys, now), true);
  assert.equal(matchesClientKey(retiring.key, keys, now), true);
  assert.equal(matchesClientKey(retiring.key, keys, now + 60_000), false, "retired at its instant");
  assert.equal(matchesClientKey(retired.key, keys, now), false);
  assert.equal(matchesClientKey(generateClientKey(random).key, keys, now), false);
  assert.equal(matchesClientKey(current.key, [], now), false);
  assert.equal(matchesClientKey("", keys, now), false);
  assert.equal(matchesClientKey(current.hash, keys, now), false, "the hash is not the key");
  const odd = "not-a-key";
  assert.equal(matchesClientKey(odd, [{ hash: hashClientKey(odd), retiresAt: null }], now), false);
});
