/**
 * The probes, served at the root and under the route prefix like `/healthz`:
 *
 * - `GET /livez`: the process is up and serving; it asks nothing else (a
 *   liveness probe that fails restarts the process, which a store outage
 *   would not cure).
 * - `GET /readyz`: the provider can do its work: the store answers and its
 *   schema is not behind the code's, and, with the SMTP sender, the relay
 *   took a connection within the last minute (a delivery, the start-up
 *   check, or a check this probe runs at most once a minute). 200
 *   `{"ok":true,…}`, else 503 `{"ok":false,"error":"not_ready",…}` naming
 *   what failed; the details go to the log, not to the answer.
 *
 * A schema ahead of the code (a newer replica migrated during a rolling
 * upgrade) counts as ready: migrations add, so older code keeps working,
 * and refusing it would take every old replica out of service at once.
 *
 * @module
 */

import { Hono } from "hono";
import type { RelayWatch } from "../lib/otp/relay_watch.ts";
import type { Store } from "../lib/store/store.ts";
import type { AppEnv } from "./env.ts";
import { singleFlight } from "./single_flight.ts";

/** What the probes need besides the request's context. */
export interface HealthRouteOptions {
  /** The SMTP relay's watch, or `null` when the sender reaches no relay. */
  relay: RelayWatch | null;
  /** The store whose schema `/readyz` reads. */
  store: Store;
}

/** `/readyz` states of each part. */
type StoreState = "ok" | "unavailable";
type SchemaState = "current" | "ahead" | "behind" | "unknown";
type SmtpState = "ok" | "unreachable" | "not_used";

/** The probe routes; mounted at `/` and under the route prefix. */
export function healthRoutes(options: HealthRouteOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  // Concurrent probes share one schema read.
  const readSchema = singleFlight(() => options.store.schemaVersion());

  routes.get("/livez", (c) => c.json({ ok: true }));

  routes.get("/readyz", async (c) => {
    const log = c.get("log");
    const problems: string[] = [];
    const [schemaCheck, relayCheck] = await Promise.allSettled([
      readSchema(),
      options.relay === null ? Promise.resolve(null) : options.relay.status(),
    ]);
    let storeState: StoreState = "ok";
    let schema: SchemaState = "unknown";
    let schemaVersion: number | null = null;
    let schemaLatest: number | null = null;
    if (schemaCheck.status === "rejected") {
      storeState = "unavailable";
      problems.push("the store does not answer");
      log({
        level: "warn",
        msg: "readiness: the store does not answer",
        request_id: c.get("requestId"),
        detail: firstLine(schemaCheck.reason),
      });
    } else {
      ({ current: schemaVersion, latest: schemaLatest } = schemaCheck.value);
      schema = schemaVersion === schemaLatest ? "current" : schemaVersion > schemaLatest ? "ahead" : "behind";
      if (schema === "behind") {
        problems.push(`the store schema is behind the code (version ${schemaVersion} of ${schemaLatest})`);
        log({
          level: "warn",
          msg: "readiness: the store schema is behind the code: run bus-api-provider-auth migrate",
          request_id: c.get("requestId"),
          schema_version: schemaVersion,
          schema_latest: schemaLatest,
        });
      }
    }
    let smtp: SmtpState = "not_used";
    if (relayCheck.status === "fulfilled" && relayCheck.value !== null) {
      smtp = relayCheck.value.ok ? "ok" : "unreachable";
      if (!relayCheck.value.ok) {
        problems.push("the SMTP relay took no connection within the last minute");
        log({
          level: "warn",
          msg: "readiness: the SMTP relay is unreachable",
          request_id: c.get("requestId"),
          detail: relayCheck.value.reason,
        });
      }
    }
    const body = {
      ok: problems.length === 0,
      store: storeState,
      schema,
      schema_version: schemaVersion,
      schema_latest: schemaLatest,
      smtp,
    };
    if (problems.length === 0) return c.json(body);
    return c.json({ ...body, error: "not_ready", message: `Not ready: ${problems.join("; ")}` }, 503);
  });

  return routes;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 300);
}
