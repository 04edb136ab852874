/**
 * Email validation and normalisation. The normalised address is the identity
 * key: one account per mailbox, compared case-insensitively.
 *
 * @module
 */

import { domainToASCII } from "node:url";
import { InvalidInputError } from "./errors.ts";

const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;
// RFC 5322 dot-atom local part with the printable ASCII atext set (it
// includes the apostrophe of o'brien@example.com) and an ASCII host name with
// at least two labels. Quoted local parts, address literals, white space,
// control characters, `"`, `<`, `>`, `,`, `;`, `(`, `)`, `\`, `:` and `[`/`]`
// can never match, so a matching address cannot add a header or a recipient.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Tells whether a value is one plain mailbox address such as
 * `user@example.com`: exactly one `@`, a dot-atom local part of at most 64
 * characters, an ASCII domain with a dot and a non-numeric top-level label,
 * at most 254 characters in all. The OTP senders check recipients with it
 * again before any message is built.
 *
 * @example
 * ```ts
 * isPlainMailbox("user@example.com"); // true
 * isPlainMailbox("a@example.com, b@example.com"); // false
 * ```
 */
export function isPlainMailbox(value: string): boolean {
  if (value.length > MAX_EMAIL_LENGTH) return false;
  const at = value.indexOf("@");
  if (at <= 0 || at !== value.lastIndexOf("@")) return false;
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split(".");
  return local.length <= MAX_LOCAL_LENGTH && LOCAL_PART.test(local) && labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) && !/^[0-9]+$/.test(labels[labels.length - 1]);
}

/**
 * Validates an email address and returns its normalised form: surrounding
 * white space removed, the domain converted to ASCII (IDNA) and the whole
 * address lower-cased.
 *
 * @throws {InvalidInputError} `invalid_email` when the value is not a plain mailbox address
 * @example
 * ```ts
 * normalizeEmail("  User@Example.COM "); // "user@example.com"
 * ```
 */
export function normalizeEmail(value: string): string {
  const trimmed = value.trim();
  const at = trimmed.lastIndexOf("@");
  if (at <= 0 || at === trimmed.length - 1) {
    throw invalidEmail(trimmed);
  }
  const email = `${trimmed.slice(0, at).toLowerCase()}@${domainToASCII(trimmed.slice(at + 1).toLowerCase())}`;
  if (!isPlainMailbox(email)) throw invalidEmail(trimmed);
  return email;
}

function invalidEmail(value: string): InvalidInputError {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return new InvalidInputError(
    "invalid_email",
    `Cannot use "${printable(shown)}" as an email address: expected a mailbox like user@example.com`,
  );
}

/** Replaces control characters so that a message never carries raw line breaks. */
function printable(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, "?");
}
