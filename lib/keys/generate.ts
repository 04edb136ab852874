/**
 * New signing keys for `keys generate`: an Ed25519 or P-256 key pair from
 * the operating system's CSPRNG, the private key as PKCS#8 PEM (what
 * `BUS_AUTH_SIGNING_KEY_FILE` reads) and its public JWK and `kid`.
 *
 * @module
 */

import { generateKeyPairSync } from "node:crypto";
import { type KeyAlg, type KeyMaterial, parseKey } from "./key_material.ts";

/** A generated key: the PEM to write to a 0600 file, and what may be shown. */
export interface GeneratedKey {
  /** PKCS#8 PEM of the private key. Secret: write it to a file, never to a terminal or log. */
  pem: string;
  /** The key as the provider reads it back from {@link pem}. */
  material: KeyMaterial;
}

/**
 * Generates a signing key pair.
 *
 * @example
 * ```ts
 * const { pem, material } = generateSigningKey("EdDSA");
 * material.kid; // the RFC 7638 thumbprint that tokens signed with it carry
 * ```
 */
export function generateSigningKey(alg: KeyAlg): GeneratedKey {
  const { privateKey } = alg === "EdDSA"
    ? generateKeyPairSync("ed25519")
    : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  return { pem, material: parseKey(pem) };
}
