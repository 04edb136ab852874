/**
 * Signing keys read from files: PEM (PKCS#8 or SEC1 private keys, SPKI
 * public keys) or a JWK (RFC 7517), each an Ed25519 key (EdDSA, RFC 8037)
 * or a P-256 key (ES256, RFC 7518 §3.4). Parsing is synchronous
 * (`node:crypto`), so the configuration can check every key file at
 * start-up and report every problem at once; {@link TokenKeys} imports the
 * keys for signing later, once.
 *
 * A key's id (`kid`) is its RFC 7638 JWK thumbprint: the base64url SHA-256
 * of the required public members, so anyone can recompute it from the
 * published key.
 *
 * @module
 */

import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";

/** Algorithms a token of this system may be signed with. */
export type SigningAlg = "HS256" | "EdDSA" | "ES256";

/** The algorithms of key files: Ed25519 (EdDSA) and P-256 (ES256). */
export type KeyAlg = "EdDSA" | "ES256";

/** Every {@link SigningAlg}, in the order the configuration names them. */
export const SIGNING_ALGS: readonly SigningAlg[] = Object.freeze(["HS256", "EdDSA", "ES256"]);

/** The public members of a key, as published in the JWKS (RFC 7517 §4, RFC 8037 §2, RFC 7518 §6.2.1). */
export interface PublicJwk {
  kty: "OKP" | "EC";
  crv: "Ed25519" | "P-256";
  x: string;
  /** P-256 only. */
  y?: string;
}

/** A parsed key file. `privateJwk` holds the secret part: never log or publish it. */
export interface KeyMaterial {
  alg: KeyAlg;
  /** RFC 7638 thumbprint of {@link PublicJwk}. */
  kid: string;
  publicJwk: PublicJwk;
  /** The private key as a JWK (with `d`), or `null` for a public key. */
  privateJwk: (PublicJwk & { d: string }) | null;
}

/** A key file that cannot be used; the message says why without showing key material. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

/**
 * Parses the text of a key file: a PEM block or a JWK (JSON object).
 *
 * @throws {KeyFileError} for anything else, an encrypted key, or a key that is neither Ed25519 nor P-256
 * @example
 * ```ts
 * const key = parseKey(Deno.readTextFileSync("/etc/bus-auth/signing-key.pem"));
 * key.alg; // "EdDSA"
 * key.kid; // "9wE9OOX-AmRyw3Q2k8Waxuc6d1Wf3Q7soU_qjICNCGg"
 * ```
 */
export function parseKey(text: string): KeyMaterial {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return parseJwkText(trimmed);
  const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(trimmed)?.[1];
  if (label === undefined) {
    throw new KeyFileError("expected a PEM key (-----BEGIN PRIVATE KEY-----) or a JWK (a JSON object)");
  }
  if (label.includes("ENCRYPTED")) throw new KeyFileError("the key is encrypted: store it unencrypted, mode 0600");
  if (label === "CERTIFICATE") throw new KeyFileError("a certificate is not a key: give the key itself");
  let key: KeyObject;
  try {
    key = label.includes("PRIVATE") ? createPrivateKey({ key: trimmed, format: "pem" }) : createPublicKey(trimmed);
  } catch {
    throw new KeyFileError(`the PEM block "${label}" is not a readable key`);
  }
  return fromKeyObject(key);
}

function parseJwkText(text: string): KeyMaterial {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new KeyFileError("the file starts with { but is not JSON");
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new KeyFileError("a JWK must be an object");
  const members = jwk as Record<string, unknown>;
  if (Array.isArray(members.keys)) throw new KeyFileError("a JWK set: put one key in each file");
  if (members.kty !== "OKP" && members.kty !== "EC") {
    throw new KeyFileError(`${algorithmOf(members)}; expected Ed25519 (EdDSA) or P-256 (ES256)`);
  }
  let key: KeyObject;
  try {
    // deno-lint-ignore no-explicit-any
    const input = { key: members as any, format: "jwk" as const };
    key = typeof members.d === "string" ? createPrivateKey(input) : createPublicKey(input);
  } catch {
    throw new KeyFileError(`${algorithmOf(members)} JWK that is not a readable key`);
  }
  const material = fromKeyObject(key);
  // A private JWK whose public members belong to another key would sign tokens its published key cannot verify.
  for (const member of ["x", "y"] as const) {
    if (members[member] !== material.publicJwk[member]) {
      throw new KeyFileError(`the JWK's "${member}" does not belong to its private key`);
    }
  }
  if (members.alg !== undefined && members.alg !== material.alg) {
    throw new KeyFileError(`the JWK says alg "${clip(members.alg)}" but the key is for ${material.alg}`);
  }
  if (members.use !== undefined && members.use !== "sig") {
    throw new KeyFileError(`the JWK says use "${clip(members.use)}"; a signing key has use "sig" or none`);
  }
  if (members.kid !== undefined && members.kid !== material.kid) {
    throw new KeyFileError(
      `the JWK's kid "${
        clip(members.kid)
      }" is not its RFC 7638 thumbprint "${material.kid}": remove kid or set it to that`,
    );
  }
  return material;
}

function fromKeyObject(key: KeyObject): KeyMaterial {
  let alg: KeyAlg;
  if (key.asymmetricKeyType === "ed25519") alg = "EdDSA";
  else if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") alg = "ES256";
  else {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "an unknown curve";
    const what = key.asymmetricKeyType === "ec"
      ? `an EC key on ${curve}`
      : KEY_TYPES[key.asymmetricKeyType ?? ""] ?? "a key of an unknown type";
    throw new KeyFileError(`${what}; expected Ed25519 (EdDSA) or P-256 (ES256)`);
  }
  let publicJwk: PublicJwk;
  let privateJwk: KeyMaterial["privateJwk"] = null;
  try {
    const publicKey = key.type === "public" ? key : createPublicKey(key);
    publicJwk = publicMembers(publicKey.export({ format: "jwk" }) as Record<string, string>);
    if (key.type === "private") privateJwk = { ...publicJwk, d: (key.export({ format: "jwk" }) as { d: string }).d };
  } catch {
    throw new KeyFileError(`the ${alg} key cannot be read`);
  }
  return { alg, kid: jwkThumbprint(publicJwk), publicJwk, privateJwk };
}

function publicMembers(jwk: Record<string, string>): PublicJwk {
  return jwk.kty === "EC" ? { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } : { kty: "OKP", crv: "Ed25519", x: jwk.x };
}

/**
 * The RFC 7638 thumbprint of a public key: SHA-256 over the required
 * members in lexicographic order, base64url without padding.
 *
 * @example
 * ```ts
 * jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" });
 * // "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" (RFC 8037 §A.3)
 * ```
 */
export function jwkThumbprint(jwk: PublicJwk): string {
  const canonical = jwk.kty === "EC"
    ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
    : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash("sha256").update(canonical).digest("base64url");
}

/** What kind of key a JWK describes, for messages. */
function algorithmOf(jwk: Record<string, unknown>): string {
  if (jwk.kty === "RSA") return "an RSA key";
  if (jwk.kty === "oct") return "a symmetric (oct) key";
  if (jwk.kty === "EC" || jwk.kty === "OKP") return `an ${jwk.kty} key on "${clip(jwk.crv)}"`;
  return `a key of type "${clip(jwk.kty)}"`;
}

/** `node:crypto` key types, as messages name them. */
const KEY_TYPES: Readonly<Record<string, string>> = {
  "rsa": "an RSA key",
  "rsa-pss": "an RSA-PSS key",
  "dsa": "a DSA key",
  "dh": "a Diffie-Hellman key",
  "ed448": "an Ed448 key",
  "x25519": "an X25519 key",
  "x448": "an X448 key",
};

function clip(value: unknown): string {
  const text = String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
