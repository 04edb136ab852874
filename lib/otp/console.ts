/**
 * OTP sender for local development: writes one line per code to stdout,
 * `BUS_AUTH_OTP email=<email> otp=<code>`, for a developer or a test to read.
 *
 * @module
 */

import type { OtpMessage, OtpSender } from "./sender.ts";

/** An {@link OtpSender} that prints codes; never use it where stdout is shared. */
export class ConsoleOtpSender implements OtpSender {
  readonly kind = "console";
  #writeLine: (line: string) => void;

  /** @param writeLine receives one line without its newline; defaults to stdout */
  constructor(writeLine: (line: string) => void = (line) => console.log(line)) {
    this.#writeLine = writeLine;
  }

  send(message: OtpMessage): Promise<void> {
    this.#writeLine(`BUS_AUTH_OTP email=${message.email} otp=${message.code}`);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
