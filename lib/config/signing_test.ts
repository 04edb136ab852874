import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { generateSigningKey } from "../keys/generate.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { tokenKeysOf } from "./signing.ts";

const SECRET = "a-deployment-secret-of-32-bytes-or-more";
const ed = generateSigningKey("EdDSA");
const es = generateSigningKey("ES256");
const edPublic = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string;
const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" });

/** Key files by path, with their modes; any other path is missing. */
const FILES: Record<string, { text: string; mode: number }> = {
  "/keys/ed.pem": { text: ed.pem, mode: 0o100600 },
  "/keys/es.pem": { text: es.pem, mode: 0o100600 },
  "/keys/es.jwk": { text: JSON.stringify({ ...es.material.privateJwk }), mode: 0o100600 },
  "/keys/ed-public.pem": { text: edPublic, mode: 0o100644 },
  "/keys/es-public.jwk": { text: JSON.stringify(es.material.publicJwk), mode: 0o100644 },
  "/keys/rsa.pem": { text: String(rsa), mode: 0o100600 },
  "/keys/garbage": { text: "hello", mode: 0o100600 },
  "/keys/shared.pem": { text: ed.pem, mode: 0o100644 },
};

const files = {
  readFile: (path: string) => {
    const file = FILES[path];
    if (file === undefined) {
      throw new Deno.errors.NotFound(`No such file or directory (os error 2): readfile '${path}'`);
    }
    return file.text;
  },
  fileMode: (path: string) => FILES[path]?.mode ?? null,
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, files);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

Deno.test("loadConfig() keeps HS256 by default: no key file, HS256 accepted, no public URL", () => {
  const config = loadConfig({ BUS_AUTH_HS256_SECRET: SECRET }, files);
  assert.deepEqual(config.signing, { alg: "HS256", key: null, verify: [], acceptHs256: true });
  assert.equal(config.publicUrl, null);
});

Deno.test("loadConfig() reads an EdDSA or ES256 signing key file and the verify list, PEM and JWK, public or private", () => {
  const config = loadConfig({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_SIGNING_ALG: "eddsa",
    BUS_AUTH_SIGNING_KEY_FILE: "/keys/ed.pem",
    BUS_AUTH_VERIFY_KEY_FILES: " /keys/es.jwk,/keys/ed-public.pem  /keys/es-public.jwk ",
  }, files);
  assert.equal(config.signing.alg, "EdDSA");
  assert.deepEqual(config.signing.key, { path: "/keys/ed.pem", material: ed.material });
  assert.deepEqual(
    config.signing.verify.map((file) => [file.path, file.material.alg, file.material.privateJwk === null]),
    [
      ["/keys/es.jwk", "ES256", false],
      ["/keys/ed-public.pem", "EdDSA", true],
      ["/keys/es-public.jwk", "ES256", true],
    ],
  );
  assert.equal(config.signing.acceptHs256, false, "HS256 tokens are refused unless BUS_AUTH_ACCEPT_HS256 says so");
  assert.deepEqual(config.warnings, [], "public key files may be readable by anyone");
  const es256 = loadConfig({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_SIGNING_ALG: "ES256",
    BUS_AUTH_SIGNING_KEY_FILE: "/keys/es.jwk",
    BUS_AUTH_ACCEPT_HS256: "true",
  }, files);
  assert.equal(es256.signing.key?.material.kid, es.material.kid);
  assert.equal(es256.signing.acceptHs256, true);
});

Deno.test("loadConfig() warns about a private key file readable by group or others", () => {
  const config = loadConfig({
    BUS_AUTH_HS256_SECRET: SECRET,
    BUS_AUTH_SIGNING_ALG: "EdDSA",
    BUS_AUTH_SIGNING_KEY_FILE: "/keys/shared.pem",
  }, files);
  assert.deepEqual(config.warnings, [
    'BUS_AUTH_SIGNING_KEY_FILE "/keys/shared.pem" holds a private key readable by group or others (mode 0644): chmod 600 it',
  ]);
});

Deno.test("loadConfig() reports every signing problem at once, with the other problems", () => {
  assert.deepEqual(
    problemsOf({
      BUS_AUTH_SIGNING_ALG: "ES256",
      BUS_AUTH_SIGNING_KEY_FILE: "/keys/ed.pem",
      BUS_AUTH_VERIFY_KEY_FILES: "/keys/missing.pem /keys/garbage,/keys/rsa.pem /keys/ed-public.pem",
      BUS_AUTH_PUBLIC_URL: "ftp://auth.example.com",
    }),
    [
      "BUS_AUTH_HS256_SECRET is required: set it (or BUS_AUTH_HS256_SECRET_FILE) to a secret of 32+ bytes",
      'BUS_AUTH_SIGNING_KEY_FILE: "/keys/ed.pem" holds an Ed25519 key (EdDSA), but BUS_AUTH_SIGNING_ALG is ES256, ' +
      "which signs with a P-256 key",
      'BUS_AUTH_VERIFY_KEY_FILES: cannot read "/keys/missing.pem": No such file or directory (os error 2)',
      'BUS_AUTH_VERIFY_KEY_FILES: "/keys/garbage": expected a PEM key (-----BEGIN PRIVATE KEY-----) or a JWK ' +
      "(a JSON object)",
      'BUS_AUTH_VERIFY_KEY_FILES: "/keys/rsa.pem": an RSA key; expected Ed25519 (EdDSA) or P-256 (ES256)',
      "BUS_AUTH_PUBLIC_URL: expected an http:// or https:// URL without user, query or fragment, such as " +
      'https://auth.example.com, got "ftp://auth.example.com"',
    ],
  );
});

Deno.test("loadConfig() names a missing, public-only or misplaced signing key file and a bad algorithm", () => {
  const base = { BUS_AUTH_HS256_SECRET: SECRET };
  assert.deepEqual(problemsOf({ ...base, BUS_AUTH_SIGNING_ALG: "EdDSA" }), [
    "BUS_AUTH_SIGNING_KEY_FILE is required with BUS_AUTH_SIGNING_ALG=EdDSA: the private key file " +
    "(bus-api-provider-auth keys generate --alg EdDSA --out FILE writes one)",
  ]);
  assert.deepEqual(problemsOf({ ...base, BUS_AUTH_SIGNING_ALG: "EdDSA", BUS_AUTH_SIGNING_KEY_FILE: "/keys/nope" }), [
    'BUS_AUTH_SIGNING_KEY_FILE: cannot read "/keys/nope": No such file or directory (os error 2)',
  ]);
  assert.deepEqual(
    problemsOf({ ...base, BUS_AUTH_SIGNING_ALG: "EdDSA", BUS_AUTH_SIGNING_KEY_FILE: "/keys/ed-public.pem" }),
    ['BUS_AUTH_SIGNING_KEY_FILE: "/keys/ed-public.pem" holds a public key; signing needs the private key'],
  );
  assert.deepEqual(problemsOf({ ...base, BUS_AUTH_SIGNING_KEY_FILE: "/keys/ed.pem" }), [
    "BUS_AUTH_SIGNING_KEY_FILE is set but BUS_AUTH_SIGNING_ALG is HS256: set BUS_AUTH_SIGNING_ALG to EdDSA or ES256 " +
    "to sign with it, or list it in BUS_AUTH_VERIFY_KEY_FILES to accept and publish it",
  ]);
  assert.deepEqual(problemsOf({ ...base, BUS_AUTH_SIGNING_ALG: "RS256", BUS_AUTH_ACCEPT_HS256: "false" }), [
    'BUS_AUTH_SIGNING_ALG: expected HS256, EdDSA or ES256, got "RS256"',
    "BUS_AUTH_ACCEPT_HS256=false needs BUS_AUTH_SIGNING_ALG=EdDSA or ES256: with HS256 the secret signs every token",
  ]);
});

Deno.test("loadConfig() reads BUS_AUTH_PUBLIC_URL without its trailing slash and refuses credentials and queries", () => {
  const read = (value: string) => loadConfig({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_PUBLIC_URL: value }, files);
  assert.equal(read("https://auth.example.com/").publicUrl, "https://auth.example.com");
  assert.equal(read("http://127.0.0.1:8080/gateway/auth/").publicUrl, "http://127.0.0.1:8080/gateway/auth");
  for (
    const value of ["auth.example.com", "https://u:p@auth.example.com", "https://a.example?x=1", "https://a.example#x"]
  ) {
    assert.equal(problemsOf({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_PUBLIC_URL: value }).length, 1, value);
  }
});

Deno.test("tokenKeysOf() remembers as many verified tokens as BUS_AUTH_CACHE_ENTRIES says, 10,000 by default", () => {
  const secret = new TextEncoder().encode(SECRET);
  const signing = { alg: "HS256" as const, key: null, verify: [], acceptHs256: true };
  assert.equal(tokenKeysOf(secret, signing).verified.maxEntries, 10_000);
  const config = loadConfig({ BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_CACHE_ENTRIES: "150" });
  assert.equal(tokenKeysOf(config.signingKey, config.signing, config.cacheEntries).verified.maxEntries, 150);
});
