/**
 * The README's one-line read of the OTP from MailHog, run as written (bash,
 * curl, jq, grep) against a stand-in of MailHog's API v2 that holds mails
 * built by the provider's own SMTP message code and nodemailer, the way the
 * local compose stack delivers them.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { buildOtpMail } from "../lib/otp/smtp_message.ts";
import { ROOT } from "./helpers/deploy_files.ts";

/** The MIME body of the mail the SMTP sender sends for `code`, as MailHog stores it (`Content.Body`). */
async function mailBody(to: string, code: string): Promise<string> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const mail = buildOtpMail({ from: "auth@example.test", to, code, expiresInSeconds: 600 });
  const info = await transport.sendMail({ ...mail });
  const raw = new TextDecoder().decode(info.message as Uint8Array);
  return raw.slice(raw.indexOf("\r\n\r\n") + 4);
}

Deno.test("README: the one-line curl reads the newest OTP for an address from MailHog's API", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const line = readme.split("\n").find((text) => text.startsWith("OTP=$(curl -fsS 'http://127.0.0.1:8025/api/v2/"));
  assert.ok(line, "the README has the MailHog line");
  const items = [
    { to: "user@example.com", code: "111111", created: "2026-06-17T10:00:00.123456789Z" },
    { to: "user@example.com", code: "042917", created: "2026-06-17T10:01:05.5Z" },
    { to: "other@example.com", code: "999999", created: "2026-06-17T10:02:00Z" },
  ];
  const messages = await Promise.all(items.map(async (item, index) => ({
    ID: `${index}@mailhog.example`,
    From: { Relays: null, Mailbox: "auth", Domain: "example.test", Params: "" },
    To: [{ Relays: null, Mailbox: item.to.split("@")[0], Domain: item.to.split("@")[1], Params: "" }],
    Content: { Headers: { Subject: ["Your Bus sign-in code"] }, Body: await mailBody(item.to, item.code), Size: 0 },
    Created: item.created,
  })));
  const queries: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    queries.push(`${url.pathname}?${url.searchParams}`);
    const to = url.searchParams.get("query");
    const found = messages.filter((message) =>
      url.searchParams.get("kind") === "to" && message.To.some((box) => `${box.Mailbox}@${box.Domain}` === to)
    );
    // MailHog lists oldest first; the line must not depend on the order.
    return Response.json({ total: found.length, count: found.length, start: 0, items: found });
  });
  try {
    const script = `${
      line.replace("http://127.0.0.1:8025", `http://127.0.0.1:${server.addr.port}`)
    }\nprintf '%s' "$OTP"`;
    const result = await new Deno.Command("bash", {
      args: ["-euo", "pipefail", "-c", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    assert.equal(new TextDecoder().decode(result.stdout), "042917");
    assert.deepEqual(queries, ["/api/v2/search?kind=to&query=user%40example.com"]);
  } finally {
    await server.shutdown();
  }
});
