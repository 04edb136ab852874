/**
 * Test support for HTTP tests: an app on memory parts with a controllable
 * clock, a captured log, and shortcuts for the common flows. Not used by
 * production code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AUDIENCE, buildClaims, type TokenClaims } from "../../lib/claims.ts";
import { signToken } from "../../lib/jwt.ts";
import { type AuthPolicy, defaultPolicy } from "../../lib/policy.ts";
import { createAuthContext, type SecurityEvent } from "../../lib/service/context.ts";
import type { Store } from "../../lib/store/store.ts";
import type { Cidr } from "../../lib/ip.ts";
import type { TokenKeys } from "../../lib/keys/token_keys.ts";
import { MemoryOtpSender } from "../../lib/otp/memory.ts";
import type { RelayWatch } from "../../lib/otp/relay_watch.ts";
import { MemoryStore } from "../../lib/store/memory.ts";
import { createApp } from "../../server/app.ts";
import { ProviderMetrics } from "../../server/metrics.ts";
import { observedSender } from "../../server/observed_sender.ts";
import type { LogRecord } from "../../server/env.ts";

/** Signing key of every harness. */
export const TEST_SIGNING_KEY = new TextEncoder().encode("test-signing-key-of-at-least-32-bytes!!");
/** Internal shared key of every harness (unless turned off). */
export const TEST_INTERNAL_KEY = "test-internal-key-0123456789";
/** Peer address of requests unless a test gives another. */
export const TEST_CLIENT_IP = "192.0.2.10";

/** Options of {@link createHarness}. */
export interface HarnessOptions {
  policy?: Partial<AuthPolicy>;
  routePrefix?: string | null;
  internalKey?: string | null;
  /** Count for the Prometheus metrics (`harness.metrics`). */
  metrics?: boolean;
  /** The SMTP relay's watch for `/readyz`. */
  relay?: RelayWatch;
  maxBodyBytes?: number;
  trustedProxies?: readonly Cidr[];
  store?: Store;
  /** Token keys; HS256 with {@link TEST_SIGNING_KEY} when omitted. */
  keys?: TokenKeys;
  /** `BUS_AUTH_PUBLIC_URL`. */
  publicUrl?: string | null;
}

/** A decoded response. */
export interface Reply {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
}

/** Options of one request. */
export interface CallOptions {
  /** JSON-encoded unless a string. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  ip?: string;
}

/** Builds the app on memory parts; `clock.now` starts at the real time. */
export function createHarness(options: HarnessOptions = {}) {
  const store = options.store ?? new MemoryStore();
  const sender = new MemoryOtpSender();
  const clock = { now: Date.now() };
  const logs: LogRecord[] = [];
  const events: SecurityEvent[] = [];
  const policy = defaultPolicy(options.policy);
  const metrics = options.metrics ? new ProviderMetrics({ routePrefix: options.routePrefix, store }) : null;
  const ctx = createAuthContext({
    store,
    sender: observedSender(sender, { metrics }),
    policy,
    signingKey: TEST_SIGNING_KEY,
    keys: options.keys,
    internalKey: options.internalKey === null
      ? null
      : new TextEncoder().encode(options.internalKey ?? TEST_INTERNAL_KEY),
    now: () => clock.now,
    onSecurityEvent: (event) => events.push(event),
  });
  const app = createApp({
    ctx,
    metrics,
    relay: options.relay,
    routePrefix: options.routePrefix,
    maxBodyBytes: options.maxBodyBytes,
    trustedProxies: options.trustedProxies,
    publicUrl: options.publicUrl,
    log: (record) => logs.push(record),
  });

  async function call(method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["Content-Type"] ??= "application/json";
      // As a client sends it (a Request made here has none); the fast lane takes only declared bodies.
      headers["Content-Length"] ??= String(new TextEncoder().encode(body).length);
    }
    const response = await app.request(path, { method, headers, body }, {
      remoteAddr: { hostname: opts.ip ?? TEST_CLIENT_IP },
    });
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** Registers, requests and verifies a code; returns the session token and user id. */
  async function signIn(email: string, ip?: string): Promise<{ token: string; userId: string }> {
    await call("POST", "/api/v1/auth/register", { body: { email }, ip });
    clock.now += policy.otpResendSeconds * 1000;
    const requested = await call("POST", "/api/v1/auth/otp/request", { body: { email }, ip });
    assert.equal(requested.status, 200, requested.text);
    const otp = sender.latestCode(email.toLowerCase());
    const verified = await call("POST", "/api/v1/auth/otp/verify", { body: { email, otp }, ip });
    assert.equal(verified.status, 200, verified.text);
    return { token: verified.body.access_token, userId: verified.body.user_id };
  }

  /** Signs a token with the harness's signing key; defaults to an auth-audience admin token. */
  async function mintToken(overrides: Partial<TokenClaims> & { ttlSeconds?: number } = {}): Promise<string> {
    const claims = buildClaims({
      issuer: policy.issuer,
      subject: "test-operator",
      audience: AUDIENCE.auth,
      scope: "waitlist:read waitlist:approve",
      ttlSeconds: overrides.ttlSeconds ?? 600,
      now: clock.now,
    });
    const { ttlSeconds: _ttl, ...claimOverrides } = overrides;
    return await signToken({ ...claims, ...claimOverrides }, ctx.keys);
  }

  /** Signs in and approves a user; returns the session token and account id. */
  async function approvedUser(email: string): Promise<{ token: string; userId: string; accountId: string }> {
    const session = await signIn(email);
    const approved = await call("POST", "/api/v1/auth/admin/approve", {
      body: { email },
      token: await mintToken({ scope: "waitlist:approve" }),
    });
    assert.equal(approved.status, 200, approved.text);
    return { ...session, accountId: approved.body.account_id };
  }

  return { app, ctx, store, sender, clock, logs, events, policy, metrics, call, signIn, mintToken, approvedUser };
}

/** Decodes the claims of a JWT without verifying it (test assertions only). */
export function decodeClaims(token: string): TokenClaims {
  const payload = token.split(".")[1];
  return JSON.parse(
    new TextDecoder().decode(
      Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    ),
  );
}

/** Asserts a JSON error reply with the given status and code. */
export function assertError(reply: Reply, status: number, code: string): void {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.body?.error, code, reply.text);
  assert.equal(typeof reply.body?.message, "string");
  assert.ok(!/\bat .*\.ts:\d+/.test(reply.text), "no stack trace in the body");
}
