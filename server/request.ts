/**
 * Reading requests: the JSON body, typed fields and the bearer token. Every
 * malformed input becomes an `InvalidInputError` (400) or, for the token, an
 * `AuthenticationError` (401).
 *
 * @module
 */

import type { Context } from "hono";
import { AuthenticationError, AuthError, InvalidInputError } from "../lib/errors.ts";
import type { AppEnv } from "./env.ts";

/** A parsed JSON object body. */
export type JsonBody = Record<string, unknown>;

/**
 * Reads the body as text.
 *
 * @throws {InvalidInputError} `invalid_body` for bytes that cannot be read
 */
export async function readBodyText(c: Context<AppEnv>): Promise<string> {
  try {
    return await c.req.text();
  } catch (error) {
    if (error instanceof AuthError) throw error;
    throw new InvalidInputError("invalid_body", "The request body could not be read");
  }
}

/**
 * Reads the body as one JSON object (whatever the Content-Type). With
 * `optional`, an empty body is the empty object.
 *
 * @throws {InvalidInputError} `invalid_json` for an empty or unparsable body, `invalid_request` for a non-object,
 *   `invalid_body` for bytes that cannot be read
 */
export async function readJsonObject(c: Context<AppEnv>, options: { optional?: boolean } = {}): Promise<JsonBody> {
  return parseJsonObject(await readBodyText(c), options);
}

/**
 * A body's text as one JSON object, as {@link readJsonObject} reads it.
 *
 * @throws {InvalidInputError} `invalid_json` for an empty or unparsable body, `invalid_request` for a non-object
 */
export function parseJsonObject(text: string, options: { optional?: boolean } = {}): JsonBody {
  if (text.trim() === "") {
    if (options.optional) return {};
    throw new InvalidInputError("invalid_json", "The request body is empty: send a JSON object");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError("invalid_json", "The request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidInputError("invalid_request", "The request body must be a JSON object");
  }
  return value as JsonBody;
}

/** @throws {InvalidInputError} `invalid_request` when the field is missing or not a string */
export function requireString(body: JsonBody, name: string): string {
  const value = body[name];
  if (value === undefined || value === null) {
    throw new InvalidInputError("invalid_request", `The field "${name}" is required`);
  }
  if (typeof value !== "string") throw new InvalidInputError("invalid_request", `The field "${name}" must be a string`);
  return value;
}

/** @throws {InvalidInputError} `invalid_request` when present but not a string */
export function optionalString(body: JsonBody, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidInputError("invalid_request", `The field "${name}" must be a string`);
  return value;
}

/** @throws {InvalidInputError} `invalid_ttl` when present but not a positive integer */
export function optionalTtl(body: JsonBody, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError("invalid_ttl", `The field "${name}" must be a positive whole number of seconds`);
  }
  return value;
}

/**
 * The token of the request's `Authorization: Bearer <token>` header.
 *
 * @throws {AuthenticationError} `missing_token` or `invalid_token`
 */
export function bearerToken(c: Context<AppEnv>): string {
  return bearerTokenOf(c.req.raw.headers.get("Authorization"));
}

/**
 * The token of an `Authorization` header's value (`null` when absent).
 *
 * @throws {AuthenticationError} `missing_token` or `invalid_token`
 */
export function bearerTokenOf(header: string | null): string {
  if (header === null || header.trim() === "") {
    throw new AuthenticationError("missing_token", "This call needs an Authorization: Bearer <token> header");
  }
  const match = BEARER.exec(header);
  if (!match) throw new AuthenticationError("invalid_token", "The Authorization header must be Bearer <token>");
  return match[1];
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i;

/**
 * A field that may be a string or an explicit `null` (such as `"scopes": null`
 * for "back to the default"); `undefined` when absent.
 *
 * @throws {InvalidInputError} `invalid_request` when present but neither a string nor null
 */
export function nullableString(body: JsonBody, name: string): string | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== "string") {
    throw new InvalidInputError("invalid_request", `The field "${name}" must be a string or null`);
  }
  return value;
}
