/**
 * The per-client-IP limit on the unauthenticated endpoints (register, OTP
 * request, OTP verify), counted in the store so that every replica shares it.
 *
 * @module
 */

import { RateLimitError } from "../errors.ts";
import type { AuthContext } from "./context.ts";

/**
 * Counts one request of a client IP against `rateLimitPerIp` per
 * `rateLimitWindowSeconds` of the policy (a limit of 0 turns it off).
 *
 * @throws {RateLimitError} `rate_limited` past the limit, with the seconds until the window ends
 */
export async function enforceIpRateLimit(ctx: AuthContext, clientIp: string): Promise<void> {
  const { rateLimitPerIp, rateLimitWindowSeconds } = ctx.policy;
  if (rateLimitPerIp === 0) return;
  const result = await ctx.store.hitRateLimit({
    key: `ip:${clientIp}`,
    limit: rateLimitPerIp,
    windowSeconds: rateLimitWindowSeconds,
    now: ctx.now(),
  });
  if (!result.allowed) {
    throw new RateLimitError(
      "rate_limited",
      `Too many sign-in requests from this address: try again in ${result.retryAfterSeconds} s`,
      result.retryAfterSeconds,
    );
  }
}
