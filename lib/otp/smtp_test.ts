import assert from "node:assert/strict";
import { DeliveryError } from "../errors.ts";
import {
  extractOtp,
  type SmtpCatcher,
  type SmtpCatcherOptions,
  startSmtpCatcher,
  TEST_TLS,
  TEST_TLS_CA,
} from "../../tests/helpers/smtp_catcher.ts";
import { SmtpOtpSender, type SmtpOtpSenderOptions, type SmtpSenderConfig, smtpTlsMode } from "./smtp.ts";
import { isPlainMailbox } from "../email.ts";
import { buildOtpMail, describeLifetime, escapeHtml, OTP_MAIL_SUBJECT } from "./smtp_message.ts";

// Sockets of nodemailer and smtp-server close a moment after the promise settles.
const net = { sanitizeResources: false, sanitizeOps: false };
const FROM = "auth@example.com";
const TO = "user@example.com";
const CODE = "482913";
const PASSWORD = "s3cret-Pa55word!";
const FAST: SmtpOtpSenderOptions = { connectionTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 4000 };

function smtpConfig(port: number, overrides: Partial<SmtpSenderConfig> = {}): SmtpSenderConfig {
  return {
    kind: "smtp",
    host: "127.0.0.1",
    port,
    tls: "none",
    from: FROM,
    username: null,
    password: null,
    ...overrides,
  };
}

/** Runs `body` with a catcher and a sender pointed at it, closing both afterwards. */
async function withCatcher(
  catcherOptions: SmtpCatcherOptions,
  config: Partial<SmtpSenderConfig>,
  body: (catcher: SmtpCatcher, sender: SmtpOtpSender) => Promise<void>,
  senderOptions: SmtpOtpSenderOptions = { ...FAST, ca: TEST_TLS_CA },
): Promise<void> {
  const catcher = await startSmtpCatcher(catcherOptions);
  const sender = new SmtpOtpSender(smtpConfig(catcher.port, config), senderOptions);
  try {
    await body(catcher, sender);
  } finally {
    await sender.close();
    await catcher.close();
  }
}

/** Every way an error may end up in a log or a response: text, inspection, JSON, stack, whole cause chain. */
function renderings(error: unknown): string {
  const parts: string[] = [Deno.inspect(error, { depth: 10, showHidden: true })];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    parts.push(String(current), JSON.stringify(current) ?? "", Deno.inspect(current, { depth: 10 }));
    if (!(current instanceof Error)) break;
    parts.push(current.message, current.stack ?? "");
    current = current.cause;
  }
  return parts.join("\n");
}

async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => assert.fail("expected the send to fail"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof DeliveryError, `expected a DeliveryError, got ${String(error)}`);
  assert.equal(error.code, "otp_delivery_failed");
  assert.ok(!error.message.includes(CODE), "the code must not appear in the message");
  return error;
}

function send(sender: SmtpOtpSender, email = TO): Promise<void> {
  return sender.send({ email, code: CODE, expiresInSeconds: 600 });
}

/** A free loopback port with nothing listening on it. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * A scripted SMTP server speaking plain text: `reply` gets each command line
 * (and `DATA` content as one string) and returns the reply lines.
 */
function startScriptedServer(reply: (line: string) => string): { port: number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      serve(conn).catch(() => {}).finally(() => {
        connections.delete(conn);
        closeQuietly(conn);
      });
    }
  })().catch(() => {});
  async function serve(conn: Deno.Conn): Promise<void> {
    const encoder = new TextEncoder();
    const write = (text: string) => conn.write(encoder.encode(`${text}\r\n`));
    await write("220 scripted ESMTP");
    let buffer = "";
    let inData = false;
    for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      while (true) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) break;
          const data = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          await write(reply(`DATA-CONTENT ${data}`));
          continue;
        }
        const newline = buffer.indexOf("\r\n");
        if (newline < 0) break;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        if (line.toUpperCase() === "DATA") inData = true;
        if (line.toUpperCase() === "QUIT") {
          await write("221 bye");
          return;
        }
        await write(reply(line));
      }
    }
  }
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => {
      listener.close();
      for (const conn of connections) closeQuietly(conn);
    },
  };
}

/** Closes a resource that the peer or another path may have closed already. */
function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}

Deno.test("smtpTlsMode maps each BUS_AUTH_SMTP_TLS value to nodemailer flags", () => {
  const implicit = { secure: true, requireTLS: false, ignoreTLS: false };
  const required = { secure: false, requireTLS: true, ignoreTLS: false };
  const opportunistic = { secure: false, requireTLS: false, ignoreTLS: false };
  assert.deepEqual(smtpTlsMode("implicit", 2525, false), implicit);
  assert.deepEqual(smtpTlsMode("starttls", 25, false), required);
  assert.deepEqual(smtpTlsMode("none", 1025, true), { secure: false, requireTLS: false, ignoreTLS: true });
  assert.deepEqual(smtpTlsMode("auto", 465, false), implicit);
  assert.deepEqual(smtpTlsMode("auto", 587, false), required);
  assert.deepEqual(smtpTlsMode("auto", 25, false), opportunistic);
  assert.deepEqual(smtpTlsMode("auto", 2525, true), required, "credentials never travel over a strippable link");
});

Deno.test("buildOtpMail writes the code and its lifetime in both parts, no link, and keeps the code out of the subject", () => {
  const mail = buildOtpMail({ from: FROM, to: TO, code: CODE, expiresInSeconds: 600 });
  assert.equal(mail.from, FROM);
  assert.equal(mail.to, TO);
  assert.equal(mail.subject, OTP_MAIL_SUBJECT);
  assert.ok(!mail.subject.includes(CODE));
  for (const body of [mail.text, mail.html]) {
    assert.ok(body.includes(CODE));
    assert.ok(body.includes("It expires in 10 minutes"));
    assert.match(body, /you can ignore this email/);
    assert.doesNotMatch(body, /https?:|www\.|href=|src=/i);
  }
  assert.deepEqual(mail.headers, { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" });
});

Deno.test("buildOtpMail escapes every interpolated value in the HTML part", () => {
  const code = `<img src=x onerror="alert('x')">&amp;`;
  const mail = buildOtpMail({ from: FROM, to: TO, code, expiresInSeconds: 600 });
  assert.ok(!mail.html.includes("<img"));
  assert.ok(mail.html.includes("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;amp;"));
  assert.ok(mail.text.includes(code), "the text part is not HTML");
  assert.equal(escapeHtml(`<>&"'`), "&lt;&gt;&amp;&quot;&#39;");
});

Deno.test("describeLifetime rounds down to whole minutes and says seconds under a minute", () => {
  assert.equal(describeLifetime(600), "10 minutes");
  assert.equal(describeLifetime(60), "1 minute");
  assert.equal(describeLifetime(119), "1 minute");
  assert.equal(describeLifetime(45), "45 seconds");
  assert.equal(describeLifetime(1), "1 second");
});

Deno.test("isPlainMailbox accepts plain mailboxes and refuses anything that could add a header or a recipient", () => {
  for (const good of [TO, "o'brien@example.com", "first.last+tag@sub.example.co.uk", "x@xn--bcher-kva.example"]) {
    assert.ok(isPlainMailbox(good), good);
  }
  for (
    const bad of [
      "victim@example.com\r\nBcc: evil@example.com",
      "victim@example.com\nBcc: evil@example.com",
      "a@example.com, b@example.com",
      "a@example.com;b@example.com",
      "<a@example.com>",
      "Name <a@example.com>",
      '"a b"@example.com',
      "a b@example.com",
      "a@example.com\u0000",
      "a@@example.com",
      "a@localhost",
      "a@127.0.0.1",
      "a@[127.0.0.1]",
      ".a@example.com",
      "a..b@example.com",
      "",
      `${"a".repeat(65)}@example.com`,
    ]
  ) {
    assert.ok(!isPlainMailbox(bad), JSON.stringify(bad));
  }
  assert.throws(
    () => buildOtpMail({ from: FROM, to: "a@example.com, b@example.com", code: CODE, expiresInSeconds: 600 }),
    (error: unknown) => error instanceof RangeError && !error.message.includes(CODE),
  );
});

Deno.test("SmtpOtpSender delivers over plain SMTP with the code in both parts and the headers set", net, async () => {
  await withCatcher({}, { tls: "none" }, async (catcher, sender) => {
    assert.equal(sender.kind, "smtp");
    await send(sender);
    const message = await catcher.waitForMessage((caught) => caught.envelope.to.includes(TO), 5000);
    assert.deepEqual(message.envelope, { from: FROM, to: [TO] });
    assert.equal(message.from, FROM);
    assert.equal(message.to, TO);
    assert.equal(message.subject, OTP_MAIL_SUBJECT);
    assert.ok(!message.subject.includes(CODE));
    assert.equal(message.secure, false);
    assert.equal(message.user, null);
    for (const body of [message.text, message.html]) {
      assert.ok(body.includes(CODE));
      assert.ok(body.includes("10 minutes"));
      assert.ok(!body.toLowerCase().includes("http"));
    }
    assert.equal(message.headers["auto-submitted"], "auto-generated");
    assert.equal(message.headers["x-auto-response-suppress"], "All");
    assert.equal(extractOtp(message), CODE);
  });
});

Deno.test("SmtpOtpSender authenticates when a username is configured", net, async () => {
  const auth = { user: "mailer", pass: PASSWORD };
  await withCatcher({ auth }, { username: "mailer", password: PASSWORD }, async (catcher, sender) => {
    await send(sender);
    const message = await catcher.waitForMessage(() => true, 5000);
    assert.equal(message.user, "mailer");
    assert.equal(extractOtp(message), CODE);
  });
});

Deno.test("SmtpOtpSender reports refused credentials without the password anywhere", net, async () => {
  const auth = { user: "mailer", pass: "the-right-one" };
  await withCatcher({ auth }, { username: "mailer", password: PASSWORD }, async (catcher, sender) => {
    const error = await rejection(send(sender));
    assert.match(error.message, /^Cannot deliver the OTP to "user@example\.com": .*authentication failed/);
    assert.ok(error.cause instanceof Error, "the sanitised cause is kept for the log");
    const text = renderings(error);
    assert.ok(text.includes("535"), "the reply code helps the operator");
    assert.ok(!text.includes(PASSWORD));
    assert.ok(!text.includes(btoa(PASSWORD)));
    assert.equal(catcher.messages.length, 0);
  });
});

Deno.test("SmtpOtpSender redacts the password and the code even when the server echoes them", net, async () => {
  const server = startScriptedServer((line) => {
    if (/^EHLO/i.test(line)) return "250-scripted\r\n250 AUTH PLAIN LOGIN";
    if (/^AUTH PLAIN /i.test(line)) {
      const token = line.slice("AUTH PLAIN ".length);
      const pass = atob(token).split("\u0000")[2];
      return `535 5.7.8 Rejected ${token} for password ${pass}`;
    }
    return "250 ok";
  });
  const sender = new SmtpOtpSender(
    smtpConfig(server.port, { tls: "none", username: "mailer", password: PASSWORD }),
    FAST,
  );
  try {
    const error = await rejection(send(sender));
    const text = renderings(error);
    assert.ok(text.includes("[redacted]"));
    assert.ok(!text.includes(PASSWORD));
    assert.ok(!text.includes(btoa(`\u0000mailer\u0000${PASSWORD}`)));
  } finally {
    await sender.close();
    server.close();
  }

  const echoing = startScriptedServer((line) => {
    if (/^EHLO/i.test(line)) return "250 scripted";
    if (/^DATA$/i.test(line)) return "354 go on";
    if (line.startsWith("DATA-CONTENT ")) {
      const withCode = line.split("\r\n").find((bodyLine) => bodyLine.includes(CODE)) ?? "";
      return `554 5.7.1 Content rejected: ${withCode}`;
    }
    return "250 ok";
  });
  const plain = new SmtpOtpSender(smtpConfig(echoing.port, { tls: "none" }), FAST);
  try {
    const error = await rejection(send(plain));
    assert.match(error.message, /message refused/);
    const text = renderings(error);
    assert.ok(text.includes("554") && text.includes("[redacted]"));
    assert.ok(!text.includes(CODE));
  } finally {
    await plain.close();
    echoing.close();
  }
});

Deno.test(
  "SmtpOtpSender with tls starttls upgrades and verifies the certificate against the injected CA",
  net,
  async () => {
    await withCatcher({ tls: TEST_TLS }, { tls: "starttls" }, async (catcher, sender) => {
      await send(sender);
      const message = await catcher.waitForMessage(() => true, 5000);
      assert.equal(message.secure, true);
      assert.equal(extractOtp(message), CODE);
    });
  },
);

Deno.test("SmtpOtpSender with tls starttls fails against a server without STARTTLS", net, async () => {
  await withCatcher({}, { tls: "starttls" }, async (catcher, sender) => {
    const error = await rejection(send(sender));
    assert.match(error.message, /TLS failed/);
    assert.equal(catcher.messages.length, 0);
  });
});

Deno.test("SmtpOtpSender refuses a certificate it cannot verify", net, async () => {
  await withCatcher({ tls: TEST_TLS }, { tls: "starttls" }, async (catcher, sender) => {
    const error = await rejection(send(sender));
    assert.match(error.message, /TLS failed/);
    assert.equal(catcher.messages.length, 0);
  }, FAST);
});

Deno.test("SmtpOtpSender with tls implicit speaks TLS from the first byte", net, async () => {
  await withCatcher({ secure: true, tls: TEST_TLS }, { tls: "implicit" }, async (catcher, sender) => {
    await send(sender);
    const message = await catcher.waitForMessage(() => true, 5000);
    assert.equal(message.secure, true);
    assert.equal(extractOtp(message), CODE);
  });
});

Deno.test("SmtpOtpSender with tls auto upgrades when a server on another port offers STARTTLS", net, async () => {
  await withCatcher({ tls: TEST_TLS }, { tls: "auto" }, async (catcher, sender) => {
    await send(sender);
    assert.equal((await catcher.waitForMessage(() => true, 5000)).secure, true);
  });
});

Deno.test("SmtpOtpSender fails with otp_delivery_failed when nothing listens", net, async () => {
  const sender = new SmtpOtpSender(smtpConfig(closedPort()), FAST);
  try {
    const error = await rejection(send(sender));
    assert.match(error.message, /connection failed/);
  } finally {
    await sender.close();
  }
});

Deno.test("SmtpOtpSender gives up on a server that never greets", net, async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  const sender = new SmtpOtpSender(smtpConfig((listener.addr as Deno.NetAddr).port), {
    ...FAST,
    greetingTimeoutMs: 300,
  });
  try {
    const error = await rejection(send(sender));
    assert.match(error.message, /timed out/);
  } finally {
    await sender.close();
    listener.close();
    for (const conn of held) closeQuietly(conn);
    await accepting;
  }
});

Deno.test("SmtpOtpSender reports a refused recipient", net, async () => {
  await withCatcher({ rejectRecipients: true }, {}, async (catcher, sender) => {
    const error = await rejection(send(sender));
    assert.match(error.message, /^Cannot deliver the OTP to "user@example\.com": .*recipient refused/);
    assert.equal(catcher.messages.length, 0);
  });
});

Deno.test("SmtpOtpSender refuses header injection before opening any connection", net, async () => {
  await withCatcher({}, {}, async (catcher, sender) => {
    for (
      const email of [
        "victim@example.com\r\nBcc: evil@example.com",
        "a@example.com, b@example.com",
        "a@example.com>\r\nX-Evil: 1",
        '"a"@example.com',
      ]
    ) {
      const error = await rejection(send(sender, email));
      assert.match(error.message, /not a plain mailbox/);
      assert.doesNotMatch(error.message, /[\r\n]/);
    }
    assert.equal(catcher.connections, 0);
    assert.equal(catcher.messages.length, 0);
  });
});

Deno.test("SmtpOtpSender refuses to send after close", net, async () => {
  await withCatcher({}, {}, async (catcher, sender) => {
    await sender.close();
    const error = await rejection(send(sender));
    assert.match(error.message, /closed/);
    assert.equal(catcher.connections, 0);
  });
});

Deno.test("SmtpCatcher.waitForMessage waits for a later message and times out with a clear error", net, async () => {
  await withCatcher({}, {}, async (catcher, sender) => {
    const waiting = catcher.waitForMessage((message) => message.envelope.to.includes("late@example.com"), 5000);
    await send(sender);
    await sender.send({ email: "late@example.com", code: "111222", expiresInSeconds: 60 });
    const message = await waiting;
    assert.equal(extractOtp(message), "111222");
    assert.equal(message.index, 1);
    assert.ok(message.text.includes("1 minute"));
    await assert.rejects(
      catcher.waitForMessage(() => true, 50, catcher.messages.length),
      /No message matched within 50 ms/,
    );
  });
});

/** Asserts that `verify` fails with `smtp_unreachable` and returns the message. */
async function unreachable(sender: SmtpOtpSender, timeoutMs?: number): Promise<string> {
  const error = await sender.verify(timeoutMs).then(() => assert.fail("expected verify to fail"), (error) => error);
  assert.ok(error instanceof DeliveryError, `expected a DeliveryError, got ${String(error)}`);
  assert.equal(error.code, "smtp_unreachable");
  assert.ok(!renderings(error).includes(PASSWORD), "the password must not appear");
  return error.message;
}

Deno.test("SmtpOtpSender.verify connects, greets and authenticates without sending mail", net, async () => {
  await withCatcher(
    { auth: { user: "bus-auth", pass: PASSWORD } },
    { username: "bus-auth", password: PASSWORD },
    async (
      catcher,
      sender,
    ) => {
      await sender.verify();
      assert.equal(catcher.connections, 1);
      assert.equal(catcher.messages.length, 0);
    },
  );
});

Deno.test("SmtpOtpSender.verify names the relay and the reason, without the password", net, async () => {
  const port = closedPort();
  const closed = new SmtpOtpSender(smtpConfig(port), FAST);
  try {
    assert.equal(
      await unreachable(closed),
      `Cannot reach the SMTP relay "127.0.0.1:${port}" within 5 s: the mail server refused the connection (connection failed)`,
    );
  } finally {
    await closed.close();
  }
  await withCatcher({ auth: { user: "bus-auth", pass: "other" } }, { username: "bus-auth", password: PASSWORD }, async (
    _catcher,
    sender,
  ) => {
    assert.match(await unreachable(sender), /refused the credentials \(authentication failed\)$/);
  });
});

Deno.test("SmtpOtpSender.verify gives up within its bound on a relay that never greets", net, async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  const sender = new SmtpOtpSender(smtpConfig((listener.addr as Deno.NetAddr).port));
  try {
    const started = performance.now();
    assert.match(await unreachable(sender, 400), /within 1 s: the mail server did not answer in time \(timed out\)$/);
    assert.ok(performance.now() - started < 2000, "bounded by the timeout");
  } finally {
    await sender.close();
    listener.close();
    for (const conn of held) closeQuietly(conn);
    await accepting;
  }
});
