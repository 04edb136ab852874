/**
 * Picks the OTP sender from the configuration; the SMTP driver is imported
 * lazily.
 *
 * @module
 */

import type { SenderConfig } from "../config/config.ts";
import type { OtpSender } from "./sender.ts";
import { ConsoleOtpSender } from "./console.ts";
import { MemoryOtpSender } from "./memory.ts";

/**
 * The configured sender. `writeLine` receives the console sender's lines.
 */
export async function createOtpSender(config: SenderConfig, writeLine?: (line: string) => void): Promise<OtpSender> {
  switch (config.kind) {
    case "memory":
      return new MemoryOtpSender();
    case "console":
      return new ConsoleOtpSender(writeLine);
    case "smtp": {
      const { SmtpOtpSender } = await import("./smtp.ts");
      return new SmtpOtpSender(config);
    }
  }
}
