/**
 * With the SQLite file store, users, approvals and revocations survive a
 * restart of the provider process.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startProvider } from "./helpers/provider_process.ts";
import { callJson } from "./helpers/http.ts";

const KEY = "restart-internal-key-0123456789";

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return callJson(url, { body, headers });
}

function get(url: string, token: string) {
  return callJson(url, { token });
}

Deno.test({
  name: "with BUS_AUTH_STORE_PATH, users, approvals and revocations survive a provider restart",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-auth-restart-" });
    const env = {
      BUS_AUTH_HS256_SECRET: "restart-signing-secret-of-32-bytes-min",
      BUS_AUTH_INTERNAL_SHARED_KEY: KEY,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_STORE_PATH: join(dir, "state", "auth.sqlite"),
    };
    const signIn = async (url: string, email: string, otpOf: (email: string) => Promise<string>) => {
      await post(`${url}/api/v1/auth/otp/request`, { email });
      const verified = await post(`${url}/api/v1/auth/otp/verify`, { email, otp: await otpOf(email) });
      return verified.body.access_token as string;
    };
    try {
      const first = await startProvider({ ...env, BUS_AUTH_OTP_RESEND_SECONDS: "0" });
      let kept: string, ended: string, accountId: string, rejectedId: string;
      try {
        await post(`${first.url}/api/v1/auth/register`, { email: "keep@example.com" });
        await post(`${first.url}/api/v1/auth/register`, { email: "gone@example.com" });
        kept = await signIn(first.url, "keep@example.com", first.waitForOtp);
        ended = await signIn(first.url, "keep@example.com", first.waitForOtp);
        await signIn(first.url, "gone@example.com", first.waitForOtp);
        const admin =
          (await post(`${first.url}/api/internal/auth/token`, { scope: "admin:manage" }, { "X-Bus-Internal-Key": KEY }))
            .body.access_token;
        const auth = { Authorization: `Bearer ${admin}` };
        accountId =
          (await post(`${first.url}/api/v1/auth/admin/approve`, { email: "keep@example.com" }, auth)).body.account_id;
        rejectedId =
          (await post(`${first.url}/api/v1/auth/admin/reject`, { email: "gone@example.com", reason: "test" }, auth))
            .body.user_id;
        const logout = await fetch(`${first.url}/api/v1/auth/logout`, {
          method: "POST",
          headers: { Authorization: `Bearer ${ended}` },
        });
        assert.equal(logout.status, 204);
        await logout.body?.cancel();
      } finally {
        assert.equal(await first.stop(), 0);
      }
      // The checkpoint worker started under the provider's own permissions: no warning that it did not.
      assert.deepEqual(first.stderr.filter((line) => line.includes("checkpoint")), []);

      const second = await startProvider(env);
      try {
        const status = await get(`${second.url}/api/v1/auth/status`, kept);
        assert.equal(status.status, 200, "a session from before the restart still works");
        assert.equal(status.body.status, "approved");
        assert.equal(status.body.account_id, accountId, "the approval and its account id survived");
        const revoked = await get(`${second.url}/api/v1/auth/status`, ended);
        assert.equal(revoked.status, 401);
        assert.equal(revoked.body.error, "token_revoked", "the logout survived");
        const admin = (await post(`${second.url}/api/internal/auth/token`, { scope: "waitlist:read" }, {
          "X-Bus-Internal-Key": KEY,
        }))
          .body.access_token;
        const rejected = await get(`${second.url}/api/v1/auth/admin/waitlist?status=rejected`, admin);
        assert.deepEqual(rejected.body.users.map((u: { user_id: string }) => u.user_id), [rejectedId]);
        const again = await post(`${second.url}/api/v1/auth/register`, { email: "KEEP@example.com" });
        assert.equal(again.body.status, "approved", "registering again finds the same user");
      } finally {
        assert.equal(await second.stop(), 0);
      }
      assert.equal((await Deno.stat(env.BUS_AUTH_STORE_PATH)).mode! & 0o777, 0o600);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
