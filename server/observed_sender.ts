/**
 * An OTP sender that reports its deliveries: each code handed over or not
 * to the metrics, and each delivery that went through to the relay watch
 * (a relay that just took a mail needs no readiness check).
 *
 * @module
 */

import type { RelayWatch } from "../lib/otp/relay_watch.ts";
import type { OtpMessage, OtpSender } from "../lib/otp/sender.ts";
import type { ProviderMetrics } from "./metrics.ts";

/** Who hears about deliveries; either may be absent. */
export interface SenderObservers {
  metrics?: ProviderMetrics | null;
  relay?: RelayWatch | null;
}

/**
 * Wraps `sender`; without observers it is returned as it is.
 *
 * @example
 * ```ts
 * const sender = observedSender(await createOtpSender(config.sender), { metrics, relay });
 * ```
 */
export function observedSender(sender: OtpSender, observers: SenderObservers): OtpSender {
  const metrics = observers.metrics ?? null;
  const relay = observers.relay ?? null;
  if (metrics === null && relay === null) return sender;
  return {
    kind: sender.kind,
    async send(message: OtpMessage): Promise<void> {
      try {
        await sender.send(message);
      } catch (error) {
        if (metrics !== null) metrics.otpFailed++;
        throw error;
      }
      if (metrics !== null) metrics.otpSent++;
      relay?.succeeded();
    },
    close: () => sender.close(),
    ...(sender.verify === undefined ? {} : { verify: () => sender.verify!() }),
  };
}
