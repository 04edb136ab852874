/**
 * The provider as a real process over real HTTP: the whole user flow of the
 * README, with the OTP read from the console sender's stdout.
 */

import assert from "node:assert/strict";
import { startProvider } from "./helpers/provider_process.ts";
import { callJson } from "./helpers/http.ts";

const SECRET = "e2e-signing-secret-of-at-least-32-bytes";
const INTERNAL_KEY = "e2e-internal-key-0123456789";

function call(
  method: string,
  url: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
) {
  return callJson(url, { method, ...options });
}

Deno.test({
  name: "the provider process serves the whole flow: register, OTP, verify, approve, token, check, me, refresh, logout",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_ROUTE_PREFIX: "/local-dev/v1",
      BUS_AUTH_API_USER_SCOPES: "llm:proxy billing:read",
    });
    const api = `${provider.url}/local-dev/v1/api/v1/auth`;
    const email = "user@example.com";
    let session = "";
    try {
      await t.step("healthz under the prefix", async () => {
        const health = await call("GET", `${provider.url}/local-dev/v1/healthz`);
        assert.equal(health.status, 200);
        assert.equal(health.body.ok, true);
      });
      await t.step("register and request an OTP", async () => {
        assert.equal((await call("POST", `${api}/register`, { body: { email } })).body.status, "waitlisted");
        const requested = await call("POST", `${api}/otp/request`, { body: { email } });
        assert.deepEqual(requested.body, { status: "sent", expires_in: 600 });
      });
      await t.step("verify the code read from stdout", async () => {
        const otp = await provider.waitForOtp(email);
        const verified = await call("POST", `${api}/otp/verify`, { body: { email, otp } });
        assert.equal(verified.status, 200);
        session = verified.body.access_token;
        assert.equal((await call("GET", `${api}/status`, { token: session })).body.status, "waitlisted");
      });
      await t.step("an operator approves with a token minted through the internal endpoint", async () => {
        const minted = await call("POST", `${provider.url}/local-dev/v1/api/internal/auth/token`, {
          headers: { "X-Bus-Internal-Key": INTERNAL_KEY },
          body: { subject: "admin-user", scope: "waitlist:read waitlist:approve admin:manage" },
        });
        assert.equal(minted.status, 200);
        const admin = minted.body.access_token;
        const waitlist = await call("GET", `${api}/admin/waitlist`, { token: admin });
        assert.deepEqual(waitlist.body.users.map((u: { email: string }) => u.email), [email]);
        const approved = await call("POST", `${provider.url}/local-dev/v1/modules/auth/admin/approve`, {
          token: admin,
          body: { email },
        });
        assert.equal(approved.body.status, "approved");
      });
      await t.step("the approved user gets an llm:proxy API token that /check accepts", async () => {
        const issued = await call("POST", `${api}/token`, {
          token: session,
          body: { scope: "llm:proxy", ttl_seconds: 3600 },
        });
        assert.equal(issued.status, 200);
        assert.equal(issued.body.audience, "ai.hg.fi/api");
        const checked = await call("GET", `${api}/check?audience=ai.hg.fi/api&scope=llm:proxy`, {
          token: issued.body.access_token,
        });
        assert.equal(checked.status, 200);
        const me = await call("GET", `${provider.url}/me`, { token: session });
        assert.equal(me.body.account_id, checked.body.sub);
      });
      await t.step("refresh rotates and logout ends the session", async () => {
        const refreshed = await call("POST", `${api}/token/refresh`, { token: session });
        assert.equal(refreshed.status, 200);
        assert.equal((await call("GET", `${api}/me`, { token: session })).status, 401);
        const logout = await call("POST", `${api}/logout`, { token: refreshed.body.access_token });
        assert.equal(logout.status, 204);
        assert.equal((await call("GET", `${api}/status`, { token: refreshed.body.access_token })).status, 401);
      });
      await t.step("the request log is JSON lines without tokens or codes", async () => {
        const requestsOf = (records: Record<string, unknown>[]) => records.filter((record) => record.msg === "request");
        const requests = requestsOf(
          await provider.waitForLog((records) => requestsOf(records).length >= 12, "12 request lines"),
        );
        for (const record of requests) {
          assert.deepEqual(
            ["client_ip", "duration_ms", "level", "method", "msg", "path", "request_id", "status", "time"],
            Object.keys(record).sort(),
          );
        }
        const log = provider.stderr.join("\n");
        assert.ok(!log.includes(session) && !log.includes(INTERNAL_KEY) && !log.includes(SECRET));
        assert.ok(!/otp=|"otp"/.test(log));
      });
    } finally {
      assert.equal(await provider.stop(), 0, "SIGTERM stops the provider cleanly");
    }
  },
});
