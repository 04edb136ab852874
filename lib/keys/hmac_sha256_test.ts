import assert from "node:assert/strict";
import { HmacSha256 } from "./hmac_sha256.ts";

const hex = (text: string) => Uint8Array.fromHex(text);
const ascii = (text: string) => new TextEncoder().encode(text);

Deno.test("HmacSha256 gives RFC 4231's HMAC-SHA-256 for its test cases", () => {
  const cases: [key: Uint8Array, data: Uint8Array, mac: string][] = [
    [hex("0b".repeat(20)), ascii("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [
      ascii("Jefe"),
      ascii("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [hex("aa".repeat(20)), hex("dd".repeat(50)), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    [
      hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
      hex("cd".repeat(50)),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ],
    [
      hex("aa".repeat(131)),
      ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      hex("aa".repeat(131)),
      ascii(
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [key, data, mac] of cases) assert.equal(new HmacSha256(key).sign(data).toHex(), mac);
});

Deno.test("HmacSha256 agrees with WebCrypto's HMAC for keys and messages of every length around the block size", async () => {
  for (const keyLength of [0, 1, 31, 32, 63, 64, 65, 100, 128, 200]) {
    const key = crypto.getRandomValues(new Uint8Array(keyLength));
    const hmac = new HmacSha256(key);
    const reference = keyLength === 0 ? null : await crypto.subtle.importKey(
      "raw",
      key,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    for (const dataLength of [0, 1, 55, 56, 63, 64, 65, 119, 120, 300, 1000]) {
      const data = crypto.getRandomValues(new Uint8Array(dataLength));
      const mac = hmac.sign(data);
      assert.equal(mac.length, 32);
      if (reference !== null) {
        assert.equal(mac.toHex(), new Uint8Array(await crypto.subtle.sign("HMAC", reference, data)).toHex());
      }
    }
  }
});

Deno.test("HmacSha256 signs a text as its UTF-8 bytes, and signBase64url is the unpadded base64url of that MAC", () => {
  const hmac = new HmacSha256(ascii("a key of thirty-two bytes or so.."));
  for (const text of ["", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30", "scope ä €  𝄞", "x".repeat(5000)]) {
    const bytes = new TextEncoder().encode(text);
    assert.equal(hmac.sign(text).toHex(), hmac.sign(bytes).toHex());
    assert.equal(hmac.signBase64url(text), hmac.sign(bytes).toBase64({ alphabet: "base64url", omitPadding: true }));
  }
  const view = new Uint8Array(new TextEncoder().encode("__Hi There__").buffer, 2, 8);
  assert.equal(
    new HmacSha256(hex("0b".repeat(20))).sign(view).toHex(),
    new HmacSha256(hex("0b".repeat(20))).sign("Hi There").toHex(),
  );
});
