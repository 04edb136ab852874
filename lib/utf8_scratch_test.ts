import assert from "node:assert/strict";
import { UTF8_SCRATCH_BYTES, utf8Bytes } from "./utf8_scratch.ts";

Deno.test("utf8Bytes gives a text's UTF-8 bytes, in the shared buffer when they fit and in an array of their own when not", () => {
  for (
    const text of [
      "",
      "abc",
      "scope ä €  𝄞",
      "é".repeat(UTF8_SCRATCH_BYTES / 2),
      "é".repeat(UTF8_SCRATCH_BYTES / 2 + 1),
    ]
  ) {
    assert.deepEqual([...utf8Bytes(text)], [...new TextEncoder().encode(text)], `${text.length} characters`);
  }
  const short = utf8Bytes("abc");
  assert.equal(short.buffer.byteLength, UTF8_SCRATCH_BYTES, "a view of the shared buffer");
  const long = utf8Bytes("x".repeat(UTF8_SCRATCH_BYTES + 1));
  assert.equal(long.buffer.byteLength, UTF8_SCRATCH_BYTES + 1, "an array of its own");
});
