import assert from "node:assert/strict";
import { Random } from "../tests/helpers/fuzz_random.ts";
import { AuthenticationError } from "./errors.ts";
import {
  HS256_HEADER_SEGMENT,
  MAX_TOKEN_LENGTH,
  type StrictVerifyOptions,
  verifyHs256Strictly,
  verifyStrictlyWithNbf,
} from "./jwt_rules.ts";
import { HmacSha256 } from "./keys/hmac_sha256.ts";

const SECRET = new TextEncoder().encode("differential-test-secret-of-32-bytes!");
const hmac = new HmacSha256(SECRET);
const mac = (input: string) => hmac.signBase64url(input);
const NOW = 1_800_000_000_000;
const SECOND = NOW / 1000;
const OPTIONS: StrictVerifyOptions = {
  algorithms: ["HS256"],
  issuer: "bus-api-provider-auth",
  audiences: ["ai.hg.fi/api", "ai.hg.fi/auth"],
  now: NOW,
};
const JTI = "6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f";
const VALID = {
  iss: "bus-api-provider-auth",
  sub: "acct_1",
  aud: "ai.hg.fi/api",
  scope: "llm:proxy",
  iat: SECOND - 10,
  exp: SECOND + 600,
  jti: JTI,
};

const b64 = (bytes: Uint8Array) => bytes.toBase64({ alphabet: "base64url", omitPadding: true });
const text64 = (text: string) => b64(new TextEncoder().encode(text));

/** A token of this header segment and payload text, signed with the secret (or as given). */
function token(payload: string | Uint8Array, header = HS256_HEADER_SEGMENT, signature?: string): string {
  const input = `${header}.${typeof payload === "string" ? text64(payload) : b64(payload)}`;
  return `${input}.${signature ?? mac(input)}`;
}

/** What a path answers: the claims and nbf, or the error's code and message. */
async function outcome(verify: () => unknown): Promise<unknown> {
  try {
    return { ok: await verify() };
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    return { code: error.code, message: error.message };
  }
}

/**
 * The general path (jose, WebCrypto) and the HS256 path answer `candidate`
 * alike; the HS256 path must answer it itself unless `mayPass` (a changed
 * header, which it leaves to the general path, as `lib/jwt.ts` does).
 */
async function assertSameOutcome(
  candidate: string,
  options: StrictVerifyOptions = OPTIONS,
  mayPass = false,
): Promise<{ ok?: unknown; passed: boolean }> {
  const general = await outcome(() => verifyStrictlyWithNbf(candidate, SECRET, options));
  let passed = false;
  const fast = await outcome(() => {
    const answer = verifyHs256Strictly(candidate, mac, options);
    passed = answer === undefined;
    return answer ?? verifyStrictlyWithNbf(candidate, SECRET, options);
  });
  const context = `token ${candidate.slice(0, 200)} with ${JSON.stringify(options)}`;
  assert.deepEqual(fast, general, context);
  if (!mayPass) assert.equal(passed, false, `the HS256 path passed on ${context}`);
  return { ...general as { ok?: unknown }, passed };
}

const claimCases: Record<string, unknown>[] = [
  VALID,
  { ...VALID, sid: "0e4f8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b" },
  { ...VALID, client_id: "0e4f8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b" },
  { ...VALID, nbf: SECOND - 5 },
  { ...VALID, nbf: SECOND },
  { ...VALID, nbf: SECOND + 1 },
  { ...VALID, nbf: "soon" },
  { ...VALID, nbf: null },
  { ...VALID, exp: SECOND },
  { ...VALID, exp: SECOND + 1 },
  { ...VALID, exp: SECOND - 3 },
  { ...VALID, exp: "later" },
  { ...VALID, exp: null },
  { ...VALID, iat: SECOND + 60 },
  { ...VALID, iat: SECOND + 61 },
  { ...VALID, iat: "now" },
  { ...VALID, iat: null },
  { ...VALID, iss: "someone-else" },
  { ...VALID, iss: null },
  { ...VALID, iss: ["bus-api-provider-auth"] },
  { ...VALID, aud: "ai.hg.fi/other" },
  { ...VALID, aud: ["ai.hg.fi/api"] },
  { ...VALID, aud: ["ai.hg.fi/other", "ai.hg.fi/auth"] },
  { ...VALID, aud: ["ai.hg.fi/other"] },
  { ...VALID, aud: 7 },
  { ...VALID, aud: null },
  { ...VALID, sub: "not a valid subject!" },
  { ...VALID, sub: 12 },
  { ...VALID, jti: "not-a-uuid" },
  { ...VALID, jti: 5 },
  { ...VALID, scope: 5 },
  { ...VALID, sid: "no" },
  { ...VALID, client_id: 3 },
  { ...VALID, iss: "someone-else", aud: "ai.hg.fi/other", exp: SECOND - 1 },
  { ...VALID, aud: "ai.hg.fi/other", exp: SECOND - 1 },
  { ...VALID, exp: SECOND - 1, nbf: SECOND + 10 },
  { ...VALID, iat: "x", exp: SECOND - 1 },
  { ...VALID, ["__proto__"]: { polluted: true } },
  {},
];
for (const claim of ["iss", "sub", "aud", "iat", "exp", "jti", "scope"]) {
  const missing: Record<string, unknown> = { ...VALID };
  delete missing[claim];
  claimCases.push(missing);
  claimCases.push({ ...missing, exp: SECOND - 1 });
}

Deno.test("verifyHs256Strictly answers every claim set as jose and WebCrypto do, with and without clock tolerance", async () => {
  let accepted = 0;
  for (const claims of claimCases) {
    const candidate = token(JSON.stringify(claims));
    for (
      const options of [OPTIONS, { ...OPTIONS, clockToleranceSeconds: 5 }, { ...OPTIONS, audiences: ["ai.hg.fi/auth"] }]
    ) {
      if ((await assertSameOutcome(candidate, options)).ok !== undefined) accepted++;
    }
  }
  assert.ok(accepted >= 10, `only ${accepted} accepted: the cases must include valid tokens`);
});

Deno.test("verifyHs256Strictly answers broken payloads, signatures and spellings as jose and WebCrypto do", async () => {
  const valid = token(JSON.stringify(VALID));
  const [header, payload, signature] = valid.split(".");
  const cases = [
    valid,
    token("[1,2]"),
    token("null"),
    token('"text"'),
    token("42"),
    token("{not json"),
    token(""),
    token(`\uFEFF${JSON.stringify(VALID)}`),
    token(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
    // Invalid UTF-8 inside a string of otherwise valid claims: an error, not a replacement character.
    token(
      new Uint8Array([
        ...new TextEncoder().encode(JSON.stringify({ ...VALID, scope: "x" })).slice(0, -3),
        0xff,
        0x22,
        0x7d,
      ]),
    ),
    token(`{"iss":"bus-api-provider-auth","iss":"other"}`),
    `${header}.${payload}.${signature.slice(0, -1)}`,
    `${header}.${payload}.${signature.slice(0, -1)}${signature.at(-1) === "A" ? "B" : "A"}`,
    `${header}.${payload}.${signature}A`,
    `${header}.${payload}.${b64(new Uint8Array(32))}`,
    `${header}.${payload}.${"A".repeat(42)}B`, // sets unused bits: not canonical
    `${header}.${payload}x.${signature}`,
    `${header}.${payload.slice(0, -1)}.${signature}`,
    `${header}.${payload}.${signature}=`,
    `${header}.${payload}`,
    `${header}.${payload}.${signature}.x`,
    ` ${valid}`,
    `${header}..${signature}`,
    token(`{"x":"${"a".repeat(MAX_TOKEN_LENGTH)}"}`),
    token(JSON.stringify(VALID), header, mac(`${header}.${text64("{}")}`)),
  ];
  // A payload whose last character sets unused bits, signed as it stands.
  const loose = `${payload.slice(0, -1)}${payload.at(-1) === "z" ? "y" : "z"}`;
  cases.push(`${header}.${loose}.${mac(`${header}.${loose}`)}`);
  for (const candidate of cases) await assertSameOutcome(candidate);
});

Deno.test("verifyHs256Strictly leaves every other header, and HS256 when it is not allowed, to the general path", () => {
  const payload = text64(JSON.stringify(VALID));
  for (
    const header of [
      { alg: "HS256", typ: "JWT", kid: "k1" },
      { typ: "JWT", alg: "HS256" },
      { alg: "HS256" },
      { alg: "HS384", typ: "JWT" },
      { alg: "none", typ: "JWT" },
      { alg: "EdDSA", typ: "JWT" },
    ]
  ) {
    const segment = text64(JSON.stringify(header));
    const input = `${segment}.${payload}`;
    assert.equal(verifyHs256Strictly(`${input}.${mac(input)}`, mac, OPTIONS), undefined, JSON.stringify(header));
  }
  assert.equal(
    verifyHs256Strictly(token(JSON.stringify(VALID)), mac, { ...OPTIONS, algorithms: ["EdDSA"] }),
    undefined,
  );
  assert.equal(text64('{"alg":"HS256","typ":"JWT"}'), HS256_HEADER_SEGMENT);
});

Deno.test("verifyHs256Strictly agrees with jose and WebCrypto on 3,000 random mutations of a token", async () => {
  const random = new Random(20261203);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
  const json = JSON.stringify(VALID);
  let accepted = 0;
  let passed = 0;
  for (let i = 0; i < 3000; i++) {
    let candidate: string;
    if (random.below(2) === 0) {
      // Mutate the claims text, then sign it: the claim checks.
      const chars = [...json];
      for (let edits = 1 + random.below(3); edits > 0; edits--) {
        chars[random.below(chars.length)] = String.fromCharCode(32 + random.below(95));
      }
      candidate = token(chars.join(""));
    } else {
      // Mutate the token itself: spelling and signature.
      const chars = [...token(json)];
      for (let edits = 1 + random.below(2); edits > 0; edits--) {
        chars[random.below(chars.length)] = alphabet[random.below(alphabet.length)];
      }
      candidate = chars.join("");
    }
    const result = await assertSameOutcome(candidate, OPTIONS, true);
    if (result.ok !== undefined) accepted++;
    if (result.passed) passed++;
  }
  assert.ok(accepted > 0, "some mutations keep a valid token (a changed digit of exp or iat)");
  assert.ok(passed < 600, `the HS256 path passed ${passed} of 3,000 to the general path: only changed headers may be`);
});
