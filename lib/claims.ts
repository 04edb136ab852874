/**
 * The JWT claim set shared by every token this system issues. The server and
 * `bus operator token issue --local` build claims with {@link buildClaims}
 * only, so a provider with the same secret accepts a locally signed token.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

/** The audiences of DESIGN §3. */
export const AUDIENCE = Object.freeze({
  /** Auth-service sessions and auth-service admin tokens. */
  auth: "ai.hg.fi/auth",
  /** Normal Bus API tokens (REST and Events APIs). */
  api: "ai.hg.fi/api",
  /** Service and operator work. */
  internal: "ai.hg.fi/internal",
});

/** Every audience a token of this system may carry. */
export const KNOWN_AUDIENCES: readonly string[] = Object.freeze(Object.values(AUDIENCE));

/** Default issuer when `BUS_AUTH_ISSUER` is unset. */
export const DEFAULT_ISSUER = "bus-api-provider-auth";

/**
 * Longest lifetime of any token of this system: 30 days, the ceiling of
 * internal tokens (`BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS`) and of
 * `bus operator token issue --local`. Sessions and user API tokens live at
 * most a day. A revocation by token id alone is kept this long (plus the
 * clock skew of `iat`), so {@link buildClaims} refuses anything longer.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 30 * 86400;

const SUBJECT = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The claims of a token of this system. */
export interface TokenClaims {
  /** Issuer. */
  iss: string;
  /** Subject: user UUID (session), account UUID (user API token) or a service name. */
  sub: string;
  /** Audience: one of {@link KNOWN_AUDIENCES}. */
  aud: string;
  /** Space-separated scopes; may be empty. */
  scope: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Unique token id, used for revocation. */
  jti: string;
  /** Session id; only in auth-service session tokens. */
  sid?: string;
  /** The service client that obtained the token (RFC 9068 §2.2); only in tokens of the client-credentials grant. */
  client_id?: string;
}

/** Input of {@link buildClaims}. */
export interface ClaimsInput {
  issuer: string;
  subject: string;
  audience: string;
  /** Space-separated scopes (already validated). */
  scope: string;
  /** Lifetime in seconds, at least 1. */
  ttlSeconds: number;
  /** Current time in milliseconds since the epoch. */
  now: number;
  /** Token id; a random UUID when omitted. */
  jti?: string;
  /** Session id for auth-service session tokens. */
  sid?: string;
  /** Id of the service client the token is issued to (client-credentials grant). */
  clientId?: string;
}

/**
 * Builds the claim set of a token. `iat` is the current second and `exp`
 * is `iat + ttlSeconds`.
 *
 * @throws {InvalidInputError} `invalid_ttl` when the lifetime is not a whole number of seconds from 1 to
 *   {@link MAX_TOKEN_LIFETIME_SECONDS}
 * @example
 * ```ts
 * buildClaims({ issuer: "bus-api-provider-auth", subject: "local-codex",
 *   audience: AUDIENCE.api, scope: "llm:proxy", ttlSeconds: 3600, now: Date.now() });
 * ```
 */
export function buildClaims(input: ClaimsInput): TokenClaims {
  if (
    !Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds < 1 || input.ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS
  ) {
    throw new InvalidInputError(
      "invalid_ttl",
      "Cannot issue a token: the lifetime must be a positive number of seconds, at most 30 days",
    );
  }
  const iat = Math.floor(input.now / 1000);
  const claims: TokenClaims = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    scope: input.scope,
    iat,
    exp: iat + input.ttlSeconds,
    jti: input.jti ?? crypto.randomUUID(),
  };
  if (input.sid !== undefined) claims.sid = input.sid;
  if (input.clientId !== undefined) claims.client_id = input.clientId;
  return claims;
}

/** Tells whether a value is an acceptable token subject (`[A-Za-z0-9._:@-]{1,128}`). */
export function isValidSubject(value: string): boolean {
  return SUBJECT.test(value);
}

/** Tells whether a value is one of {@link KNOWN_AUDIENCES}. */
export function isKnownAudience(value: string): boolean {
  return KNOWN_AUDIENCES.includes(value);
}
