/**
 * Builds the OTP email: a pure function with no I/O, so that the wording,
 * the escaping and the headers can be tested without a mail server.
 *
 * The message carries the code in its body only (never in the subject, which
 * shows up in notification previews and relay logs), says how long the code
 * lives, tells the recipient they may ignore an unrequested mail, and contains
 * no link or URL at all.
 *
 * @module
 */

import { isPlainMailbox } from "../email.ts";

/** Subject line of every OTP email; it never contains the code. */
export const OTP_MAIL_SUBJECT = "Your Bus sign-in code";

/** Inputs of {@link buildOtpMail}. */
export interface OtpMailInput {
  /** Sender address (`BUS_AUTH_SMTP_FROM`), a plain mailbox. */
  from: string;
  /** Recipient address, a plain mailbox. */
  to: string;
  /** The code to deliver. */
  code: string;
  /** Lifetime of the code in seconds. */
  expiresInSeconds: number;
}

/** A ready-to-send OTP email. */
export interface OtpMail {
  /** Sender address. */
  from: string;
  /** Recipient address. */
  to: string;
  /** Subject line, {@link OTP_MAIL_SUBJECT}. */
  subject: string;
  /** Plain-text body. */
  text: string;
  /** HTML body; every interpolated value is escaped. */
  html: string;
  /** Extra headers that keep auto-responders quiet. */
  headers: Record<string, string>;
}

/**
 * Says a lifetime in words, rounded down so that the mail never promises more
 * time than the code has: 600 → `10 minutes`, 60 → `1 minute`, 45 → `45 seconds`.
 */
export function describeLifetime(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(whole / 60);
  if (minutes >= 1) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  return whole === 1 ? "1 second" : `${whole} seconds`;
}

/** Escapes the five HTML-significant characters. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ENTITIES[character]);
}

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Builds the OTP email for one recipient.
 *
 * @throws {RangeError} when `from` or `to` is not a plain mailbox (see {@link isPlainMailbox});
 *   the message names neither the code nor the addresses
 * @example
 * ```ts
 * const mail = buildOtpMail({ from: "auth@example.com", to: "user@example.com", code: "123456", expiresInSeconds: 600 });
 * mail.subject; // "Your Bus sign-in code"
 * ```
 */
export function buildOtpMail(input: OtpMailInput): OtpMail {
  if (!isPlainMailbox(input.from)) {
    throw new RangeError("Cannot build the OTP email: the sender is not a plain mailbox");
  }
  if (!isPlainMailbox(input.to)) {
    throw new RangeError("Cannot build the OTP email: the recipient is not a plain mailbox");
  }
  const lifetime = describeLifetime(input.expiresInSeconds);
  const text = [
    "Your Bus sign-in code is:",
    "",
    `    ${input.code}`,
    "",
    `It expires in ${lifetime}. Enter it where you asked to sign in and do not share it with anyone.`,
    "",
    "If you did not ask to sign in to Bus, you can ignore this email: nobody can sign in without the code.",
    "",
  ].join("\n");
  const html = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Your Bus sign-in code</title></head>',
    '<body style="font-family: sans-serif; line-height: 1.5;">',
    "<p>Your Bus sign-in code is:</p>",
    `<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px; font-family: monospace;">${
      escapeHtml(input.code)
    }</p>`,
    `<p>It expires in ${
      escapeHtml(lifetime)
    }. Enter it where you asked to sign in and do not share it with anyone.</p>`,
    "<p>If you did not ask to sign in to Bus, you can ignore this email: nobody can sign in without the code.</p>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
  return {
    from: input.from,
    to: input.to,
    subject: OTP_MAIL_SUBJECT,
    text,
    html,
    headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
  };
}
