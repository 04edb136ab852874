/**
 * The `OtpSender` interface: how a code reaches the mailbox. Backends live in
 * `lib/otp/` (memory, console, SMTP).
 *
 * @module
 */

/** One code to deliver. */
export interface OtpMessage {
  /** Normalised recipient address (already validated). */
  email: string;
  /** The six-digit code. */
  code: string;
  /** Lifetime of the code in seconds, for the message text. */
  expiresInSeconds: number;
}

/** Delivers OTP codes. */
export interface OtpSender {
  /** Backend name: `memory`, `console` or `smtp`. */
  readonly kind: string;
  /**
   * Hands one code to the delivery channel.
   * @throws {import("../errors.ts").DeliveryError} `otp_delivery_failed` when it cannot
   */
  send(message: OtpMessage): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
  /**
   * Checks that the delivery channel takes a connection, sending nothing
   * (SMTP: connect, EHLO, STARTTLS, AUTH); absent when there is nothing to
   * reach (memory, console).
   * @throws {import("../errors.ts").DeliveryError} `smtp_unreachable` with the reason
   */
  verify?(): Promise<void>;
}
