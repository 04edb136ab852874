/**
 * The provider process delivering codes by SMTP to a real SMTP server on
 * loopback (in-process catcher), and answering 502 when the server is down.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram, startProvider } from "./helpers/provider_process.ts";
import { callJson } from "./helpers/http.ts";
import { extractOtp, startSmtpCatcher } from "./helpers/smtp_catcher.ts";

const SMTP_PASSWORD = "smtp-password-never-logged";

function post(url: string, body: unknown) {
  return callJson(url, { body });
}

Deno.test({
  name: "the provider sends the OTP by authenticated SMTP; the code from the delivered mail signs the user in",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const catcher = await startSmtpCatcher({ auth: { user: "bus-auth", pass: SMTP_PASSWORD } });
    const dir = await Deno.makeTempDir();
    const passwordFile = join(dir, "smtp-password");
    Deno.writeTextFileSync(passwordFile, `${SMTP_PASSWORD}\n`, { mode: 0o600 });
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: "smtp-e2e-signing-secret-of-32-bytes-min",
      BUS_AUTH_OTP_SENDER: "smtp",
      BUS_AUTH_SMTP_HOST: "127.0.0.1",
      BUS_AUTH_SMTP_PORT: String(catcher.port),
      BUS_AUTH_SMTP_TLS: "none",
      BUS_AUTH_SMTP_FROM: "auth@example.test",
      BUS_AUTH_SMTP_USERNAME: "bus-auth",
      BUS_AUTH_SMTP_PASSWORD_FILE: passwordFile,
    });
    try {
      const api = `${provider.url}/api/v1/auth`;
      await post(`${api}/register`, { email: "user@example.com" });
      const from = catcher.messages.length;
      const requested = await post(`${api}/otp/request`, { email: "user@example.com" });
      assert.equal(requested.status, 200);
      const mail = await catcher.waitForMessage((m) => m.envelope.to.includes("user@example.com"), 10_000, from);
      assert.equal(mail.user, "bus-auth", "the provider authenticated");
      assert.equal(mail.from, "auth@example.test");
      assert.match(mail.text, /10 minutes/);
      assert.ok(!/https?:/.test(mail.text + mail.html), "no link can leak the code");
      const otp = extractOtp(mail);
      assert.ok(!mail.subject.includes(otp));
      const verified = await post(`${api}/otp/verify`, { email: "user@example.com", otp });
      assert.equal(verified.status, 200);
      assert.ok(!provider.stderr.join("\n").includes(SMTP_PASSWORD));
      assert.ok(!provider.stdout.join("\n").includes(otp), "the SMTP sender prints no codes");
    } finally {
      await provider.stop();
      await catcher.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "with the SMTP server down, otp/request answers 502 otp_delivery_failed and leaves no usable code",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // The relay answers the start-up check, then goes away.
    const catcher = await startSmtpCatcher();
    const port = catcher.port;
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: "smtp-e2e-signing-secret-of-32-bytes-min",
      BUS_AUTH_OTP_SENDER: "smtp",
      BUS_AUTH_SMTP_HOST: "127.0.0.1",
      BUS_AUTH_SMTP_PORT: String(port),
      BUS_AUTH_SMTP_TLS: "none",
      BUS_AUTH_SMTP_FROM: "auth@example.test",
    });
    await catcher.close();
    try {
      const api = `${provider.url}/api/v1/auth`;
      await post(`${api}/register`, { email: "user@example.com" });
      const started = performance.now();
      const failed = await post(`${api}/otp/request`, { email: "user@example.com" });
      assert.equal(failed.status, 502);
      assert.equal(failed.body.error, "otp_delivery_failed");
      assert.ok(performance.now() - started < 15_000, "a refused connection fails fast");
      const verify = await post(`${api}/otp/verify`, { email: "user@example.com", otp: "123456" });
      assert.equal(verify.body.error, "otp_not_requested", "the undelivered challenge is gone");
      const retry = await post(`${api}/otp/request`, { email: "user@example.com" });
      assert.equal(retry.body.error, "otp_delivery_failed", "no resend lockout after a failed delivery");
      // Waits for the line (the log is written in batches); times out if it never comes.
      await provider.waitForLog(
        (records) => records.some((record) => record.code === "otp_delivery_failed"),
        "the failure logged with its reason",
      );
    } finally {
      await provider.stop();
    }
  },
});

Deno.test("serve refuses BUS_AUTH_OTP_SENDER=smtp without host and from (exit 2)", async () => {
  const result = await runProgram("bus-api-provider-auth", ["serve"], {
    env: { BUS_AUTH_HS256_SECRET: "smtp-e2e-signing-secret-of-32-bytes-min", BUS_AUTH_OTP_SENDER: "smtp" },
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /BUS_AUTH_SMTP_HOST is required/);
  assert.match(result.stderr, /BUS_AUTH_SMTP_FROM is required/);
});
