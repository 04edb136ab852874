import assert from "node:assert/strict";
import { AUTH_BASES } from "./app.ts";
import { assertError, createHarness, decodeClaims } from "../tests/helpers/app_testing.ts";

Deno.test("POST /register creates a waitlisted user under every base and the route prefix", async () => {
  const h = createHarness({ routePrefix: "/local-dev/v1" });
  const seen = new Set<string>();
  for (const prefix of ["", "/local-dev/v1"]) {
    for (const base of AUTH_BASES) {
      const reply = await h.call("POST", `${prefix}${base}/register`, { body: { email: "User@Example.COM" } });
      assert.equal(reply.status, 200, `${prefix}${base}`);
      assert.deepEqual(Object.keys(reply.body).sort(), ["email", "status", "user_id", "verified"]);
      assert.equal(reply.body.email, "user@example.com");
      assert.equal(reply.body.status, "waitlisted");
      assert.equal(reply.body.verified, false);
      seen.add(reply.body.user_id);
    }
  }
  assert.equal(seen.size, 1, "one user per mailbox, whatever the case and route");
});

Deno.test("POST /register refuses bad input with 400 and stores nothing", async (t) => {
  const h = createHarness();
  const cases: [string, unknown, string][] = [
    ["malformed JSON", "{bad", "invalid_json"],
    ["empty body", "", "invalid_json"],
    ["array body", "[]", "invalid_request"],
    ["missing email", {}, "invalid_request"],
    ["number email", { email: 42 }, "invalid_request"],
    ["not an address", { email: "not-an-email" }, "invalid_email"],
    ["header injection", { email: "a@example.com\r\nBcc: x@example.com" }, "invalid_email"],
    ["two addresses", { email: "a@example.com, b@example.com" }, "invalid_email"],
    ["no domain dot", { email: "root@localhost" }, "invalid_email"],
    ["too long", { email: `${"a".repeat(65)}@example.com` }, "invalid_email"],
  ];
  for (const [name, body, code] of cases) {
    await t.step(name, async () => {
      assertError(await h.call("POST", "/api/v1/auth/register", { body }), 400, code);
    });
  }
  assert.deepEqual(await h.store.listUsers({ status: null, limit: 10, after: null }), []);
});

Deno.test("POST /otp/request sends a 6-digit code and never returns it", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } });
  const reply = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "A@example.com" } });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body, { status: "sent", expires_in: 600 });
  const code = h.sender.latestCode("a@example.com")!;
  assert.match(code, /^[0-9]{6}$/);
  assert.ok(!reply.text.includes(code));
  assert.equal(h.sender.messages[0].expiresInSeconds, 600);
});

Deno.test("POST /otp/request registers an email that never registered, as register does, and sends the code", async () => {
  const h = createHarness();
  const reply = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "New.User@Example.COM" } });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(reply.body, { status: "sent", expires_in: 600 });
  const user = await h.store.findUserByEmail("new.user@example.com");
  assert.equal(user?.status, "waitlisted");
  assert.equal(user?.verified, false);
  const code = h.sender.latestCode("new.user@example.com")!;
  assert.match(code, /^[0-9]{6}$/);
  const verified = await h.call("POST", "/api/v1/auth/otp/verify", {
    body: { email: "new.user@example.com", otp: code },
  });
  assert.equal(verified.status, 200, verified.text);
  assert.equal(verified.body.user_id, user?.userId);
  assert.equal(verified.body.status, "waitlisted");
  const registered = await h.call("POST", "/api/v1/auth/register", { body: { email: "new.user@example.com" } });
  assert.equal(registered.body.user_id, user?.userId, "register later finds the same user");
});

Deno.test("POST /otp/request answers a new and a known email alike, so it reveals neither", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "known@example.com" } });
  const known = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "known@example.com" } });
  const unknown = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "ghost@example.com" } });
  assert.equal(known.status, 200);
  assert.equal(unknown.text, known.text);
  assert.equal(h.sender.messages.length, 2);
});

Deno.test("POST /otp/request refuses a malformed email with 400, registers nothing and sends nothing", async () => {
  const h = createHarness();
  for (const email of ["not-an-email", "a@example.com\r\nBcc: x@example.com", "root@localhost"]) {
    assertError(await h.call("POST", "/api/v1/auth/otp/request", { body: { email } }), 400, "invalid_email");
  }
  assertError(await h.call("POST", "/api/v1/auth/otp/request", { body: {} }), 400, "invalid_request");
  assert.deepEqual(await h.store.listUsers({ status: null, limit: 10, after: null }), []);
  assert.equal(h.sender.messages.length, 0);
});

Deno.test("POST /otp/request for a new email counts against the per-IP limit like register, and a refused one registers nothing", async () => {
  const h = createHarness({ policy: { rateLimitPerIp: 2, rateLimitWindowSeconds: 300 } });
  h.clock.now = Math.floor(h.clock.now / 300_000) * 300_000 + 100_000;
  assert.equal((await h.call("POST", "/api/v1/auth/register", { body: { email: "u0@example.com" } })).status, 200);
  assert.equal((await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "u1@example.com" } })).status, 200);
  const limited = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "u2@example.com" } });
  assertError(limited, 429, "rate_limited");
  assert.equal(limited.headers.get("Retry-After"), "200");
  assert.equal(await h.store.findUserByEmail("u2@example.com"), null);
  assert.equal(h.sender.messages.length, 1);
});

Deno.test("POST /otp/request answers 429 with Retry-After inside the resend interval, and keeps the first code", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } });
  await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } });
  const first = h.sender.latestCode("a@example.com");
  h.clock.now += 15_000;
  const again = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } });
  assertError(again, 429, "otp_resend_too_soon");
  assert.equal(again.headers.get("Retry-After"), "45");
  assert.equal(h.sender.messages.length, 1);
  const verified = await h.call("POST", "/api/v1/auth/otp/verify", { body: { email: "a@example.com", otp: first } });
  assert.equal(verified.status, 200);
  h.clock.now += 45_000;
  assert.equal((await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } })).status, 200);
});

Deno.test("POST /otp/request answers 502 when delivery fails and leaves no usable code", async () => {
  const h = createHarness();
  await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } });
  let attempted = "";
  const realSend = h.sender.send.bind(h.sender);
  h.sender.send = (message) => {
    attempted = message.code;
    return Promise.reject(new Error("relay down"));
  };
  const reply = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } });
  assertError(reply, 502, "otp_delivery_failed");
  assert.ok(!reply.text.includes("relay down"), "the sender's detail stays in the log");
  const verify = await h.call("POST", "/api/v1/auth/otp/verify", { body: { email: "a@example.com", otp: attempted } });
  assertError(verify, 401, "otp_not_requested");
  h.sender.send = realSend;
  assert.equal((await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } })).status, 200);
});

Deno.test("POST /otp/request for a new email answers 502 when delivery fails: the registration stays, no usable code does", async () => {
  const h = createHarness();
  let attempted = "";
  h.sender.send = (message) => {
    attempted = message.code;
    return Promise.reject(new Error("relay down"));
  };
  const reply = await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "new@example.com" } });
  assertError(reply, 502, "otp_delivery_failed");
  assert.match(attempted, /^[0-9]{6}$/);
  const user = await h.store.findUserByEmail("new@example.com");
  assert.equal(user?.status, "waitlisted", "the registration is what register would have left");
  assert.equal(user?.verified, false);
  const verify = await h.call("POST", "/api/v1/auth/otp/verify", {
    body: { email: "new@example.com", otp: attempted },
  });
  assertError(verify, 401, "otp_not_requested");
});

Deno.test("POST /otp/verify returns a session token of audience ai.hg.fi/auth and verifies the user", async () => {
  const h = createHarness();
  const registered = await h.call("POST", "/api/v1/auth/register", { body: { email: "a@example.com" } });
  await h.call("POST", "/api/v1/auth/otp/request", { body: { email: "a@example.com" } });
  const reply = await h.call("POST", "/modules/auth/otp/verify", {
    body: { email: "a@example.com", otp: h.sender.latestCode("a@example.com") },
  });
  assert.equal(reply.status, 200);
  assert.deepEqual(Object.keys(reply.body).sort(), [
    "access_token",
    "expires_at",
    "expires_in",
    "status",
    "token_type",
    "user_id",
    "verified",
  ]);
  assert.equal(reply.body.token_type, "Bearer");
  assert.equal(reply.body.expires_in, 3600);
  assert.equal(reply.body.user_id, registered.body.user_id);
  assert.equal(reply.body.verified, true);
  assert.equal(reply.body.status, "waitlisted");
  assert.equal(reply.headers.get("Cache-Control"), "no-store");
  const claims = decodeClaims(reply.body.access_token);
  assert.equal(claims.aud, "ai.hg.fi/auth");
  assert.equal(claims.sub, registered.body.user_id);
  assert.equal(claims.scope, "");
  assert.equal(typeof claims.sid, "string");
  assert.equal(new Date(reply.body.expires_at).getTime(), claims.exp * 1000);
  assert.equal((await h.store.findUserByEmail("a@example.com"))?.verified, true);
});

Deno.test("POST /otp/verify refuses wrong, exhausted, expired, reused and unrequested codes", async (t) => {
  const email = "a@example.com";
  const setup = async () => {
    const h = createHarness();
    await h.call("POST", "/api/v1/auth/register", { body: { email } });
    await h.call("POST", "/api/v1/auth/otp/request", { body: { email } });
    const code = h.sender.latestCode(email)!;
    const wrong = code === "000000" ? "111111" : "000000";
    const verify = (otp: string) => h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp } });
    return { h, code, wrong, verify };
  };
  await t.step("wrong code: 401 otp_invalid with the attempts left, user stays unverified", async () => {
    const { h, wrong, verify } = await setup();
    const reply = await verify(wrong);
    assertError(reply, 401, "otp_invalid");
    assert.match(reply.body.message, /4 attempts left/);
    assert.equal((await h.store.findUserByEmail(email))?.verified, false);
  });
  await t.step("five wrong codes kill the challenge even for the right code", async () => {
    const { code, wrong, verify } = await setup();
    for (let i = 0; i < 5; i++) assertError(await verify(wrong), 401, "otp_invalid");
    assertError(await verify(code), 401, "otp_attempts_exceeded");
  });
  await t.step("expired code: 401 otp_expired", async () => {
    const { h, code, verify } = await setup();
    h.clock.now += 600_000;
    assertError(await verify(code), 401, "otp_expired");
  });
  await t.step("reused code: 401 otp_used", async () => {
    const { code, verify } = await setup();
    assert.equal((await verify(code)).status, 200);
    assertError(await verify(code), 401, "otp_used");
  });
  await t.step("no code requested: 401 otp_not_requested", async () => {
    const h = createHarness();
    await h.call("POST", "/api/v1/auth/register", { body: { email } });
    assertError(
      await h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp: "123456" } }),
      401,
      "otp_not_requested",
    );
  });
  await t.step("malformed code or fields: 400 and no attempt spent", async () => {
    const { code, verify, h } = await setup();
    assertError(await verify("12ab56"), 400, "invalid_otp");
    assertError(await verify("1234567"), 400, "invalid_otp");
    assertError(
      await h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp: 123456 } }),
      400,
      "invalid_request",
    );
    assertError(await h.call("POST", "/api/v1/auth/otp/verify", { body: { email } }), 400, "invalid_request");
    assertError(await h.call("POST", "/api/v1/auth/otp/verify", { body: "{" }), 400, "invalid_json");
    // The right code still works with all five attempts: nothing was spent.
    assert.equal((await verify(code)).status, 200);
  });
});

Deno.test("OTP codes are uniformly 6 digits and not repeated across 200 requests", async () => {
  const h = createHarness({ policy: { otpResendSeconds: 0, rateLimitPerIp: 0 } });
  const codes = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const email = `u${i}@example.com`;
    await h.call("POST", "/api/v1/auth/register", { body: { email } });
    await h.call("POST", "/api/v1/auth/otp/request", { body: { email } });
    codes.add(h.sender.latestCode(email)!);
  }
  assert.ok([...codes].every((code) => /^[0-9]{6}$/.test(code)));
  // 200 draws from 10^6 collide with probability about 2%; more than 2 repeats means a broken generator.
  assert.ok(codes.size >= 198);
});

Deno.test("wrong codes across codes spend the email's daily budget: then 429 otp_locked on request and verify", async () => {
  const h = createHarness({ policy: { otpMaxFailuresPerDay: 3, otpResendSeconds: 0, rateLimitPerIp: 0 } });
  const email = "target@example.com";
  const request = () => h.call("POST", "/api/v1/auth/otp/request", { body: { email } });
  const verify = (otp: string) => h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp } });
  const wrong = (code: string) => code === "000000" ? "111111" : "000000";
  const messages: string[] = [];
  for (let i = 0; i < 3; i++) {
    assert.equal((await request()).status, 200, "a new code each time");
    const reply = await verify(wrong(h.sender.latestCode(email)!));
    assertError(reply, 401, "otp_invalid");
    messages.push(reply.body.message);
  }
  assert.match(messages[2], /too many wrong codes in the last 24 hours, so this email is locked/);
  assert.deepEqual(h.events.map((event) => [event.kind, event.email]), [["otp_locked", email]], "logged once");
  const refusedRequest = await request();
  assertError(refusedRequest, 429, "otp_locked");
  assert.equal(Number(refusedRequest.headers.get("Retry-After")), 86400);
  assert.match(refusedRequest.body.message, /try again in 24 hours/);
  const sent = h.sender.messages.length;
  h.clock.now += 3600_000;
  const refusedVerify = await verify(h.sender.latestCode(email)!);
  assertError(refusedVerify, 429, "otp_locked"); // even the right code of the last mail
  assert.equal(Number(refusedVerify.headers.get("Retry-After")), 86400 - 3600);
  assert.equal(h.sender.messages.length, sent, "no code is sent while locked");
  assert.equal(h.events.length, 1);
  h.clock.now += 23 * 3600_000;
  assert.equal((await request()).status, 200, "the oldest failure aged out");
  const ok = await verify(h.sender.latestCode(email)!);
  assert.equal(ok.status, 200, ok.text);
});

Deno.test("a correct code resets the email's budget of wrong codes", async () => {
  const h = createHarness({ policy: { otpMaxFailuresPerDay: 3, otpResendSeconds: 0, rateLimitPerIp: 0 } });
  const email = "forgetful@example.com";
  const round = async (wrongGuesses: number) => {
    assert.equal((await h.call("POST", "/api/v1/auth/otp/request", { body: { email } })).status, 200);
    const code = h.sender.latestCode(email)!;
    for (let i = 0; i < wrongGuesses; i++) {
      const reply = await h.call("POST", "/api/v1/auth/otp/verify", {
        body: { email, otp: code === "000000" ? "111111" : "000000" },
      });
      assertError(reply, 401, "otp_invalid");
    }
    return await h.call("POST", "/api/v1/auth/otp/verify", { body: { email, otp: code } });
  };
  assert.equal((await round(2)).status, 200);
  assert.equal((await round(2)).status, 200, "2 + 2 wrong codes, but the success in between reset the count");
  assert.deepEqual(h.events, []);
});
