/**
 * SHA-256 (FIPS 180-4) in plain TypeScript, for the short messages a
 * provider hashes on every request: the text of a token to sign, a shared
 * key to compare. It works in preallocated buffers and allocates nothing
 * per message when the caller supplies the output, because in Deno every
 * new `ArrayBuffer` costs about 1.2 µs, more than compressing a block
 * (about 0.3 µs); node:crypto's `createHash` allocates several per digest
 * and costs about 4 µs for a 32-byte message here. Checked against FIPS
 * 180-4's examples and node:crypto for every length around the block
 * boundaries (`sha256_test.ts`). Every operation is on 32-bit words, with
 * no branch or index that depends on the data, so its time depends only
 * on the message's length.
 *
 * @module
 */

import { utf8Bytes } from "../utf8_scratch.ts";

/** SHA-256's block size in bytes. */
export const SHA256_BLOCK_BYTES = 64;

/** SHA-256's digest size in bytes. */
export const SHA256_DIGEST_BYTES = 32;

/** The round constants (FIPS 180-4 §4.2.2). */
const K = Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);

/** The initial hash value (FIPS 180-4 §5.3.3). */
const INITIAL = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

/** The message schedule, reused by every block (the hash runs to completion synchronously). */
const SCHEDULE = new Int32Array(64);
/** The last one or two blocks of a message, with its padding and length. */
const TAIL = new Uint8Array(2 * SHA256_BLOCK_BYTES);
const TAIL_VIEW = new DataView(TAIL.buffer);
/** The state being worked on, so that a caller's chaining value is never changed. */
const WORK = new Int32Array(8);

/** Absorbs the 64-byte block at `offset` of `bytes` into `state`. */
function compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
  const w = SCHEDULE;
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = 0; i < 64; i++) {
    const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choice = (e & f) ^ (~e & g);
    const t1 = (h + sum1 + choice + K[i] + w[i]) | 0;
    const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + sum0 + majority) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/**
 * The chaining value after one whole block: the starting point of a keyed
 * hash whose first block is always the same (HMAC's padded keys).
 *
 * @throws {RangeError} when `block` is not 64 bytes
 */
export function sha256AfterBlock(block: Uint8Array): Int32Array {
  if (block.length !== SHA256_BLOCK_BYTES) throw new RangeError("A SHA-256 block is 64 bytes");
  const state = INITIAL.slice();
  compress(state, block, 0);
  return state;
}

/**
 * Writes into `out` at `outOffset` the SHA-256 digest of `message` (a
 * string stands for its UTF-8 bytes), continuing from `from`: the initial
 * value (omitted or `null`) or a chaining value from
 * {@link sha256AfterBlock}, which counts as 64 bytes already hashed. `from`
 * is not changed.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(32);
 * sha256Into("abc", out); // ba7816bf…
 * ```
 */
export function sha256Into(
  message: Uint8Array | string,
  out: Uint8Array,
  outOffset = 0,
  from: Int32Array | null = null,
): void {
  const bytes = typeof message === "string" ? utf8Bytes(message) : message;
  const length = bytes.length;
  const state = WORK;
  state.set(from ?? INITIAL);
  let offset = 0;
  for (; offset + SHA256_BLOCK_BYTES <= length; offset += SHA256_BLOCK_BYTES) compress(state, bytes, offset);
  const rest = length - offset;
  for (let i = 0; i < rest; i++) TAIL[i] = bytes[offset + i];
  TAIL[rest] = 0x80;
  const tailBytes = rest + 9 <= SHA256_BLOCK_BYTES ? SHA256_BLOCK_BYTES : 2 * SHA256_BLOCK_BYTES;
  const bits = (length + (from === null ? 0 : SHA256_BLOCK_BYTES)) * 8;
  TAIL_VIEW.setUint32(tailBytes - 8, Math.floor(bits / 0x1_0000_0000));
  TAIL_VIEW.setUint32(tailBytes - 4, bits >>> 0);
  compress(state, TAIL, 0);
  if (tailBytes > SHA256_BLOCK_BYTES) compress(state, TAIL, SHA256_BLOCK_BYTES);
  for (let i = 0; i < 8; i++) {
    const word = state[i];
    const at = outOffset + i * 4;
    out[at] = word >>> 24;
    out[at + 1] = word >>> 16;
    out[at + 2] = word >>> 8;
    out[at + 3] = word;
  }
  // What was hashed may be a secret (a key being compared): nothing of it stays in the shared buffers.
  if (typeof message === "string") bytes.fill(0);
  TAIL.fill(0);
  SCHEDULE.fill(0);
  state.fill(0);
}

/** The SHA-256 digest of `message` (a string: its UTF-8 bytes), in a new array. */
export function sha256(message: Uint8Array | string): Uint8Array {
  const out = new Uint8Array(SHA256_DIGEST_BYTES);
  sha256Into(message, out);
  return out;
}
