/**
 * An in-process SMTP server for tests ("mail catcher"), built on
 * `smtp-server`: it listens on 127.0.0.1 on a free port, accepts mail, parses
 * each message with mailparser and keeps it in memory for the test to read.
 * End-to-end tests point a provider process at it (`BUS_AUTH_SMTP_HOST=127.0.0.1`,
 * `BUS_AUTH_SMTP_PORT=catcher.port`) and read the OTP from the delivered mail
 * with {@link SmtpCatcher.waitForMessage} and {@link extractOtp}.
 *
 * TEST ONLY: the TLS key below is published in this repository. The pair was
 * made with OpenSSL 3 (a throw-away P-256 CA whose key was deleted, and a leaf
 * for CN=localhost with SAN DNS:localhost, IP:127.0.0.1, EKU serverAuth,
 * CA:FALSE, 36 500 days); to replace it, run `openssl req -x509 -newkey ec
 * -pkeyopt ec_paramgen_curve:P-256 …` for the CA, `openssl req -newkey ec …`
 * plus `openssl x509 -req -CA … -extfile …` for the leaf, and paste the PEMs.
 *
 * @module
 */

import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from "smtp-server";

/**
 * TEST-ONLY certificate authority (PEM) that signed {@link TEST_TLS_CERT}; pass
 * it as the client's `ca` so that certificate verification stays on.
 */
export const TEST_TLS_CA = `-----BEGIN CERTIFICATE-----
MIIBpzCCAU2gAwIBAgIUDJvsWtljpR5wL5zX90tqwB+GI/QwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVYnVzLWF1dGggdGVzdC1vbmx5IENBMCAXDTI2MTEyMzIxMDEz
MVoYDzIxMjYxMDMwMjEwMTMxWjAgMR4wHAYDVQQDDBVidXMtYXV0aCB0ZXN0LW9u
bHkgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQgiMxrtroAgQ3Jpi/E+cCX
bqiu885D9j0Q/Av/1aIdatXYjx4t8QlQ3FyLm7KrM45XEcW8rLUsnd5QzD3t38MQ
o2MwYTAdBgNVHQ4EFgQUyrtu8pJS3ChjJMHHHQVRge8xtH8wHwYDVR0jBBgwFoAU
yrtu8pJS3ChjJMHHHQVRge8xtH8wDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E
BAMCAQYwCgYIKoZIzj0EAwIDSAAwRQIhAMNrkvrYdKD5QH+Ze8i8nz6pMxW3Hs1w
/xUQNmdxlUTbAiBJBI+Q3sDyF8tDtBbwpX4aCplUf6/UEAuJjsLSTg/oPQ==
-----END CERTIFICATE-----
`;

/** TEST-ONLY server certificate (PEM) for CN=localhost, SAN DNS:localhost and IP:127.0.0.1, valid until 2126. */
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIByzCCAXGgAwIBAgIUePlXJjzzEoPkfVfDj6uAXHEbMTkwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVYnVzLWF1dGggdGVzdC1vbmx5IENBMCAXDTI2MTEyMzIxMDEz
MVoYDzIxMjYxMDMwMjEwMTMxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAS7qlj1kdiPNZSJdyiededDdFJDucMfHwae89oS
09VdSEYQbTxaldVo9zCbTjh8AnoOGk5XLEI8EyJqeGLq0bbbo4GSMIGPMAwGA1Ud
EwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMBoG
A1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAdBgNVHQ4EFgQUYk9Z7GkZmzCQUz5B
b/fUMc2tcdYwHwYDVR0jBBgwFoAUyrtu8pJS3ChjJMHHHQVRge8xtH8wCgYIKoZI
zj0EAwIDSAAwRQIhAKlnBytr5CZbCzqbp8YK5KVqWXKljV0es0+7y5vMyDlZAiBa
74xW1jJdRtthceKsVEv3FqBLL3SyMQrCFVHE68khOw==
-----END CERTIFICATE-----
`;

/** TEST-ONLY private key (PEM, P-256) of {@link TEST_TLS_CERT}. Publicly known: never use it outside tests. */
export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkHinA2Ua6epGPmMC
a1XDdm5F3WEuuO0OYYfW7QrH1XKhRANCAAS7qlj1kdiPNZSJdyiededDdFJDucMf
Hwae89oS09VdSEYQbTxaldVo9zCbTjh8AnoOGk5XLEI8EyJqeGLq0bbb
-----END PRIVATE KEY-----
`;

/** The test-only key and certificate, ready for {@link SmtpCatcherOptions.tls}. */
export const TEST_TLS: { key: string; cert: string } = { key: TEST_TLS_KEY, cert: TEST_TLS_CERT };

/** Options of {@link startSmtpCatcher}. */
export interface SmtpCatcherOptions {
  /** When set, AUTH (PLAIN or LOGIN) is required and must match; wrong credentials get `535`. */
  auth?: { user: string; pass: string };
  /** Implicit TLS (SMTPS): TLS from the first byte. Needs `tls`. */
  secure?: boolean;
  /**
   * Key and certificate (PEM). Without `secure` the server offers STARTTLS
   * with them; without `tls` STARTTLS is not offered at all.
   */
  tls?: { key: string; cert: string };
  /** Refuse every recipient with `550`. */
  rejectRecipients?: boolean;
}

/** One delivered message. */
export interface CaughtMessage {
  /** Position in {@link SmtpCatcher.messages}, from 0. */
  index: number;
  /** SMTP envelope: `MAIL FROM` and `RCPT TO` addresses. */
  envelope: { from: string; to: string[] };
  /** Authenticated user name, or `null`. */
  user: string | null;
  /** Whether the session was encrypted (implicit TLS or STARTTLS). */
  secure: boolean;
  /** `From` header as text, for example `auth@example.com`. */
  from: string;
  /** `To` header as text. */
  to: string;
  /** `Subject` header. */
  subject: string;
  /** Plain-text part, `""` when missing. */
  text: string;
  /** HTML part, `""` when missing. */
  html: string;
  /** Headers by lower-case name, values unfolded and as sent; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** The raw message as received. */
  raw: string;
}

/** A running catcher; see {@link startSmtpCatcher}. */
export interface SmtpCatcher {
  /** Bound port on 127.0.0.1. */
  readonly port: number;
  /** Every delivered message, oldest first. */
  readonly messages: readonly CaughtMessage[];
  /** Number of TCP connections accepted so far (including refused sessions). */
  readonly connections: number;
  /**
   * Resolves with the first message (at or after `fromIndex`) that matches,
   * waiting for new ones until `timeoutMs`. Pass `catcher.messages.length`
   * as `fromIndex` before triggering a send to wait for a new message only.
   *
   * @throws {Error} when no message matched in time
   */
  waitForMessage(
    predicate: (message: CaughtMessage) => boolean,
    timeoutMs?: number,
    fromIndex?: number,
  ): Promise<CaughtMessage>;
  /** Stops listening and drops open sessions. */
  close(): Promise<void>;
}

interface Waiter {
  predicate: (message: CaughtMessage) => boolean;
  fromIndex: number;
  resolve: (message: CaughtMessage) => void;
}

/**
 * Starts a catcher on 127.0.0.1 with a free port.
 *
 * @example
 * ```ts
 * const catcher = await startSmtpCatcher();
 * // ... send to 127.0.0.1:catcher.port with tls "none" ...
 * const message = await catcher.waitForMessage((m) => m.envelope.to.includes("user@example.com"));
 * extractOtp(message); // "123456"
 * await catcher.close();
 * ```
 */
export async function startSmtpCatcher(options: SmtpCatcherOptions = {}): Promise<SmtpCatcher> {
  if (options.secure && !options.tls) {
    throw new TypeError("Cannot start an implicit TLS catcher without a key and certificate");
  }
  const messages: CaughtMessage[] = [];
  const waiters = new Set<Waiter>();
  let connections = 0;

  function deliver(parsed: Omit<CaughtMessage, "index">): void {
    const message: CaughtMessage = { index: messages.length, ...parsed };
    messages.push(message);
    for (const waiter of waiters) {
      if (message.index >= waiter.fromIndex && waiter.predicate(message)) {
        waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }

  const serverOptions: SMTPServerOptions = {
    logger: false,
    // A fixed name: the default reads os.hostname(), which needs --allow-sys in Deno.
    name: "localhost",
    secure: options.secure ?? false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: options.tls ? [] : ["STARTTLS"],
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    size: 1024 * 1024,
    closeTimeout: 250,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      if (expected && auth.username === expected.user && auth.password === expected.pass) {
        callback(null, { user: auth.username });
        return;
      }
      callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      if (options.rejectRecipients) {
        callback(Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      readMessage(stream, session).then(
        (message) => {
          deliver(message);
          callback();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on("error", () => {
    // Client-side disconnects surface here; tests assert on what the client sees.
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("The SMTP catcher has no TCP address");
  let closed: Promise<void> | null = null;

  return {
    port: address.port,
    messages,
    get connections() {
      return connections;
    },
    waitForMessage(predicate, timeoutMs = 5000, fromIndex = 0) {
      const found = messages.find((message) => message.index >= fromIndex && predicate(message));
      if (found) return Promise.resolve(found);
      return new Promise<CaughtMessage>((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          fromIndex,
          resolve: (message) => {
            clearTimeout(timer);
            resolve(message);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No message matched within ${timeoutMs} ms: the catcher holds ${messages.length}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of server.connections) connection.close();
      });
      return closed;
    },
  };
}

async function readMessage(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
): Promise<Omit<CaughtMessage, "index">> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk as Uint8Array);
  const raw = new TextDecoder().decode(concat(chunks));
  const parsed = await simpleParser(raw);
  const headers: Record<string, string> = {};
  for (const line of parsed.headerLines) {
    headers[line.key.toLowerCase()] = line.line.slice(line.line.indexOf(":") + 1).replace(/\r?\n[ \t]+/g, " ").trim();
  }
  const to = parsed.to === undefined ? "" : [parsed.to].flat().map((address) => address.text).join(", ");
  return {
    envelope: {
      from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
      to: session.envelope.rcptTo.map((recipient) => recipient.address),
    },
    user: typeof session.user === "string" ? session.user : null,
    secure: session.secure,
    from: parsed.from?.text ?? "",
    to,
    subject: parsed.subject ?? "",
    text: parsed.text ?? "",
    html: typeof parsed.html === "string" ? parsed.html : "",
    headers,
    raw,
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

/**
 * The six-digit code in a message's plain-text part.
 *
 * @throws {Error} when the text holds no six-digit number
 */
export function extractOtp(message: Pick<CaughtMessage, "text">): string {
  const match = /(?<![0-9])([0-9]{6})(?![0-9])/.exec(message.text);
  if (!match) throw new Error("Cannot find a six-digit code in the message text");
  return match[1];
}
