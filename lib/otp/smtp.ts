/**
 * OTP sender that hands each code to an SMTP server with nodemailer.
 *
 * - One short-lived connection per code (no pool): codes are rare, a pool
 *   would only hold idle connections that servers drop.
 * - TLS follows `BUS_AUTH_SMTP_TLS` (see {@link smtpTlsMode}); certificates
 *   are always verified.
 * - nodemailer logging is off, so no SMTP transcript (with the AUTH exchange
 *   or the message body) is ever written.
 * - Every failure becomes a {@link DeliveryError} `otp_delivery_failed` whose
 *   message names the recipient and a secret-free reason; its `cause` is a
 *   sanitised copy of the nodemailer error with the password and the code
 *   redacted, never the nodemailer error itself.
 *
 * @module
 */

import nodemailer from "nodemailer";
import type { Mail, SMTPSentMessageInfo, SMTPTransportOptions } from "nodemailer";
import type { SenderConfig } from "../config/config.ts";
import { DeliveryError } from "../errors.ts";
import type { OtpMessage, OtpSender } from "./sender.ts";
import { isPlainMailbox } from "../email.ts";
import { buildOtpMail } from "./smtp_message.ts";

/** The `smtp` variant of {@link SenderConfig}. */
export type SmtpSenderConfig = Extract<SenderConfig, { kind: "smtp" }>;

/** Test and tuning knobs of {@link SmtpOtpSender}; production code passes none. */
export interface SmtpOtpSenderOptions {
  /**
   * Extra trusted certificate authorities (PEM), for a test server with a
   * self-signed certificate. Verification itself can never be turned off.
   */
  ca?: string | string[];
  /** Milliseconds to wait for the TCP (or TLS) connection; default 10 000. */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for the server greeting; default 10 000. */
  greetingTimeoutMs?: number;
  /** Milliseconds of socket inactivity before giving up; default 20 000. */
  socketTimeoutMs?: number;
}

/** How a connection is secured, in nodemailer terms. */
export interface SmtpTlsMode {
  /** TLS from the first byte (SMTPS, usually port 465). */
  secure: boolean;
  /** Fail unless STARTTLS upgrades the connection. */
  requireTLS: boolean;
  /** Never upgrade, even when the server offers STARTTLS. */
  ignoreTLS: boolean;
}

/**
 * Maps `BUS_AUTH_SMTP_TLS` to nodemailer flags:
 *
 * - `implicit`: TLS from the start;
 * - `starttls`: plain connect, STARTTLS required;
 * - `none`: plain text, STARTTLS ignored (local catchers such as MailHog);
 * - `auto`: port 465 implicit, port 587 STARTTLS required, any other port
 *   STARTTLS when the server offers it, except that STARTTLS is required when
 *   credentials are configured, so that a password never crosses the network
 *   in clear because an attacker stripped the STARTTLS offer.
 */
export function smtpTlsMode(tls: SmtpSenderConfig["tls"], port: number, hasCredentials: boolean): SmtpTlsMode {
  switch (tls) {
    case "implicit":
      return { secure: true, requireTLS: false, ignoreTLS: false };
    case "starttls":
      return { secure: false, requireTLS: true, ignoreTLS: false };
    case "none":
      return { secure: false, requireTLS: false, ignoreTLS: true };
    case "auto":
      if (port === 465) return { secure: true, requireTLS: false, ignoreTLS: false };
      return { secure: false, requireTLS: port === 587 || hasCredentials, ignoreTLS: false };
  }
}

/** How long {@link SmtpOtpSender.verify} waits for the relay by default. */
export const SMTP_VERIFY_TIMEOUT_MS = 5_000;

/** An {@link OtpSender} that delivers codes by SMTP. */
export class SmtpOtpSender implements OtpSender {
  readonly kind = "smtp";
  #config: SmtpSenderConfig;
  #options: SmtpOtpSenderOptions;
  #from: string;
  #secrets: string[];
  #transport: Mail<SMTPSentMessageInfo, SMTPTransportOptions>;
  #closed = false;

  /**
   * @param config the validated `smtp` sender configuration
   * @param options test and tuning knobs; omit in production
   */
  constructor(config: SmtpSenderConfig, options: SmtpOtpSenderOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#from = config.from;
    this.#secrets = secretForms(config.username ?? "", config.password ?? "");
    this.#transport = nodemailer.createTransport(transportOptions(config, options));
  }

  /**
   * Checks that the relay takes a connection as a delivery would: TCP (or
   * TLS from the first byte), greeting, EHLO, STARTTLS as configured and
   * AUTH when a username is set; no mail is sent. Each step and the whole
   * check are bounded by `timeoutMs`.
   *
   * @throws {DeliveryError} `smtp_unreachable` naming the relay and a secret-free reason
   */
  async verify(timeoutMs: number = SMTP_VERIFY_TIMEOUT_MS): Promise<void> {
    const { host, port } = this.#config;
    const relay = `"${host}:${port}"`;
    const transport = nodemailer.createTransport(transportOptions(this.#config, {
      ...this.#options,
      connectionTimeoutMs: timeoutMs,
      greetingTimeoutMs: timeoutMs,
      socketTimeoutMs: timeoutMs,
    }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error("no answer in time"), { code: "ETIMEDOUT" })),
        timeoutMs,
      );
    });
    const check = transport.verify();
    check.catch(() => {});
    try {
      await Promise.race([check, late]);
    } catch (error) {
      throw new DeliveryError(
        "smtp_unreachable",
        `Cannot reach the SMTP relay ${relay} within ${Math.ceil(timeoutMs / 1000)} s: ${reasonOf(error)}`,
        { cause: sanitisedCause(error, this.#secrets) },
      );
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }

  /**
   * Sends one code. The recipient is checked again here (defence in depth
   * against header injection): anything but one plain mailbox is refused
   * before any connection is opened.
   *
   * @throws {DeliveryError} `otp_delivery_failed` when the address is not a plain mailbox, the sender is
   *   closed, or the server cannot be reached, refuses the credentials, the recipient or the message, or times out
   */
  async send(message: OtpMessage): Promise<void> {
    const to = message.email;
    if (!isPlainMailbox(to)) {
      throw new DeliveryError(
        "otp_delivery_failed",
        `Cannot deliver the OTP to "${
          printable(to.slice(0, 80))
        }": the address is not a plain mailbox like user@example.com`,
      );
    }
    if (this.#closed) {
      throw new DeliveryError("otp_delivery_failed", `Cannot deliver the OTP to "${to}": the SMTP sender is closed`);
    }
    const mail = buildOtpMail({ from: this.#from, to, code: message.code, expiresInSeconds: message.expiresInSeconds });
    try {
      await this.#transport.sendMail({
        from: mail.from,
        to: { name: "", address: mail.to },
        envelope: { from: mail.from, to: [mail.to] },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: mail.headers,
      });
    } catch (error) {
      throw new DeliveryError(
        "otp_delivery_failed",
        `Cannot deliver the OTP to "${to}": ${reasonOf(error)}`,
        { cause: sanitisedCause(error, [...this.#secrets, message.code]) },
      );
    }
  }

  /** Closes the transport; later sends fail with `otp_delivery_failed`. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#transport.close();
    }
    return Promise.resolve();
  }
}

/** The nodemailer options of one transport: the configured relay, TLS as `smtpTlsMode` says, no logging. */
function transportOptions(config: SmtpSenderConfig, options: SmtpOtpSenderOptions): SMTPTransportOptions {
  const hasCredentials = config.username !== null;
  return {
    host: config.host,
    port: config.port,
    ...smtpTlsMode(config.tls, config.port, hasCredentials),
    tls: {
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    },
    ...(hasCredentials ? { auth: { user: config.username ?? "", pass: config.password ?? "" } } : {}),
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 20_000,
    dnsTimeout: options.connectionTimeoutMs ?? 10_000,
    logger: false,
    debug: false,
    transactionLog: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The shape of a nodemailer error, as far as it is read here. */
interface SmtpFailure {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  command?: unknown;
  message?: unknown;
}

/** A short reason category for the user-facing message; never server text. */
function reasonOf(error: unknown): string {
  const failure = (typeof error === "object" && error !== null ? error : {}) as SmtpFailure;
  const code = String(failure.code ?? "");
  const originalCode = String(failure.originalCode ?? "");
  const command = String(failure.command ?? "");
  if (code === "EAUTH" || code === "ENOAUTH") return "the mail server refused the credentials (authentication failed)";
  if (code === "ETIMEDOUT" || originalCode === "ETIMEDOUT") return "the mail server did not answer in time (timed out)";
  if (code === "ETLS" || code === "EREQUIRETLS" || /CERT|TLS|SSL|VERIFY|SIGNATURE|ISSUER/i.test(originalCode)) {
    return "no secure connection could be made with the mail server (TLS failed)";
  }
  if (code === "EENVELOPE" && command === "RCPT TO") return "the mail server refused the recipient (recipient refused)";
  if (code === "EENVELOPE" || code === "EMESSAGE") return "the mail server refused the message (message refused)";
  if (originalCode === "ECONNREFUSED") return "the mail server refused the connection (connection failed)";
  if (["ECONNECTION", "ESOCKET", "EDNS", "EPROXY"].includes(code)) {
    return "the mail server could not be reached (connection failed)";
  }
  return "the mail server failed (delivery failed)";
}

/**
 * A plain error carrying what helps an operator (nodemailer code, SMTP
 * command, reply code and the first line of the reply) with every form of the
 * password and the OTP code replaced by `[redacted]`. The nodemailer error is
 * dropped: server replies to AUTH may echo what the client sent.
 */
function sanitisedCause(error: unknown, secrets: string[]): Error {
  const failure = (typeof error === "object" && error !== null ? error : {}) as SmtpFailure;
  const parts = [
    typeof failure.code === "string" ? failure.code : "EUNKNOWN",
    typeof failure.originalCode === "string" ? `(${failure.originalCode})` : "",
    typeof failure.command === "string" ? `at ${failure.command}` : "",
  ].filter((part) => part !== "");
  const message = typeof failure.message === "string" ? failure.message : String(error);
  const firstLine = printable(message.split("\n")[0]).slice(0, 300);
  const cause = new Error(redact(`SMTP ${parts.join(" ")}: ${firstLine}`, secrets));
  cause.name = "SmtpError";
  return Object.assign(cause, {
    code: typeof failure.code === "string" ? failure.code : "EUNKNOWN",
    responseCode: typeof failure.responseCode === "number" ? failure.responseCode : null,
    command: typeof failure.command === "string" ? redact(failure.command, secrets) : null,
  });
}

/** The password as it may travel: raw, and base64 as sent by AUTH LOGIN and AUTH PLAIN. */
function secretForms(username: string, password: string): string[] {
  if (password === "") return [];
  const base64 = (value: string) => btoa(String.fromCharCode(...new TextEncoder().encode(value)));
  return [password, base64(password), base64(`\u0000${username}\u0000${password}`)];
}

function redact(text: string, secrets: string[]): string {
  let result = text;
  // Longest first, so that a secret containing another is replaced whole.
  for (const secret of [...secrets].filter((value) => value !== "").sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join("[redacted]");
  }
  return result;
}

/** Replaces control characters so that a message never carries raw line breaks. */
function printable(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, "?");
}
