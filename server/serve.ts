/**
 * `bus-api-provider-auth serve`: opens the store and sender of a validated
 * configuration, serves the app until SIGINT/SIGTERM (or an abort signal)
 * through `serveGuarded` (stalled connections closed, accept failures
 * survived), and sweeps expired rows periodically (one sweep at a time; a
 * stop waits for the sweep in flight before the store closes). With
 * `BUS_AUTH_METRICS_LISTEN` it counts requests and serves `/metrics` on a
 * listener of its own.
 *
 * @module
 */

import { type Config, maskDsn } from "../lib/config/config.ts";
import { tokenKeysOf } from "../lib/config/signing.ts";
import { createAuthContext } from "../lib/service/context.ts";
import type { OtpSender } from "../lib/otp/sender.ts";
import { RelayWatch } from "../lib/otp/relay_watch.ts";
import type { Store } from "../lib/store/store.ts";
import { createOtpSender } from "../lib/otp/factory.ts";
import { describeStore, openStore } from "../lib/store/factory.ts";
import { VERSION } from "../lib/version.ts";
import { createApp } from "./app.ts";
import type { Logger } from "./env.ts";
import { serveGuarded } from "./guarded_server.ts";
import { ProviderMetrics } from "./metrics.ts";
import { serveMetrics } from "./metrics_server.ts";
import { schedulePurge } from "./purge_schedule.ts";
import { observedSender } from "./observed_sender.ts";

/** How often expired challenges, revocations and windows are deleted. */
const PURGE_INTERVAL_MS = 5 * 60 * 1000;

/** Where `serve` writes and what stops it. */
export interface ServeIo {
  /** Structured log (stderr). */
  log: Logger;
  /** Lines of the console OTP sender (stdout). */
  writeOtpLine: (line: string) => void;
  /** Stops the server when aborted (tests); SIGINT and SIGTERM always do. */
  signal?: AbortSignal;
  /** When the start-up check reached the SMTP relay (epoch ms): `/readyz` counts it as a connection. */
  smtpCheckedAt?: number;
}

/**
 * Runs the provider until it is stopped.
 *
 * @returns the exit code: 0 after a clean stop, 1 when it cannot start
 */
export async function serve(config: Config, io: ServeIo): Promise<number> {
  const { log } = io;
  for (const warning of config.warnings) log({ level: "warn", msg: warning });
  if (config.devDefaults.length > 0) {
    log({
      level: "warn",
      msg: "development defaults in use: not secret, never use them outside `deno task dev`",
      variables: config.devDefaults.join(" "),
    });
  }
  const keys = tokenKeysOf(config.signingKey, config.signing, config.cacheEntries);
  try {
    await keys.ready();
  } catch (error) {
    log({ level: "error", msg: "cannot import the signing keys", detail: errorText(error) });
    return 1;
  }
  let store: Store;
  let sender: OtpSender;
  try {
    store = await openStore(config.store, {
      cacheEntries: config.cacheEntries,
      checkpointInWorker: true,
      onCheckpointsInline: (detail) =>
        log({ level: "warn", msg: "SQLite checkpoints run on the event loop: the checkpoint worker stopped", detail }),
      onMemoryAuditFull: (limit) =>
        log({
          level: "warn",
          msg:
            `memory store: the audit trail keeps its newest ${limit} records and now drops the oldest; use SQLite or PostgreSQL for a lasting trail`,
        }),
      onRevocationList: (state, limit) =>
        state === "over_bound"
          ? log({
            level: "warn",
            msg:
              `cache: more than ${limit} token ids are revoked, more than it holds in memory; checks ask the database for each id until expired revocations are purged`,
          })
          : log({ level: "info", msg: `cache: the revocation list is held in memory again (at most ${limit} ids)` }),
      onCacheState: (state, detail) =>
        state === "listening" ? log({ level: "info", msg: "cache: listening for changes of other replicas" }) : log({
          level: "warn",
          msg: "cache: change feed lost, every check asks the database until it listens again",
          detail: detail ?? null,
        }),
    });
  } catch (error) {
    const hint = error instanceof Deno.errors.NotCapable && config.store.kind === "sqlite"
      ? "; the compiled provider writes only below /var/lib/bus-auth: keep BUS_AUTH_STORE_PATH there, or use PostgreSQL"
      : "";
    log({ level: "error", msg: "cannot open the store", detail: `${errorText(error)}${hint}` });
    return 1;
  }
  try {
    sender = await createOtpSender(config.sender, io.writeOtpLine);
  } catch (error) {
    await store.close();
    log({ level: "error", msg: "cannot create the OTP sender", detail: errorText(error) });
    return 1;
  }
  const metrics = config.metricsListen === null
    ? null
    : new ProviderMetrics({ routePrefix: config.routePrefix, store });
  const smtp = sender;
  const relay = smtp.verify === undefined ? null : new RelayWatch(() => smtp.verify!(), { okAt: io.smtpCheckedAt });
  sender = observedSender(sender, { metrics, relay });
  const ctx = createAuthContext({
    store,
    sender,
    policy: config.policy,
    signingKey: config.signingKey,
    keys,
    internalKey: config.internalKey,
    // Once per lock, when the wrong guess that spends an email's daily budget is recorded.
    onSecurityEvent: (event) =>
      log({ level: "warn", msg: "otp locked: too many wrong codes for one email", email: event.email }),
  });
  const app = createApp({
    ctx,
    metrics,
    relay,
    routePrefix: config.routePrefix,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutSeconds: config.bodyTimeoutSeconds,
    trustedProxies: config.trustedProxies,
    publicUrl: config.publicUrl,
    log,
  });
  const stop = new AbortController();
  io.signal?.addEventListener("abort", () => stop.abort());
  const onSignal = () => stop.abort();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);
  const sweeps = schedulePurge((before) => store.purgeExpired(before), {
    intervalMs: PURGE_INTERVAL_MS,
    onError: (error) => log({ level: "warn", msg: "purge failed", detail: errorText(error) }),
  });
  let metricsServer: Deno.HttpServer | null = null;
  try {
    if (metrics !== null && config.metricsListen !== null) {
      const { hostname, port } = config.metricsListen;
      try {
        metricsServer = serveMetrics({ hostname, port, metrics, log, signal: stop.signal });
      } catch (error) {
        log({ level: "error", msg: `cannot listen on ${hostname}:${port} for metrics`, detail: errorText(error) });
        return 1;
      }
    }
    const server = serveGuarded({
      hostname: config.listen.hostname,
      port: config.listen.port,
      headerTimeoutSeconds: config.headerTimeoutSeconds,
      signal: stop.signal,
      log,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        log({
          level: "info",
          msg: "listening",
          url: `http://${host}:${port}`,
          version: VERSION,
          store: describeStore(config.store, maskDsn),
          otp_sender: sender.kind,
          route_prefix: config.routePrefix,
          signing: keys.kid === null ? keys.alg : `${keys.alg} kid ${keys.kid}`,
        });
      },
    }, (request, env) => app.fetch(request, env));
    await server.finished;
    await metricsServer?.finished;
    log({ level: "info", msg: "stopped" });
    return 0;
  } catch (error) {
    log({
      level: "error",
      msg: `cannot listen on ${config.listen.hostname}:${config.listen.port}`,
      detail: errorText(error),
    });
    return 1;
  } finally {
    stop.abort();
    await metricsServer?.finished;
    await sweeps.stop();
    for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(signal, onSignal);
    await Promise.allSettled([store.close(), sender.close()]);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
