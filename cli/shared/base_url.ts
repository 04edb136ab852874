/**
 * Base-URL resolution of DESIGN §2. A base whose path ends in `/auth`
 * (`…/api/v1/auth`, `…/modules/auth`, `…/auth`) is the auth base `{A}`;
 * any other base (bare origin, or a prefix such as `/local-dev/v1`) gets
 * `/api/v1/auth` appended. The internal token endpoint is
 * `/api/internal/auth/token` below the origin plus the prefix before the
 * auth base.
 *
 * @module
 */

import { hasUrlCredentials, maskUrlCredentials } from "../../lib/url_credentials.ts";
import { UsageError } from "./errors.ts";

/** The two URLs a client needs. */
export interface ProviderUrls {
  /** The auth base `{A}`, without a trailing slash. */
  authBase: string;
  /** The internal token endpoint. */
  internalToken: string;
}

const AUTH_SUFFIXES = ["/api/v1/auth", "/modules/auth", "/auth"];

/**
 * Resolves an `--api-url` value.
 *
 * @throws {UsageError} for anything but an http(s) URL without query or fragment
 * @example
 * ```ts
 * resolveProviderUrls("http://127.0.0.1:8080/local-dev/v1/modules/auth").internalToken;
 * // "http://127.0.0.1:8080/local-dev/v1/api/internal/auth/token"
 * ```
 */
export function resolveProviderUrls(value: string): ProviderUrls {
  const shown = maskUrlCredentials(value);
  if (hasUrlCredentials(value)) {
    throw new UsageError(
      `Cannot use "${shown}" as the API URL: it carries a user name or password, which would travel to the ` +
        "provider and into logs; the provider takes none (sign in with bus auth login, or give token files)",
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`Cannot use "${shown}" as the API URL: expected http(s)://host[:port][/path]`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new UsageError(
      `Cannot use "${shown}" as the API URL: expected http(s)://host[:port][/path] without query or fragment`,
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  const suffix = AUTH_SUFFIXES.find((candidate) => path.endsWith(candidate));
  const prefix = suffix === undefined ? path : path.slice(0, path.length - suffix.length);
  return {
    authBase: `${url.origin}${suffix === undefined ? `${path}/api/v1/auth` : path}`,
    internalToken: `${url.origin}${prefix}/api/internal/auth/token`,
  };
}
