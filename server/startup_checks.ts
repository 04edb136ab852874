/**
 * Checks of what the configuration names beyond the environment: whether
 * the SMTP relay of `BUS_AUTH_OTP_SENDER=smtp` takes a connection (connect,
 * greeting, EHLO, STARTTLS as configured and AUTH with a username; no mail
 * is sent), bounded by {@link SMTP_CHECK_TIMEOUT_MS}. `serve` runs them
 * before it listens, `config --check-connections` on request; their
 * problems join the configuration problems in one list.
 *
 * Key-file problems are configuration problems (`loadConfig`); the store is
 * opened (and its failure reported) by `serve` itself.
 *
 * @module
 */

import type { Config, SenderConfig } from "../lib/config/config.ts";

/** How long the SMTP check waits, in ms (nodemailer is loaded only when it runs). */
export const SMTP_CHECK_TIMEOUT_MS = 5_000;

/** What the checks found: problem lines, and when the relay last took a connection. */
export interface ConnectionReport {
  problems: string[];
  /** Epoch ms at which the SMTP relay took the check's connection, or `null`. */
  smtpCheckedAt: number | null;
}

/** Options of {@link checkConnections}. */
export interface CheckOptions {
  /** Bound of each check in ms (default {@link SMTP_CHECK_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Problems already found in the environment: a check of a part that has one is skipped. */
  knownProblems?: readonly string[];
}

/**
 * Runs the checks that apply to `config` (only the SMTP relay, when it is
 * the sender).
 */
export async function checkConnections(config: Config, options: CheckOptions = {}): Promise<ConnectionReport> {
  const report: ConnectionReport = { problems: [], smtpCheckedAt: null };
  const known = options.knownProblems ?? [];
  if (config.sender.kind !== "smtp" || known.some((line) => /^BUS_AUTH_(SMTP|OTP_SENDER)/.test(line))) return report;
  const problem = await smtpProblem(config.sender, options.timeoutMs ?? SMTP_CHECK_TIMEOUT_MS);
  if (problem === null) report.smtpCheckedAt = Date.now();
  else report.problems.push(problem);
  return report;
}

async function smtpProblem(sender: Extract<SenderConfig, { kind: "smtp" }>, timeoutMs: number): Promise<string | null> {
  const { SmtpOtpSender } = await import("../lib/otp/smtp.ts");
  const smtp = new SmtpOtpSender(sender);
  try {
    await smtp.verify(timeoutMs);
    return null;
  } catch (error) {
    return `BUS_AUTH_SMTP_HOST: ${(error as Error).message}`;
  } finally {
    await smtp.close();
  }
}
