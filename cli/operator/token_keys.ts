/**
 * The keys of `bus operator token`: the key `issue --local` signs with (an
 * EdDSA or ES256 key file, with its `kid`, or the HS256 secret), and
 * `keys generate`, which writes a new signing key file anywhere the
 * operator may write (the compiled provider's own `keys generate` writes
 * only below /var/lib/bus-auth).
 *
 * @module
 */

import { generateSigningKey } from "../../lib/keys/generate.ts";
import { KeyFileError, parseKey } from "../../lib/keys/key_material.ts";
import { TokenKeys } from "../../lib/keys/token_keys.ts";
import { EXIT, type Io } from "../../lib/program.ts";
import { FileExistsError, writeNewPrivateFile } from "../../lib/runtime/private_file.ts";
import { decodeSecret, MIN_HS256_SECRET_BYTES } from "../../lib/secret.ts";
import { FailureError, UsageError } from "../shared/errors.ts";
import { refuseRepositoryLocalBus } from "../shared/files.ts";
import { readSecretFile, secretFromEnvironment } from "../shared/secret_input.ts";

/** The flags of `issue --local` that choose the key. */
export interface LocalKeyFlags {
  signingKeyFile?: string;
  hs256SecretFile?: string;
}

/**
 * The key `issue --local` signs with, first match wins: `--signing-key-file`,
 * `--hs256-secret-file`, `BUS_OPERATOR_SIGNING_KEY_FILE`,
 * `BUS_OPERATOR_HS256_SECRET_FILE`, then the provider's own environment:
 * `BUS_AUTH_SIGNING_KEY_FILE` when `BUS_AUTH_SIGNING_ALG` is EdDSA or ES256,
 * else `BUS_AUTH_HS256_SECRET_FILE` or `BUS_AUTH_HS256_SECRET`.
 *
 * @throws {UsageError} when nothing names a key, or two sources of one level are given
 * @throws {FailureError} when the file cannot be read or holds no usable signing key
 */
export async function localSigningKeys(flags: LocalKeyFlags, io: Io): Promise<TokenKeys> {
  if (flags.signingKeyFile !== undefined && flags.hs256SecretFile !== undefined) {
    throw new UsageError("--signing-key-file and --hs256-secret-file do not go together: a token has one signature");
  }
  if (flags.signingKeyFile !== undefined) return await keyFileKeys(flags.signingKeyFile, io);
  if (flags.hs256SecretFile !== undefined) return hs256Keys(await readSecretFile(flags.hs256SecretFile, WHAT, io));
  const keyFile = io.env.BUS_OPERATOR_SIGNING_KEY_FILE?.trim();
  const secretFile = io.env.BUS_OPERATOR_HS256_SECRET_FILE?.trim();
  if (keyFile && secretFile) {
    throw new UsageError("BUS_OPERATOR_SIGNING_KEY_FILE and BUS_OPERATOR_HS256_SECRET_FILE are both set: keep one");
  }
  if (keyFile) return await keyFileKeys(keyFile, io);
  if (secretFile) return hs256Keys(await readSecretFile(secretFile, WHAT, io));
  // On the provider's host, with its environment: what the provider signs with.
  const providerKey = io.env.BUS_AUTH_SIGNING_KEY_FILE?.trim();
  const providerAlg = io.env.BUS_AUTH_SIGNING_ALG?.trim().toUpperCase();
  if (providerKey && providerAlg !== undefined && providerAlg !== "" && providerAlg !== "HS256") {
    return await keyFileKeys(providerKey, io);
  }
  const secret = await secretFromEnvironment(io, "BUS_AUTH_HS256_SECRET_FILE", "BUS_AUTH_HS256_SECRET", WHAT);
  if (secret === undefined) {
    throw new UsageError(
      "no signing key: pass --signing-key-file <path> (EdDSA or ES256) or --hs256-secret-file <path>, or set " +
        "BUS_OPERATOR_SIGNING_KEY_FILE or BUS_OPERATOR_HS256_SECRET_FILE (or the provider's BUS_AUTH_SIGNING_KEY_FILE, " +
        "BUS_AUTH_HS256_SECRET_FILE, BUS_AUTH_HS256_SECRET)",
    );
  }
  return hs256Keys(secret);
}

const WHAT = "HS256 secret file";

function hs256Keys(secret: string): TokenKeys {
  const key = decodeSecret(secret);
  if (key === null) throw new UsageError("the HS256 secret starts with base64: but is not valid base64");
  if (key.length < MIN_HS256_SECRET_BYTES) {
    throw new UsageError(
      `the HS256 secret is ${key.length} bytes; providers refuse secrets under ${MIN_HS256_SECRET_BYTES} bytes`,
    );
  }
  return TokenKeys.hs256(key);
}

async function keyFileKeys(path: string, io: Io): Promise<TokenKeys> {
  const text = await readSecretFile(path, "signing key file", io);
  let keys: TokenKeys;
  try {
    const material = parseKey(text);
    if (material.privateJwk === null) {
      throw new KeyFileError("it holds a public key; --local signs with the private key");
    }
    keys = new TokenKeys({ hs256Secret: null, signing: material });
    await keys.ready();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new FailureError(`Cannot sign with the signing key file "${path}": ${why}`, "key_unusable");
  }
  return keys;
}

/** The options of `keys generate`. */
export interface KeysGenerateFlags {
  alg?: string;
  out?: string;
  /** `json`, or undefined for the kid alone. */
  format?: string;
}

/**
 * `keys generate --alg EdDSA|ES256 --out FILE [--format json]`: writes a new
 * PKCS#8 PEM key file (0600, atomically, never over an existing file) and
 * prints only its `kid`, or with `--format json` the kid and public JWK.
 *
 * @throws {UsageError} for a missing or wrong algorithm or file
 * @throws {FailureError} when the file exists or cannot be written
 */
export function keysGenerate(flags: KeysGenerateFlags, io: Io): number {
  const alg = (["EdDSA", "ES256"] as const).find((name) => name.toLowerCase() === flags.alg?.toLowerCase());
  if (alg === undefined) {
    throw new UsageError(
      flags.alg?.toUpperCase() === "HS256"
        ? "--alg HS256 has no key file: the provider's secret is BUS_AUTH_HS256_SECRET (openssl rand -base64 48)"
        : `keys generate needs --alg EdDSA or ES256${
          flags.alg === undefined ? "" : `, not "${flags.alg.slice(0, 40)}"`
        }`,
    );
  }
  if (flags.out === undefined || flags.out === "") throw new UsageError("keys generate needs --out <file>");
  if (flags.format !== undefined && flags.format !== "json") {
    throw new UsageError(`keys generate prints the kid, or JSON with --format json; not --format ${flags.format}`);
  }
  refuseRepositoryLocalBus(flags.out);
  const { pem, material } = generateSigningKey(alg);
  try {
    writeNewPrivateFile(flags.out, pem);
  } catch (error) {
    if (error instanceof FileExistsError) {
      throw new FailureError(`Refusing to overwrite "${flags.out}": a key file is never replaced; choose a new name`);
    }
    if (error instanceof Deno.errors.NotCapable) {
      throw new FailureError(
        `Cannot write "${flags.out}": the program lacks Deno's write permission for it`,
        "missing_permission",
      );
    }
    throw new FailureError(`Cannot write "${flags.out}": ${(error as Error).message.split(":")[0]}`, "file_unwritable");
  }
  if (flags.format === "json") {
    const jwk = { ...material.publicJwk, kid: material.kid, alg, use: "sig" };
    io.stdout(`${JSON.stringify({ kid: material.kid, alg, key_file: flags.out, public_jwk: jwk })}\n`);
  } else {
    io.stdout(`${material.kid}\n`);
  }
  io.stderr(
    `Wrote a new ${alg} private key to ${flags.out} (mode 0600). Publish it before it signs: add it to the ` +
      "provider's BUS_AUTH_VERIFY_KEY_FILES, wait for verifiers to fetch the key set, then make it " +
      "BUS_AUTH_SIGNING_KEY_FILE.\n",
  );
  return EXIT.ok;
}
