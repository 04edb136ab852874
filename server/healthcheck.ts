/**
 * `bus-api-provider-auth healthcheck`: asks a provider's `/healthz` whether
 * it is ready, for container HEALTHCHECKs and host checks on machines without
 * curl. It reads no secret and no configuration besides the listen address.
 *
 * @module
 */

import { DEFAULT_LISTEN, parseListen } from "../lib/config/config.ts";
import { parseIp } from "../lib/ip.ts";
import { networkReason } from "../lib/network_reason.ts";

/** Seconds to wait for the answer when `--timeout` is not given. */
export const DEFAULT_HEALTHCHECK_TIMEOUT_SECONDS = 3;

/** What one probe found: ready, or why not in a few words. */
export type HealthResult = { ok: true } | { ok: false; reason: string };

/**
 * The `/healthz` URL of the provider a configuration would start: the host
 * and port of `BUS_AUTH_LISTEN` (else 127.0.0.1:8080), with the wildcard
 * addresses 0.0.0.0 and :: asked on loopback. `/healthz` is always served at
 * the root, whatever `BUS_AUTH_ROUTE_PREFIX` says.
 *
 * @returns the URL, or `null` when `BUS_AUTH_LISTEN` is malformed
 */
export function defaultHealthUrl(env: Readonly<Record<string, string | undefined>>): string | null {
  const value = env.BUS_AUTH_LISTEN?.trim() || DEFAULT_LISTEN;
  const listen = parseListen(value);
  if (listen === null || listen.port === 0) return null;
  let host = listen.hostname;
  const bytes = parseIp(host);
  if (bytes !== null && bytes.every((byte) => byte === 0)) host = bytes.length === 4 ? "127.0.0.1" : "::1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${listen.port}/healthz`;
}

/**
 * GETs `url` once and says whether it answered 200 with `{"ok":true}`
 * within `timeoutSeconds`.
 */
export async function probeHealth(url: string, timeoutSeconds: number): Promise<HealthResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
      headers: { Accept: "application/json" },
      redirect: "manual",
    });
  } catch (error) {
    return { ok: false, reason: networkReason(error, timeoutSeconds) };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { ok: false, reason: `HTTP ${response.status}, then ${networkReason(error, timeoutSeconds)}` };
  }
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: reported below.
  }
  const fields = typeof body === "object" && body !== null ? body as Record<string, unknown> : null;
  if (response.status === 200 && fields?.ok === true) return { ok: true };
  const code = typeof fields?.error === "string" ? ` ${fields.error.slice(0, 60)}` : "";
  if (response.status !== 200) return { ok: false, reason: `HTTP ${response.status}${code}` };
  return { ok: false, reason: fields === null ? "HTTP 200 but not JSON" : 'HTTP 200 without "ok":true' };
}
