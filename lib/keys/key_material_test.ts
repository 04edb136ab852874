import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { generateSigningKey } from "./generate.ts";
import { jwkThumbprint, KeyFileError, parseKey } from "./key_material.ts";

const pkcs8 = (key: KeyObject) => key.export({ type: "pkcs8", format: "pem" }) as string;
const spki = (key: KeyObject) => key.export({ type: "spki", format: "pem" }) as string;
const jwkOf = (key: KeyObject) => key.export({ format: "jwk" }) as Record<string, string>;

const ed = generateKeyPairSync("ed25519");
const es = generateKeyPairSync("ec", { namedCurve: "P-256" });

function refusedWith(pattern: RegExp) {
  return (error: unknown) => error instanceof KeyFileError && pattern.test(error.message);
}

Deno.test("parseKey() reads PKCS#8 PEM and private JWKs of both algorithms, with the RFC 7638 thumbprint as kid", async () => {
  for (const [pair, alg, kty] of [[ed, "EdDSA", "OKP"], [es, "ES256", "EC"]] as const) {
    const publicJwk = jwkOf(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk as never, "sha256");
    for (const [what, text] of [["PEM", pkcs8(pair.privateKey)], ["JWK", JSON.stringify(jwkOf(pair.privateKey))]]) {
      const key = parseKey(text);
      assert.equal(key.alg, alg, what);
      assert.equal(key.kid, kid, what);
      assert.equal(key.publicJwk.kty, kty);
      assert.deepEqual({ ...key.publicJwk }, { ...publicJwk }, what);
      assert.equal(key.privateJwk?.d, jwkOf(pair.privateKey).d, what);
    }
  }
});

Deno.test("parseKey() reads public keys (SPKI PEM, public JWK) without a private part", () => {
  for (const pair of [ed, es]) {
    const fromPem = parseKey(spki(pair.publicKey));
    const fromJwk = parseKey(JSON.stringify(jwkOf(pair.publicKey)));
    assert.equal(fromPem.privateJwk, null);
    assert.equal(fromJwk.privateJwk, null);
    assert.equal(fromPem.kid, parseKey(pkcs8(pair.privateKey)).kid, "the same kid as the private key's");
    assert.equal(fromJwk.kid, fromPem.kid);
  }
});

Deno.test("parseKey() accepts a SEC1 EC PEM (openssl ecparam -genkey) and a JWK with its own alg, use and kid", () => {
  const sec1 = es.privateKey.export({ type: "sec1", format: "pem" }) as string;
  assert.equal(parseKey(sec1).alg, "ES256");
  const key = parseKey(pkcs8(ed.privateKey));
  const labelled = { ...jwkOf(ed.privateKey), alg: "EdDSA", use: "sig", kid: key.kid };
  assert.equal(parseKey(JSON.stringify(labelled)).kid, key.kid);
});

Deno.test("parseKey() refuses keys of other algorithms and says which algorithms it takes", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const x25519 = generateKeyPairSync("x25519");
  const cases: [string, string, RegExp][] = [
    ["RSA PEM", pkcs8(rsa.privateKey), /^an RSA key; expected Ed25519 \(EdDSA\) or P-256 \(ES256\)$/],
    ["RSA JWK", JSON.stringify(jwkOf(rsa.privateKey)), /^an RSA key; expected/],
    ["P-384 PEM", pkcs8(p384.privateKey), /^an EC key on secp384r1; expected/],
    ["P-384 JWK", JSON.stringify(jwkOf(p384.privateKey)), /^an EC key on secp384r1; expected/],
    ["X25519 PEM", pkcs8(x25519.privateKey), /^an X25519 key; expected/],
    ["oct JWK", JSON.stringify({ kty: "oct", k: "AAAA" }), /^a symmetric \(oct\) key; expected/],
  ];
  for (const [what, text, pattern] of cases) assert.throws(() => parseKey(text), refusedWith(pattern), what);
});

Deno.test("parseKey() refuses malformed files without showing key material", () => {
  const jwk = jwkOf(ed.privateKey);
  const other = jwkOf(generateKeyPairSync("ed25519").privateKey);
  const cases: [string, string, RegExp][] = [
    ["empty", "", /^expected a PEM key .* or a JWK/],
    ["text", "not a key", /^expected a PEM key/],
    ["broken PEM", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", /PRIVATE KEY" is not a readable/],
    ["encrypted PEM", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", /encrypted/],
    ["certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", /certificate is not a key/],
    ["bad JSON", "{kty:", /not JSON/],
    ["JSON array", "[1]", /^expected a PEM key/],
    ["JWK set", JSON.stringify({ keys: [jwk] }), /JWK set: put one key in each file/],
    ["JWK with another key's x", JSON.stringify({ ...jwk, x: other.x }), /"x" does not belong to its private key/],
    ["JWK with a wrong alg", JSON.stringify({ ...jwk, alg: "ES256" }), /alg "ES256" but the key is for EdDSA/],
    ["JWK for encryption", JSON.stringify({ ...jwk, use: "enc" }), /use "enc"/],
    ["JWK with a foreign kid", JSON.stringify({ ...jwk, kid: "2026-11" }), /kid "2026-11" is not its RFC 7638/],
    ["JWK with a bad d", JSON.stringify({ ...jwk, d: "AAAA" }), /not a readable key/],
  ];
  for (const [what, text, pattern] of cases) {
    assert.throws(() => parseKey(text), (error: unknown) => {
      assert.ok(refusedWith(pattern)(error), `${what}: ${(error as Error).message}`);
      assert.ok(!(error as Error).message.includes(jwk.d), "the private key never appears");
      return true;
    });
  }
});

Deno.test("jwkThumbprint() matches RFC 8037 §A.3", () => {
  assert.equal(
    jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }),
    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
  );
});

Deno.test("generateSigningKey() writes PKCS#8 PEM that parseKey() reads back with the same kid", () => {
  for (const alg of ["EdDSA", "ES256"] as const) {
    const { pem, material } = generateSigningKey(alg);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
    assert.equal(material.alg, alg);
    assert.deepEqual(parseKey(pem), material);
    assert.notEqual(generateSigningKey(alg).material.kid, material.kid, "a new key each time");
  }
});
