/**
 * The public sign-up path: register an email, request a code, verify it.
 *
 * @module
 */

import { normalizeEmail } from "../email.ts";
import { AuthenticationError, DeliveryError, RateLimitError } from "../errors.ts";
import { generateOtp, hashOtp, requireOtpFormat } from "../otp/code.ts";
import {
  OTP_FAILURE_RETENTION_SECONDS,
  type OtpAttemptResult,
  type OtpFailureBudget,
  type UserRecord,
} from "../store/store.ts";
import { ANONYMOUS_ACTOR, recordAudit, userActor } from "./audit.ts";
import type { AuthContext } from "./context.ts";
import { newSession, type SessionGrant, sessionGrant } from "./session.ts";

/**
 * Creates the waitlisted user of an email, or finds the existing one
 * (emails compare case-insensitively).
 *
 * @throws {import("../errors.ts").InvalidInputError} `invalid_email`
 */
export async function register(ctx: AuthContext, rawEmail: string): Promise<UserRecord> {
  const email = normalizeEmail(rawEmail);
  const { user } = await ctx.store.registerUser({ userId: ctx.newId(), email, now: ctx.now() });
  return user;
}

/**
 * Creates or finds the registration of an email exactly as {@link register}
 * does (a new user starts waitlisted), then creates a challenge and delivers
 * its code. The answer is the same whether or not the email was registered
 * before, so it does not reveal which emails exist. When delivery fails the
 * challenge is deleted, so no usable code is left behind.
 *
 * @returns the code lifetime in seconds
 * @throws {import("../errors.ts").InvalidInputError} `invalid_email`
 * @throws {RateLimitError} `otp_resend_too_soon` inside the resend interval, `otp_locked` while the
 *   email's budget of wrong guesses is spent
 * @throws {DeliveryError} `otp_delivery_failed`
 */
export async function requestOtp(ctx: AuthContext, rawEmail: string): Promise<number> {
  const email = normalizeEmail(rawEmail);
  const newUserId = ctx.newId();
  const now = ctx.now();
  const code = generateOtp(ctx.randomBytes);
  const { otpTtlSeconds, otpResendSeconds } = ctx.policy;
  const challengeId = ctx.newId();
  // The store registers the email in the challenge's own transaction. The
  // registration stays even when the challenge is refused or its delivery
  // fails below: it is what `register` would have created for this email
  // anyway (waitlisted, unverified, no code), and removing it again would
  // race with a concurrent `register` of the same email.
  const created = await ctx.store.createOtpChallenge({
    challengeId,
    email,
    codeHash: hashOtp(ctx.otpKey, email, code),
    now,
    expiresAt: now + otpTtlSeconds * 1000,
    resendSeconds: otpResendSeconds,
    failureBudget: failureBudget(ctx),
    newUserId,
  });
  if (!created.ok && created.reason === "locked") throw lockedError(email, created.retryAfterSeconds);
  if (!created.ok) {
    throw new RateLimitError(
      "otp_resend_too_soon",
      `An OTP was sent to "${email}" moments ago: wait ${created.retryAfterSeconds} s before asking again`,
      created.retryAfterSeconds,
    );
  }
  try {
    await ctx.sender.send({ email, code, expiresInSeconds: otpTtlSeconds });
  } catch (error) {
    await ctx.store.deleteOtpChallenge(email, challengeId);
    if (error instanceof DeliveryError) throw error;
    throw new DeliveryError("otp_delivery_failed", `Cannot deliver the OTP to "${email}": the sender failed`, {
      cause: error,
    });
  }
  return otpTtlSeconds;
}

/**
 * Checks a code; the first correct one consumes the challenge, marks the user
 * verified and starts a session. The audit trail gets `otp.verify` for a
 * correct code, and `otp.locked` once, for the wrong guess that spends the
 * email's budget (by `anonymous`: the guesser proved nothing).
 *
 * @throws {import("../errors.ts").InvalidInputError} `invalid_email`, `invalid_otp`
 * @throws {AuthenticationError} `otp_invalid`, `otp_expired`, `otp_used`, `otp_not_requested`, `otp_attempts_exceeded`
 * @throws {RateLimitError} `otp_locked` while the email's budget of wrong guesses is spent
 */
export async function verifyOtp(ctx: AuthContext, rawEmail: string, rawCode: string): Promise<SessionGrant> {
  const email = normalizeEmail(rawEmail);
  const code = requireOtpFormat(rawCode);
  const now = ctx.now();
  const session = newSession(ctx, now);
  const result = await ctx.store.attemptOtp({
    email,
    codeHash: hashOtp(ctx.otpKey, email, code),
    now,
    maxAttempts: ctx.policy.otpMaxAttempts,
    failureBudget: failureBudget(ctx),
    session,
  });
  if (!result.ok && result.reason === "locked") throw lockedError(email, result.retryAfterSeconds);
  if (!result.ok && result.reason === "mismatch" && result.lockedNow) {
    ctx.onSecurityEvent({ kind: "otp_locked", email, at: now });
    const user = await ctx.store.findUserByEmail(email);
    await recordAudit(ctx, {
      actor: ANONYMOUS_ACTOR,
      action: "otp.locked",
      target: user?.userId ?? null,
      detail: `${ctx.policy.otpMaxFailuresPerDay} wrong codes in 24 h`,
    });
  }
  if (!result.ok) throw otpRefusal(email, result);
  const grant = await sessionGrant(ctx, result.user, session);
  await recordAudit(ctx, { actor: userActor(result.user.userId), action: "otp.verify", target: result.user.userId });
  return grant;
}

/** The budget of wrong guesses per email: the policy's daily maximum in a rolling 24 h. */
function failureBudget(ctx: AuthContext): OtpFailureBudget {
  return { max: ctx.policy.otpMaxFailuresPerDay, windowSeconds: OTP_FAILURE_RETENTION_SECONDS };
}

function lockedError(email: string, retryAfterSeconds: number): RateLimitError {
  return new RateLimitError(
    "otp_locked",
    `Cannot sign in "${email}" with a code now: too many wrong codes in the last 24 hours; ` +
      `try again in ${retryAfterText(retryAfterSeconds)}`,
    retryAfterSeconds,
  );
}

function retryAfterText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.ceil(seconds / 60)} minutes`;
  return `${Math.ceil(seconds / 3600)} hours`;
}

function otpRefusal(
  email: string,
  result: Exclude<OtpAttemptResult, { ok: true } | { reason: "locked" }>,
): AuthenticationError {
  const prefix = `Cannot verify the OTP for "${email}"`;
  switch (result.reason) {
    case "mismatch":
      if (result.lockedNow) {
        return new AuthenticationError(
          "otp_invalid",
          `${prefix}: wrong code; too many wrong codes in the last 24 hours, so this email is locked for a while`,
        );
      }
      return new AuthenticationError(
        "otp_invalid",
        result.attemptsLeft > 0
          ? `${prefix}: wrong code, ${result.attemptsLeft} attempt${result.attemptsLeft === 1 ? "" : "s"} left`
          : `${prefix}: wrong code, no attempts left; request a new code`,
      );
    case "expired":
      return new AuthenticationError("otp_expired", `${prefix}: the code expired; request a new code`);
    case "used":
      return new AuthenticationError("otp_used", `${prefix}: the code was already used; request a new code`);
    case "exhausted":
      return new AuthenticationError(
        "otp_attempts_exceeded",
        `${prefix}: too many wrong attempts; request a new code`,
      );
    case "not_requested":
      return new AuthenticationError("otp_not_requested", `${prefix}: no code was requested; request a code first`);
  }
}
