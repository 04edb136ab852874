/**
 * OTP sender that keeps messages in process memory, for tests.
 *
 * @module
 */

import type { OtpMessage, OtpSender } from "./sender.ts";

/** An {@link OtpSender} that records every message; `fail` makes the next sends throw. */
export class MemoryOtpSender implements OtpSender {
  readonly kind = "memory";
  /** Every message sent, oldest first. */
  readonly messages: OtpMessage[] = [];
  /** When set, `send` throws this error instead of recording. */
  fail: Error | null = null;

  send(message: OtpMessage): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    this.messages.push({ ...message });
    return Promise.resolve();
  }

  /** The newest code sent to an email, or `undefined`. */
  latestCode(email: string): string | undefined {
    return this.messages.findLast((message) => message.email === email)?.code;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
