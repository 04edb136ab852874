/**
 * The bad values the fuzz requests are made of: emails that are never
 * mailboxes, OTPs that never have the code's shape, JSON values of the wrong
 * type, objects wrong in at least one field per route, query values no
 * parameter accepts, and tokens with hostile claims signed with the real key.
 *
 * @module
 */

import { AUDIENCE, buildClaims } from "../../lib/claims.ts";
import { signToken } from "../../lib/jwt.ts";
import type { Random } from "./fuzz_random.ts";

/** Control characters, DEL included. */
export const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("") + "\u007f";
/** Characters that never belong inside an email, a scope, an id or a subject. */
export const NASTY = [
  "\u0000",
  "\u0001",
  "\n",
  "\r\n",
  "\t",
  "\u007f",
  "\u2028",
  "\ud800",
  "\ufeff",
  "\u202e",
  '"',
  "\\",
];
/** Printable ASCII without "@", so that no random text is a mailbox. */
export const NO_AT = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== "@").join(
  "",
);

/** Percent-encodes any string, lone surrogates included (as U+FFFD). */
export function encode(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}

/** Routes below each auth base that read a JSON body. */
export const BODY_ROUTES = [
  "register",
  "otp/request",
  "otp/verify",
  "token",
  "admin/approve",
  "admin/reject",
  "admin/tokens/revoke",
] as const;
/** A route that reads a JSON body. */
export type BodyRoute = typeof BODY_ROUTES[number] | "internal";

/** An email that is never a valid mailbox. */
export function badEmail(r: Random): string {
  return r.pick([
    () => r.string(r.int(0, 40), NO_AT),
    () => "@example.com",
    () => `a${r.pick(NASTY)}b@example.com`,
    () => `a${r.string(1, CONTROL)}@example.com`,
    () => `${"a".repeat(65)}@example.com`,
    () => `a@${"b".repeat(250)}.com`,
    () => "a@b@example.com",
    () => "a@localhost",
    () => "a@example.123",
    () => "a@",
    () => `a@exa mple.com`,
    () => `"a"@example.com`,
    () => `a@[127.0.0.1]`,
    () => "a@example.com, b@example.com",
    () => "a@example.com\r\nBcc: c@example.com",
  ])();
}

/** An OTP that never has the code's shape. */
export function badOtp(r: Random): string {
  return r.pick([
    "",
    "12345",
    "1234567",
    "abcdef",
    "12 456",
    "١٢٣٤٥٦",
    "12345\u0000",
    "0x1234",
    "123456789012",
    "-12345",
  ]);
}

/** A JSON value of some type, rarely the one a field wants, never a mailbox. */
export function wrongValue(r: Random): unknown {
  return r.pick([
    1,
    -1,
    1.5,
    1e308,
    true,
    false,
    [],
    ["a@example.com"],
    {},
    { email: "a@example.com" },
    "",
    r.string(r.int(1, 20), NO_AT),
    Number.MAX_SAFE_INTEGER + 2,
  ]);
}

/** A JSON object for a body route that is wrong in at least one field. */
export function wrongObject(r: Random, route: BodyRoute, text: () => string): Record<string, unknown> {
  const pick = (good: unknown) => r.chance(0.5) ? wrongValue(r) : good;
  switch (route) {
    case "register":
    case "otp/request":
      return { email: r.chance(0.5) ? wrongValue(r) : text() };
    case "otp/verify":
      return r.chance(0.5) ? { email: pick(text()), otp: r.pick([123456, null, badOtp(r)]) } : { email: text() };
    case "token":
      return {
        // Never a scope the user may have (the empty string is one).
        scope: r.pick([
          1,
          true,
          [],
          {},
          null,
          "admin:manage",
          "waitlist:read",
          `llm:proxy ${text()}`,
          "llm:proxy\u0000",
        ]),
        ttl_seconds: pick(r.int(1, 86400)),
      };
    case "admin/approve":
    case "admin/reject":
      return r.chance(0.7)
        ? { email: pick(text()), reason: pick(text()) }
        : { email: `ghost${r.int(0, 1e6)}@example.com`, reason: r.pick([wrongValue(r), "a\nb", "x".repeat(501)]) };
    case "admin/tokens/revoke":
      return { jti: r.pick([wrongValue(r), text(), `${r.uuid()}\u0000`, `{${r.uuid()}}`]) };
    case "internal":
      return {
        subject: r.pick(["has space", text(), "x".repeat(129), "svc"]),
        audience: r.pick([AUDIENCE.auth, text(), "evil.example"]),
        scope: r.pick(["usage:read", 7, "bad\u0000scope"]),
        ttl_seconds: r.pick(["60", -1, 0, 1.5, true, null]),
      };
  }
}

/** A query value that no parameter accepts. */
export function badQueryValue(r: Random): string {
  return r.pick([
    () => encode(r.string(r.int(0, 30))),
    () => "%ZZ",
    () => "%",
    () => "%00",
    () => "%C3%28",
    () => "%E0%80%80",
    () => encode(r.string(r.int(3, 12), CONTROL)),
    () => "x".repeat(r.int(200, 20000)),
    () => "-1",
    () => "1e3",
    () => "0x10",
    () => "%D9%A3",
    () => "9".repeat(30),
  ])();
}

/**
 * Tokens signed with the real key whose claims are hostile (control
 * characters, NULs, odd types and sizes in `sub`, `jti`, `sid`, `scope`):
 * only a holder of the key can make them, but the provider must still
 * answer them without failing.
 */
export async function forgeHostileTokens(
  r: Random,
  f: { issuer: string; signingKey: Uint8Array },
  now: number,
): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < 24; i++) {
    const claims: Record<string, unknown> = {
      ...buildClaims({
        issuer: f.issuer,
        subject: "x",
        audience: r.pick(Object.values(AUDIENCE)),
        scope: "",
        ttlSeconds: 600,
        now,
        jti: r.uuid(),
      }),
    };
    const field = r.pick(["sub", "jti", "sid", "scope"]);
    claims[field] = r.pick([
      `a${r.pick(NASTY)}b`,
      "\u0000",
      r.string(r.int(200, 5000)),
      "",
      r.uuid().toUpperCase(),
      `${r.uuid()}\u0000`,
      r.string(36, CONTROL),
    ]);
    if (r.chance(0.3)) claims.scope = r.pick(["admin:manage", "waitlist:read admin:manage", "\u0000"]);
    tokens.push(await signToken(claims as never, f.signingKey));
  }
  return tokens;
}
