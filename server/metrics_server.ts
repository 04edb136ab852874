/**
 * The metrics listener (`BUS_AUTH_METRICS_LISTEN`): `GET /metrics` in the
 * Prometheus text format and a JSON 404 for anything else, on an address of
 * its own, so that the public listener never serves metrics. It is meant
 * for a scraper on loopback or a private network; it reads no request body
 * and holds no secret.
 *
 * @module
 */

import type { Logger } from "./env.ts";
import type { ProviderMetrics } from "./metrics.ts";

/** The Content-Type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Options of {@link serveMetrics}. */
export interface MetricsServerOptions {
  hostname: string;
  port: number;
  metrics: ProviderMetrics;
  log: Logger;
  /** Stops the listener. */
  signal: AbortSignal;
}

/**
 * Listens and serves `/metrics` until `signal` aborts; logs
 * `{"msg":"metrics listening","url":…}` first.
 *
 * @throws when the address cannot be listened on
 */
export function serveMetrics(options: MetricsServerOptions): Deno.HttpServer<Deno.NetAddr> {
  const { metrics, log } = options;
  return Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: options.signal,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      log({ level: "info", msg: "metrics listening", url: `http://${host}:${port}/metrics` });
    },
    onError: () => Response.json({ error: "internal_error", message: "The metrics failed" }, { status: 500 }),
  }, (request) => metricsResponse(request, metrics));
}

/** The answer of the metrics listener to one request. */
export function metricsResponse(request: Request, metrics: ProviderMetrics): Response {
  const { pathname } = new URL(request.url);
  const headers = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" };
  if (pathname !== "/metrics") {
    return Response.json({ error: "not_found", message: "This listener serves /metrics only" }, {
      status: 404,
      headers,
    });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return Response.json({ error: "method_not_allowed", message: "Use GET /metrics" }, {
      status: 405,
      headers: { ...headers, Allow: "GET, HEAD" },
    });
  }
  return new Response(request.method === "HEAD" ? null : metrics.render(), {
    headers: { ...headers, "Content-Type": METRICS_CONTENT_TYPE },
  });
}
