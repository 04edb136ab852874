/**
 * Tokens from a provider process, as Bus APIs receive them: internal tokens
 * from the internal endpoint, and user API tokens through the whole flow
 * (OTP from the console sender, approval, `POST {A}/token`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { callJson } from "./http.ts";
import type { ProviderProcess } from "./provider_process.ts";

/** Mints a token at `/api/internal/auth/token` with the shared key and returns it. */
export async function mintInternal(
  provider: ProviderProcess,
  internalKey: string,
  body: { subject?: string; audience?: string; scope?: string; ttl_seconds?: number },
): Promise<string> {
  const reply = await callJson(`${provider.url}/api/internal/auth/token`, {
    headers: { "X-Bus-Internal-Key": internalKey },
    body,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.access_token;
}

/**
 * Signs `email` in with the code from the provider's stdout, has an admin
 * token minted with `internalKey` approve it, and returns a user API token
 * for `scope` with the account id.
 */
export async function userApiToken(
  provider: ProviderProcess,
  internalKey: string,
  options: { email: string; scope: string },
): Promise<{ token: string; accountId: string }> {
  const api = `${provider.url}/api/v1/auth`;
  const { email } = options;
  assert.equal((await callJson(`${api}/otp/request`, { body: { email } })).status, 200);
  const verified = await callJson(`${api}/otp/verify`, { body: { email, otp: await provider.waitForOtp(email) } });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  const admin = await mintInternal(provider, internalKey, { subject: "admin-user", scope: "waitlist:approve" });
  const approved = await callJson(`${api}/admin/approve`, { token: admin, body: { email } });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const issued = await callJson(`${api}/token`, {
    token: verified.body.access_token,
    body: { scope: options.scope, ttl_seconds: 600 },
  });
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  return { token: issued.body.access_token, accountId: approved.body.account_id };
}
