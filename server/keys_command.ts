/**
 * `bus-api-provider-auth keys generate --alg EdDSA|ES256 --out FILE
 * [--format text|json]`: a new signing key as a PKCS#8 PEM file, 0600,
 * written atomically and never over an existing file. Standard output gets
 * only the key's `kid` (with `--format json`, the public JWK too), never the
 * private key. The compiled provider may write only below /var/lib/bus-auth;
 * `bus operator token keys generate` writes anywhere.
 *
 * @module
 */

import { generateSigningKey } from "../lib/keys/generate.ts";
import type { KeyAlg } from "../lib/keys/key_material.ts";
import { EXIT, type Io } from "../lib/program.ts";
import { FileExistsError, writeNewPrivateFile } from "../lib/runtime/private_file.ts";

/** The options of `keys generate`, as typed. */
export interface KeysGenerateOptions {
  alg?: string;
  out?: string;
  format?: string;
}

/** Runs `keys generate`; usage problems come back as a message for the caller's usage line. */
export function keysGenerate(options: KeysGenerateOptions, io: Io): number | { usage: string } {
  const alg = (["EdDSA", "ES256"] as const).find((name) => name.toLowerCase() === options.alg?.toLowerCase());
  if (alg === undefined) {
    if (options.alg?.toUpperCase() === "HS256") {
      return { usage: "--alg HS256 has no key file: its secret is BUS_AUTH_HS256_SECRET (openssl rand -base64 48)" };
    }
    return {
      usage: `keys generate needs --alg EdDSA or ES256${
        options.alg === undefined ? "" : `, not "${clip(options.alg)}"`
      }`,
    };
  }
  if (options.out === undefined || options.out === "") return { usage: "keys generate needs --out FILE" };
  const format = options.format ?? "text";
  if (format !== "text" && format !== "json") return { usage: `--format must be text or json, not "${clip(format)}"` };
  return write(alg, options.out, format, io);
}

function write(alg: KeyAlg, out: string, format: "text" | "json", io: Io): number {
  const { pem, material } = generateSigningKey(alg);
  try {
    writeNewPrivateFile(out, pem);
  } catch (error) {
    io.stderr(`bus-api-provider-auth: ${whyNotWritten(out, error)}\n`);
    return EXIT.failure;
  }
  if (format === "json") {
    const jwk = { ...material.publicJwk, kid: material.kid, alg, use: "sig" };
    io.stdout(`${JSON.stringify({ kid: material.kid, alg, key_file: out, public_jwk: jwk })}\n`);
  } else {
    io.stdout(`${material.kid}\n`);
  }
  io.stderr(
    `Wrote a new ${alg} private key to ${out} (mode 0600). Publish it before it signs: add it to ` +
      "BUS_AUTH_VERIFY_KEY_FILES, wait for verifiers to fetch the key set, then make it BUS_AUTH_SIGNING_KEY_FILE.\n",
  );
  return EXIT.ok;
}

function whyNotWritten(out: string, error: unknown): string {
  if (error instanceof FileExistsError) {
    return `refusing to overwrite "${out}": a key file is never replaced; choose a new name`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `cannot write "${out}": the compiled provider writes only below /var/lib/bus-auth; give --out ` +
      "/var/lib/bus-auth/<name>, or run bus operator token keys generate, which may write anywhere";
  }
  return `cannot write "${out}": ${error instanceof Error ? error.message.split(":")[0] : String(error)}`;
}

function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
