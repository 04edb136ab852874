/**
 * The signing part of the configuration: `BUS_AUTH_SIGNING_ALG`, the key
 * files of `BUS_AUTH_SIGNING_KEY_FILE` and `BUS_AUTH_VERIFY_KEY_FILES`,
 * `BUS_AUTH_ACCEPT_HS256`, and the public origin of `BUS_AUTH_PUBLIC_URL`.
 * Every key file is read and parsed here, so a missing, unreadable,
 * malformed or wrong-algorithm key is one more line of the start-up problem
 * list.
 *
 * @module
 */

import { KeyFileError, type KeyMaterial, parseKey, SIGNING_ALGS, type SigningAlg } from "../keys/key_material.ts";
import { TokenKeys } from "../keys/token_keys.ts";
import type { EnvReader } from "./reader.ts";

/** A key file and the key it holds. */
export interface KeyFile {
  path: string;
  /** Holds the private key of a private key file: never print it. */
  material: KeyMaterial;
}

/** How tokens are signed and which tokens are accepted. */
export interface SigningConfig {
  /** Algorithm of new tokens. */
  alg: SigningAlg;
  /** The private key that signs with EdDSA or ES256; `null` with HS256 (the HS256 secret signs). */
  key: KeyFile | null;
  /** Older keys, public or private, still accepted and published. */
  verify: readonly KeyFile[];
  /** Whether kid-less HS256 tokens (signed with `BUS_AUTH_HS256_SECRET`) are accepted; always with HS256. */
  acceptHs256: boolean;
}

/** What each algorithm's key is, for messages. */
const KEY_KIND: Readonly<Record<SigningAlg, string>> = {
  HS256: "the HS256 secret",
  EdDSA: "an Ed25519 key",
  ES256: "a P-256 key",
};

/** Reads the signing variables, recording every problem. */
export function readSigning(read: EnvReader): SigningConfig {
  const alg = readAlg(read);
  const keyPath = read.string("BUS_AUTH_SIGNING_KEY_FILE");
  let key: KeyFile | null = null;
  if (alg === "HS256" && keyPath !== undefined) {
    read.problem(
      "BUS_AUTH_SIGNING_KEY_FILE is set but BUS_AUTH_SIGNING_ALG is HS256: set BUS_AUTH_SIGNING_ALG to EdDSA or " +
        "ES256 to sign with it, or list it in BUS_AUTH_VERIFY_KEY_FILES to accept and publish it",
    );
  } else if (alg !== "HS256" && keyPath === undefined) {
    read.problem(
      `BUS_AUTH_SIGNING_KEY_FILE is required with BUS_AUTH_SIGNING_ALG=${alg}: the private key file ` +
        `(bus-api-provider-auth keys generate --alg ${alg} --out FILE writes one)`,
    );
  } else if (keyPath !== undefined) {
    key = readKeyFile(read, "BUS_AUTH_SIGNING_KEY_FILE", keyPath);
    if (key !== null && key.material.alg !== alg) {
      read.problem(
        `BUS_AUTH_SIGNING_KEY_FILE: "${keyPath}" holds ${KEY_KIND[key.material.alg]} (${key.material.alg}), ` +
          `but BUS_AUTH_SIGNING_ALG is ${alg}, which signs with ${KEY_KIND[alg]}`,
      );
    } else if (key !== null && key.material.privateJwk === null) {
      read.problem(`BUS_AUTH_SIGNING_KEY_FILE: "${keyPath}" holds a public key; signing needs the private key`);
    }
  }
  const verify: KeyFile[] = [];
  for (const path of (read.string("BUS_AUTH_VERIFY_KEY_FILES") ?? "").split(/[\s,]+/).filter((p) => p !== "")) {
    const file = readKeyFile(read, "BUS_AUTH_VERIFY_KEY_FILES", path);
    if (file !== null) verify.push(file);
  }
  const acceptHs256 = read.boolean("BUS_AUTH_ACCEPT_HS256", alg === "HS256");
  if (alg === "HS256" && !acceptHs256) {
    read.problem(
      "BUS_AUTH_ACCEPT_HS256=false needs BUS_AUTH_SIGNING_ALG=EdDSA or ES256: with HS256 the secret signs every token",
    );
  }
  return Object.freeze({ alg, key, verify: Object.freeze(verify), acceptHs256: alg === "HS256" || acceptHs256 });
}

function readAlg(read: EnvReader): SigningAlg {
  const value = read.string("BUS_AUTH_SIGNING_ALG");
  if (value === undefined) return "HS256";
  const alg = SIGNING_ALGS.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (alg === undefined) {
    read.problem(`BUS_AUTH_SIGNING_ALG: expected HS256, EdDSA or ES256, got "${value.slice(0, 40)}"`);
    return "HS256";
  }
  return alg;
}

/** One key file, or `null` after recording why it cannot be used. A private key readable by others earns a warning. */
function readKeyFile(read: EnvReader, name: string, path: string): KeyFile | null {
  const file = read.file(name, path);
  if (file === undefined) return null;
  let material: KeyMaterial;
  try {
    material = parseKey(file.text);
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    read.problem(`${name}: "${path}": ${error.message}`);
    return null;
  }
  if (material.privateJwk !== null && file.mode !== null && (file.mode & 0o077) !== 0) {
    read.warnings.push(
      `${name} "${path}" holds a private key readable by group or others (mode 0${
        (file.mode & 0o777).toString(8)
      }): chmod 600 it`,
    );
  }
  return { path, material };
}

/**
 * `BUS_AUTH_PUBLIC_URL`: the provider's public base URL (scheme, host, an
 * optional path), without a trailing slash, or `null` when unset.
 */
export function readPublicUrl(read: EnvReader): string | null {
  const value = read.string("BUS_AUTH_PUBLIC_URL");
  if (value === undefined) return null;
  const url = URL.canParse(value) ? new URL(value) : null;
  if (
    url === null || !["http:", "https:"].includes(url.protocol) || url.username !== "" || url.password !== "" ||
    url.search !== "" || url.hash !== "" || value.includes("?") || value.includes("#")
  ) {
    read.problem(
      `BUS_AUTH_PUBLIC_URL: expected an http:// or https:// URL without user, query or fragment, such as ` +
        `https://auth.example.com, got "${value.slice(0, 80)}"`,
    );
    return null;
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/**
 * The signing variables as `config` prints them: paths with each key's
 * algorithm, kind and `kid`, never key material.
 *
 * @example
 * ```ts
 * describeSigning(config.signing);
 * // [["BUS_AUTH_SIGNING_ALG", "EdDSA"], ["BUS_AUTH_SIGNING_KEY_FILE", "/keys/a.pem (EdDSA private key, kid …)"], …]
 * ```
 */
export function describeSigning(signing: SigningConfig): [string, string][] {
  const describe = ({ path, material }: KeyFile) =>
    `${path} (${material.alg} ${material.privateJwk === null ? "public" : "private"} key, kid ${material.kid})`;
  return [
    ["BUS_AUTH_SIGNING_ALG", signing.alg],
    ["BUS_AUTH_SIGNING_KEY_FILE", signing.key === null ? "" : describe(signing.key)],
    ["BUS_AUTH_VERIFY_KEY_FILES", signing.verify.map(describe).join(", ")],
    ["BUS_AUTH_ACCEPT_HS256", String(signing.acceptHs256)],
  ];
}

/**
 * The {@link TokenKeys} of a configuration: the HS256 secret, the signing
 * key file's key, the verify list, and whether HS256 tokens are accepted;
 * it remembers at most `verifiedTokens` verified tokens (default 10,000).
 * The keys are being imported when it returns; `ready()` waits for them.
 */
export function tokenKeysOf(hs256Secret: Uint8Array, signing: SigningConfig, verifiedTokens?: number): TokenKeys {
  return new TokenKeys({
    hs256Secret,
    signing: signing.key?.material ?? null,
    verify: signing.verify.map((file) => file.material),
    acceptHs256: signing.acceptHs256,
    verifiedTokens,
  });
}
