/**
 * Where `bus auth` finds and keeps the auth-service session token:
 * `--token-file`, else `BUS_AUTH_TOKEN_FILE`, else `BUS_AUTH_TOKEN` (read
 * only), else `auth/token` under the Bus config folder.
 *
 * @module
 */

import type { Io } from "../../lib/program.ts";
import { FailureError, UsageError } from "../shared/errors.ts";
import { defaultSessionTokenPath } from "../shared/files.ts";
import { isStandardInput, readSecretFile } from "../shared/secret_input.ts";

/** Where the session token comes from. */
export type SessionSource =
  | { kind: "file"; path: string; chosen: boolean }
  | { kind: "environment" };

/**
 * The session token's source for reading.
 *
 * @throws {UsageError} when both `BUS_AUTH_TOKEN_FILE` and `BUS_AUTH_TOKEN` are set
 */
export function sessionSource(tokenFile: string | undefined, io: Io): SessionSource {
  if (tokenFile !== undefined) return { kind: "file", path: tokenFile, chosen: true };
  const fromEnvFile = io.env.BUS_AUTH_TOKEN_FILE;
  const fromEnv = io.env.BUS_AUTH_TOKEN?.trim();
  if (fromEnvFile && fromEnv) throw new UsageError("BUS_AUTH_TOKEN_FILE and BUS_AUTH_TOKEN are both set: keep one");
  if (fromEnvFile) return { kind: "file", path: fromEnvFile, chosen: true };
  if (fromEnv) return { kind: "environment" };
  return { kind: "file", path: defaultSessionTokenPath(io.env), chosen: false };
}

/**
 * The file `verify` and `refresh` write the session token to.
 *
 * @throws {UsageError} for standard input, which cannot be written
 */
export function sessionWritePath(tokenFile: string | undefined, io: Io): string {
  const path = tokenFile ?? (io.env.BUS_AUTH_TOKEN_FILE || defaultSessionTokenPath(io.env));
  if (isStandardInput(path)) {
    throw new UsageError("the session token file is standard input, which cannot be written: name a file");
  }
  return path;
}

/** Thrown when no session token exists at the default place. */
export class NotSignedInError extends FailureError {
  constructor(path: string) {
    super(
      `Not signed in: no session token at ${path}. Sign in with bus auth login --email <email>, then ` +
        "bus auth verify --email <email> --otp <code> (or use --token-file or BUS_AUTH_TOKEN_FILE)",
      "not_signed_in",
    );
  }
}

/**
 * Reads the session token.
 *
 * @throws {NotSignedInError} when the default token file does not exist
 * @throws {FailureError} when a chosen file cannot be read
 */
export async function readSessionToken(source: SessionSource, io: Io): Promise<string> {
  if (source.kind === "environment") return io.env.BUS_AUTH_TOKEN!.trim();
  if (!source.chosen) {
    try {
      await Deno.lstat(source.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new NotSignedInError(source.path);
    }
  }
  return await readSecretFile(source.path, source.chosen ? "token file" : "session token file", io);
}
