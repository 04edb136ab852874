import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256, sha256AfterBlock, sha256Into } from "./sha256.ts";

const nodeSha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

Deno.test("sha256 gives FIPS 180-4's digests for its examples", () => {
  const cases: [message: string, digest: string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
    ["a".repeat(1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
  ];
  for (const [message, digest] of cases) {
    assert.equal(sha256(message).toHex(), digest);
    assert.equal(sha256(new TextEncoder().encode(message)).toHex(), digest);
  }
});

Deno.test("sha256 agrees with node:crypto for every length around the block boundaries, and for views into larger buffers", () => {
  const lengths = [...Array.from({ length: 200 }, (_, n) => n), 255, 256, 257, 1000, 4095, 4096, 4097, 10_000];
  for (const length of lengths) {
    const data = crypto.getRandomValues(new Uint8Array(length));
    assert.equal(sha256(data).toHex(), nodeSha256(data), `${length} bytes`);
    const padded = new Uint8Array(length + 10);
    padded.set(data, 7);
    assert.equal(sha256(padded.subarray(7, 7 + length)).toHex(), nodeSha256(data), `a view of ${length} bytes`);
  }
});

Deno.test("sha256 hashes a text as its UTF-8 bytes, also past the size of its encoding buffer", () => {
  for (
    const text of [
      "scope ä €  𝄞",
      "é".repeat(2047),
      "é".repeat(2048),
      "€".repeat(1365),
      "€".repeat(1366),
      "x".repeat(5000),
    ]
  ) {
    assert.equal(sha256(text).toHex(), nodeSha256(text), `${text.length} characters`);
  }
});

Deno.test("sha256Into writes at an offset and continues from a chaining value without changing it", () => {
  const block = crypto.getRandomValues(new Uint8Array(64));
  const chain = sha256AfterBlock(block);
  const before = chain.slice();
  const out = new Uint8Array(40).fill(0xee);
  for (const length of [0, 1, 55, 56, 64, 100, 300]) {
    const message = crypto.getRandomValues(new Uint8Array(length));
    const whole = new Uint8Array(64 + length);
    whole.set(block);
    whole.set(message, 64);
    sha256Into(message, out, 4, chain);
    assert.equal(out.subarray(4, 36).toHex(), nodeSha256(whole), `${length} bytes after a block`);
    assert.deepEqual(chain, before);
  }
  assert.deepEqual([...out.subarray(0, 4), ...out.subarray(36)], Array(8).fill(0xee));
  assert.throws(() => sha256AfterBlock(new Uint8Array(63)), RangeError);
});

Deno.test("sha256Into clears its shared buffers after each digest: the bytes of a secret hashed before do not reach the next one", () => {
  const secret = "a-secret-key-that-must-not-linger-in-memory";
  sha256Into(secret, new Uint8Array(32));
  // The next digest starts from clean buffers: hashing the empty text gives the empty text's digest.
  assert.equal(sha256("").toHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256(new Uint8Array(0)).toHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});
