/**
 * The keys tokens are signed and verified with, imported once: the signing
 * key (the HS256 secret, or an Ed25519 or P-256 private key with its `kid`),
 * the older public keys still accepted (chosen by `kid`, each pinned to its
 * algorithm), whether kid-less HS256 tokens are accepted, and the JWK set
 * that publishes the public keys. The HS256 secret is never published.
 *
 * @module
 */

import { importJWK } from "jose";
import { VerifiedTokens } from "../verified_tokens.ts";
import { HmacSha256 } from "./hmac_sha256.ts";
import type { KeyAlg, KeyMaterial, PublicJwk, SigningAlg } from "./key_material.ts";

/** A key as the JWKS publishes it (RFC 7517 §4). */
export type PublishedJwk = PublicJwk & { kid: string; alg: KeyAlg; use: "sig" };

/** The key a token names, pinned to its algorithm. */
export interface VerificationKey {
  alg: SigningAlg;
  key: CryptoKey;
}

/** Input of {@link TokenKeys}. */
export interface TokenKeysInput {
  /** The HS256 secret: signs when `signing` is `null`, and verifies kid-less HS256 tokens when accepted. */
  hs256Secret: Uint8Array | null;
  /** The private key that signs (EdDSA or ES256); `null` or absent signs with HS256. */
  signing?: KeyMaterial | null;
  /** Older keys, public or private, still accepted and published. */
  verify?: readonly KeyMaterial[];
  /** Whether kid-less HS256 tokens verify with the secret besides the signing key; always when HS256 signs. */
  acceptHs256?: boolean;
  /** How many verified tokens {@link TokenKeys.verified} remembers (default 10,000; 0: none). */
  verifiedTokens?: number;
}

/**
 * Every key of one provider (or of one `issue --local`), imported when it is
 * built so that signing and verification never import a key again.
 *
 * @example
 * ```ts
 * const keys = new TokenKeys({ hs256Secret: secret, signing: parseKey(pem), acceptHs256: true });
 * await keys.ready(); // throws when a key cannot be imported
 * keys.jwks; // { keys: [{ kty: "OKP", crv: "Ed25519", x: "…", kid: "…", alg: "EdDSA", use: "sig" }] }
 * ```
 */
export class TokenKeys {
  /** Algorithm of new tokens. */
  readonly alg: SigningAlg;
  /** `kid` of new tokens; `null` with HS256. */
  readonly kid: string | null;
  /** The public keys, signing key first: what `/.well-known/jwks.json` serves. */
  readonly jwks: Readonly<{ keys: readonly PublishedJwk[] }>;
  /** Algorithms of the tokens this set signs or accepts, the signing one first. */
  readonly algorithms: readonly SigningAlg[];
  /** Whether kid-less HS256 tokens are accepted. */
  readonly acceptsHs256: boolean;
  /** Tokens these keys verified, so that a token presented again is not verified again (`lib/jwt.ts`). */
  readonly verified: VerifiedTokens;
  /** The protected header of new tokens, base64url-encoded: `{"alg":…,"typ":"JWT"}` and `kid` for key files. */
  readonly header: string;
  /**
   * The base64url HMAC-SHA256 of a signing input under the HS256 secret,
   * when kid-less HS256 tokens are accepted (else `null`): HS256 signs, and
   * `lib/jwt.ts` verifies this system's HS256 tokens, with it rather than
   * with WebCrypto (see `hmac_sha256.ts`).
   */
  readonly hs256Mac: ((input: string) => string) | null = null;
  #signer: Promise<CryptoKey>;
  #byKid = new Map<string, { alg: KeyAlg; key: Promise<CryptoKey> }>();
  #hs256: Promise<CryptoKey> | null = null;
  #imports: Promise<CryptoKey>[] = [];

  constructor(input: TokenKeysInput) {
    const signing = input.signing ?? null;
    this.verified = new VerifiedTokens(input.verifiedTokens);
    this.acceptsHs256 = signing === null || input.acceptHs256 === true;
    if ((signing === null || this.acceptsHs256) && input.hs256Secret === null) {
      throw new TypeError("TokenKeys: HS256 signs or is accepted, but no HS256 secret was given");
    }
    if (signing !== null && signing.privateJwk === null) {
      throw new TypeError(`TokenKeys: the signing key ${signing.kid} is a public key`);
    }
    const published: PublishedJwk[] = [];
    for (const material of [...(signing === null ? [] : [signing]), ...input.verify ?? []]) {
      if (this.#byKid.has(material.kid)) continue;
      this.#byKid.set(material.kid, { alg: material.alg, key: this.#import(material.publicJwk, material.alg) });
      published.push({ ...material.publicJwk, kid: material.kid, alg: material.alg, use: "sig" });
    }
    if (input.hs256Secret !== null && (signing === null || this.acceptsHs256)) {
      this.#hs256 = this.#track(
        crypto.subtle.importKey("raw", new Uint8Array(input.hs256Secret), { name: "HMAC", hash: "SHA-256" }, false, [
          "sign",
          "verify",
        ]),
      );
    }
    this.alg = signing?.alg ?? "HS256";
    this.kid = signing?.kid ?? null;
    this.#signer = signing === null ? this.#hs256! : this.#import(signing.privateJwk!, signing.alg);
    if (this.#hs256 !== null) {
      const hmac = new HmacSha256(input.hs256Secret!);
      this.hs256Mac = (text) => hmac.signBase64url(text);
    }
    const header = this.kid === null ? { alg: this.alg, typ: "JWT" } : { alg: this.alg, typ: "JWT", kid: this.kid };
    this.header = new TextEncoder().encode(JSON.stringify(header)).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    });
    this.jwks = Object.freeze({ keys: Object.freeze(published) });
    const algorithms = new Set<SigningAlg>([this.alg, ...published.map((key) => key.alg)]);
    if (this.acceptsHs256) algorithms.add("HS256");
    this.algorithms = Object.freeze([...algorithms]);
  }

  /** HS256 only: signs and verifies with one secret, publishes nothing. */
  static hs256(secret: Uint8Array): TokenKeys {
    return new TokenKeys({ hs256Secret: secret });
  }

  /** Waits for every key to be imported. @throws the import's error, for a key WebCrypto refuses */
  async ready(): Promise<void> {
    await Promise.all(this.#imports);
  }

  /** The signature of a token's signing input (`header.payload`), base64url-encoded without padding. */
  sign(input: string): string | Promise<string> {
    if (this.kid === null) return this.hs256Mac!(input);
    return this.#signWithKey(input);
  }

  async #signWithKey(input: string): Promise<string> {
    const key = await this.#signer;
    const params = key.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : key.algorithm.name;
    const signature = new Uint8Array(await crypto.subtle.sign(params, key, new TextEncoder().encode(input)));
    return signature.toBase64({ alphabet: "base64url", omitPadding: true });
  }

  /**
   * The key that verifies a token with this protected header: by `kid` when
   * it has one (the token's `alg` must be the key's), else the HS256 secret
   * when HS256 tokens are accepted.
   *
   * @returns the key, or why there is none (for an `invalid_token` message)
   */
  async verificationKey(header: { alg?: unknown; kid?: unknown }): Promise<VerificationKey | string> {
    if (header.kid !== undefined) {
      const entry = typeof header.kid === "string" ? this.#byKid.get(header.kid) : undefined;
      if (entry === undefined) return "its key id (kid) names no key of this provider";
      if (header.alg !== entry.alg) return "its algorithm is not the one of its key";
      return { alg: entry.alg, key: await entry.key };
    }
    if (header.alg !== "HS256") return "it names no key (kid)";
    if (this.#hs256 === null || !this.acceptsHs256) return "HS256 tokens are not accepted here";
    return { alg: "HS256", key: await this.#hs256 };
  }

  #import(jwk: PublicJwk & { d?: string }, alg: KeyAlg): Promise<CryptoKey> {
    return this.#track(importJWK({ ...jwk }, alg) as Promise<CryptoKey>);
  }

  /** Keeps an import for {@link ready}; a failure surfaces there and where the key is used, never unhandled. */
  #track(promise: Promise<CryptoKey>): Promise<CryptoKey> {
    promise.catch(() => {});
    this.#imports.push(promise);
    return promise;
  }
}
