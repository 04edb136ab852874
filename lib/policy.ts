/**
 * The policy numbers of DESIGN §5, as the service uses them. `lib/config/` fills
 * them from `BUS_AUTH_*` variables; tests build them with {@link defaultPolicy}.
 *
 * @module
 */

import { DEFAULT_ISSUER } from "./claims.ts";

/** Policy knobs of the auth service. */
export interface AuthPolicy {
  issuer: string;
  otpTtlSeconds: number;
  otpMaxAttempts: number;
  otpResendSeconds: number;
  /** Wrong guesses per email in a rolling 24 h, across codes, before 429 `otp_locked`. */
  otpMaxFailuresPerDay: number;
  sessionTtlSeconds: number;
  sessionRefresh: boolean;
  sessionMaxSeconds: number;
  apiTokenMaxTtlSeconds: number;
  /** Scopes an approved user may request (never operator powers). */
  apiUserScopes: readonly string[];
  internalTokenTtlSeconds: number;
  /** Requests per client IP on register and OTP calls per window; 0 turns the limit off. */
  rateLimitPerIp: number;
  rateLimitWindowSeconds: number;
}

/** Scopes issued to approved users when `BUS_AUTH_API_USER_SCOPES` is empty. */
export const DEFAULT_API_USER_SCOPES: readonly string[] = Object.freeze([
  "llm:proxy",
  "billing:read",
  "billing:setup",
  "vm:read",
  "container:read",
  "container:run",
]);

/**
 * The defaults of DESIGN §5, with optional overrides.
 *
 * @example
 * ```ts
 * defaultPolicy({ otpMaxAttempts: 3 });
 * ```
 */
export function defaultPolicy(overrides: Partial<AuthPolicy> = {}): AuthPolicy {
  return Object.freeze({
    issuer: DEFAULT_ISSUER,
    otpTtlSeconds: 600,
    otpMaxAttempts: 5,
    otpResendSeconds: 60,
    otpMaxFailuresPerDay: 20,
    sessionTtlSeconds: 3600,
    sessionRefresh: true,
    sessionMaxSeconds: 30 * 86400,
    apiTokenMaxTtlSeconds: 3600,
    apiUserScopes: DEFAULT_API_USER_SCOPES,
    internalTokenTtlSeconds: 600,
    rateLimitPerIp: 30,
    rateLimitWindowSeconds: 300,
    ...overrides,
  });
}
