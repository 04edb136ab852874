import assert from "node:assert/strict";
import { WRITE_CHUNK_BYTES, writeText } from "./write_text.ts";

/** A stream that keeps what it is given, taking at most `most` bytes a call. */
function capture(most = Infinity) {
  const parts: Uint8Array[] = [];
  const sizes: number[] = [];
  return {
    parts,
    sizes,
    writeSync(bytes: Uint8Array): number {
      const taken = bytes.slice(0, Math.min(most, bytes.length));
      parts.push(taken);
      sizes.push(taken.length);
      return taken.length;
    },
    text: () => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(parts.flatMap((part) => [...part]))),
  };
}

Deno.test("writeText writes a text as UTF-8, past the chunk size, without splitting a character between chunks", () => {
  const texts = [
    "",
    '{"msg":"listening"}\n',
    "ä€𝄞\n".repeat(20_000),
    "x".repeat(WRITE_CHUNK_BYTES - 1) + "𝄞" + "y".repeat(10),
    "x".repeat(3 * WRITE_CHUNK_BYTES + 5),
  ];
  for (const text of texts) {
    const stream = capture();
    writeText(stream, text);
    assert.equal(stream.text(), text);
    assert.ok(stream.sizes.every((size) => size <= WRITE_CHUNK_BYTES));
    for (const part of stream.parts) new TextDecoder("utf-8", { fatal: true }).decode(part);
  }
});

Deno.test("writeText repeats short writes until every byte is written", () => {
  const text = "line ä\n".repeat(5000);
  const stream = capture(1000);
  writeText(stream, text);
  assert.equal(stream.text(), text);
  assert.ok(stream.sizes.length > 30);
});
