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
// RFC 5322 dot-atom with the printable ASCII atext set; quoted local parts
// and address literals are refused on purpose (they are never real mailboxes
// of users and only widen the header-injection surface).
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

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
  const local = trimmed.slice(0, at).toLowerCase();
  const domain = domainToASCII(trimmed.slice(at + 1).toLowerCase());
  const email = `${local}@${domain}`;
  if (!isValidLocalPart(local) || !isValidDomain(domain) || email.length > MAX_EMAIL_LENGTH) {
    throw invalidEmail(trimmed);
  }
  return email;
}

function isValidLocalPart(local: string): boolean {
  return local.length <= MAX_LOCAL_LENGTH && LOCAL_PART.test(local);
}

function isValidDomain(domain: string): boolean {
  if (domain === "" || domain.length > 253) return false;
  const labels = domain.split(".");
  // A mailbox domain needs a dot: "user@localhost" is not deliverable mail.
  return labels.length >= 2 && labels.every((label) => DOMAIN_LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1]);
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
