import assert from "node:assert/strict";
import { jsonAnswer, SINGLE_WRITE_BODY_CHARS, withCommonHeaders } from "./envelope.ts";

Deno.test("jsonAnswer() marks a body over the single-write size chunked, and leaves a shorter one its length", async () => {
  for (const length of [11, SINGLE_WRITE_BODY_CHARS - 1, SINGLE_WRITE_BODY_CHARS]) {
    const json = { text: "x".repeat(length - 11) };
    const answer = jsonAnswer(json);
    assert.equal(JSON.stringify(json).length, length);
    assert.equal(answer.headers.has("Transfer-Encoding"), false, `${length} characters`);
    assert.deepEqual(await answer.json(), json);
  }
  const long = { access_token: "e".repeat(SINGLE_WRITE_BODY_CHARS), token_type: "Bearer" };
  const answer = jsonAnswer(long);
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("Transfer-Encoding"), "chunked");
  assert.equal(answer.headers.get("Content-Type"), "application/json");
  assert.equal(await answer.text(), JSON.stringify(long));
});

Deno.test("withCommonHeaders() adds the request id, nosniff and no-store, and keeps a route's cache policy", async () => {
  const answer = withCommonHeaders(Response.json({ ok: true }), "trace-1");
  assert.equal(answer.headers.get("X-Request-Id"), "trace-1");
  assert.equal(answer.headers.get("X-Content-Type-Options"), "nosniff");
  assert.equal(answer.headers.get("Cache-Control"), "no-store");
  const cacheable = withCommonHeaders(
    new Response("{}", { headers: { "Cache-Control": "public, max-age=300" } }),
    "trace-2",
  );
  assert.equal(cacheable.headers.get("Cache-Control"), "public, max-age=300");
  assert.equal(cacheable.headers.get("X-Content-Type-Options"), "nosniff");
  assert.deepEqual(await cacheable.json(), {});
  await answer.body?.cancel();
});

Deno.test("withCommonHeaders() copies an answer whose headers are immutable (a redirect) and keeps its location", () => {
  const redirect = Response.redirect("http://127.0.0.1/elsewhere", 302);
  const answer = withCommonHeaders(redirect, "trace-4");
  assert.notEqual(answer, redirect);
  assert.equal(answer.status, 302);
  assert.equal(answer.headers.get("Location"), "http://127.0.0.1/elsewhere");
  assert.equal(answer.headers.get("X-Request-Id"), "trace-4");
  assert.equal(answer.headers.get("Cache-Control"), "no-store");
});
