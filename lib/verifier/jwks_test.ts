import assert from "node:assert/strict";
import { apiClaims, makeKey, serveJwks, signWith, testClock } from "../../tests/helpers/jwks_server.ts";
import { cacheSeconds, readKeySet } from "./_jwks.ts";
import { createVerifier, TokenError } from "./mod.ts";

const BASE = { issuer: "bus-api-provider-auth", audience: "ai.hg.fi/api" } as const;

function invalidToken(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof TokenError && error.code === "invalid_token", String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

Deno.test("the key set is fetched once and kept for its Cache-Control max-age", async () => {
  const clock = testClock();
  const key = await makeKey("EdDSA");
  const jwks = serveJwks([key.publicJwk], "public, max-age=120");
  try {
    const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
    assert.equal(jwks.requests, 0, "nothing is fetched before a token needs it");
    await Promise.all(Array.from({ length: 20 }, async () => verifier.verify(await signWith(key, apiClaims()))));
    assert.equal(jwks.requests, 1, "twenty tokens at once share one fetch");
    clock.advance(119);
    await verifier.verify(await signWith(key, apiClaims({}, clock.now())));
    assert.equal(jwks.requests, 1);
    clock.advance(2);
    await verifier.verify(await signWith(key, apiClaims({}, clock.now())));
    assert.equal(jwks.requests, 2, "fetched again once max-age has passed");
  } finally {
    await jwks.close();
  }
});

Deno.test("cacheSeconds() keeps a set 5 minutes by default and max-age within 60 s and a day", () => {
  assert.equal(cacheSeconds(null), 300);
  assert.equal(cacheSeconds("public"), 300);
  assert.equal(cacheSeconds("public, max-age=900"), 900);
  assert.equal(cacheSeconds('max-age="900"'), 900);
  assert.equal(cacheSeconds("max-age=5"), 60);
  assert.equal(cacheSeconds("max-age=0"), 60);
  assert.equal(cacheSeconds("max-age=99999999999"), 86_400);
  assert.equal(cacheSeconds("no-store"), 60);
  assert.equal(cacheSeconds("max-age=900, no-cache"), 60);
  assert.equal(cacheSeconds("max-age=-1"), 300);
});

Deno.test("a flood of tokens with made-up kids fetches the set at most once a minute", async () => {
  const clock = testClock();
  const [key, forger] = await Promise.all([makeKey("EdDSA"), makeKey("EdDSA")]);
  const jwks = serveJwks([key.publicJwk]);
  try {
    const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
    await verifier.verify(await signWith(key, apiClaims({}, clock.now())));
    assert.equal(jwks.requests, 1);
    const bogus = () => signWith(forger, apiClaims({}, clock.now()), { kid: crypto.randomUUID() });
    for (let second = 0; second < 59; second++) {
      const tokens = await Promise.all(Array.from({ length: 10 }, bogus));
      for (const token of tokens) await assert.rejects(verifier.verify(token), invalidToken(/is not in the key set/));
      clock.advance(1);
    }
    assert.equal(jwks.requests, 1, "590 unknown kids within the minute of the first fetch: no fetch");
    clock.advance(2);
    await Promise.all(Array.from({ length: 50 }, async () => {
      await assert.rejects(verifier.verify(await bogus()), TokenError);
    }));
    assert.equal(jwks.requests, 2, "a minute later, one refetch for fifty unknown kids");
    await assert.rejects(verifier.verify(await bogus()), TokenError);
    assert.equal(jwks.requests, 2);
  } finally {
    await jwks.close();
  }
});

Deno.test("a key added to the set (rotation) is found by the refetch for its unknown kid", async () => {
  const clock = testClock();
  const [old, fresh] = await Promise.all([makeKey("EdDSA"), makeKey("ES256")]);
  const jwks = serveJwks([old.publicJwk], "max-age=3600");
  try {
    const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
    await verifier.verify(await signWith(old, apiClaims({}, clock.now())));
    jwks.serve({ keys: [fresh.publicJwk, old.publicJwk], cacheControl: "max-age=3600" });
    clock.advance(61);
    const claims = await verifier.verify(await signWith(fresh, apiClaims({}, clock.now())));
    assert.equal(claims.aud, "ai.hg.fi/api");
    assert.equal(jwks.requests, 2);
    jwks.serve({ keys: [fresh.publicJwk], cacheControl: "max-age=3600" });
    clock.advance(3601);
    await assert.rejects(
      verifier.verify(await signWith(old, apiClaims({}, clock.now()))),
      invalidToken(new RegExp(`its key "${old.kid}" is not in the key set$`)),
      "once the set is refreshed without the old key, its tokens fail",
    );
  } finally {
    await jwks.close();
  }
});

Deno.test("a failed fetch keeps the last good set, and a token whose key is missing says why", async (t) => {
  const clock = testClock();
  const [key, later] = await Promise.all([makeKey("EdDSA"), makeKey("EdDSA")]);
  const jwks = serveJwks([key.publicJwk], "max-age=60");
  try {
    await t.step("no set yet: the error names the failure", async () => {
      jwks.serve({ status: 503 });
      const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
      await assert.rejects(
        verifier.verify(await signWith(key, apiClaims({}, clock.now()))),
        invalidToken(/^The token is not valid: the key set could not be fetched \(HTTP 503\)$/),
      );
      await assert.rejects(verifier.verify(await signWith(key, apiClaims({}, clock.now()))), TokenError);
      assert.equal(jwks.requests, 1, "the retry waits a minute");
      jwks.serve({ keys: [key.publicJwk] });
      clock.advance(60);
      assert.ok(await verifier.verify(await signWith(key, apiClaims({}, clock.now()))), "then it works");
    });

    await t.step("a good set stays in use while the provider is down", async () => {
      const start = jwks.requests;
      jwks.serve({ keys: [key.publicJwk], cacheControl: "max-age=60" });
      const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
      await verifier.verify(await signWith(key, apiClaims({}, clock.now())));
      for (const answer of [{ status: 500 }, { body: "<html>" }, { body: '{"keys":{}}' }]) {
        jwks.serve(answer);
        clock.advance(61);
        assert.ok(await verifier.verify(await signWith(key, apiClaims({}, clock.now()))), JSON.stringify(answer));
      }
      assert.equal(jwks.requests, start + 4, "one attempt per expiry");
      jwks.serve({ status: 502 });
      clock.advance(61);
      await assert.rejects(
        verifier.verify(await signWith(later, apiClaims({}, clock.now()))),
        invalidToken(/is not in the key set, and the last fetch of the set failed \(HTTP 502\)$/),
      );
    });

    await t.step("an unreachable provider is named as such", async () => {
      const closed = serveJwks([]);
      await closed.close();
      const verifier = createVerifier({ ...BASE, jwksUrl: closed.url, now: clock.now });
      await assert.rejects(
        verifier.verify(await signWith(key, apiClaims({}, clock.now()))),
        (error: unknown) => {
          assert.ok(error instanceof TokenError);
          assert.match(error.message, /could not be fetched \(cannot connect\)$/);
          assert.ok(error.cause instanceof Error, "the fetch error is kept as the cause, for logs");
          return true;
        },
      );
    });

    await t.step("an answer over 256 KiB is refused", async () => {
      jwks.serve({ body: JSON.stringify({ keys: [], padding: "x".repeat(300_000) }) });
      const verifier = createVerifier({ ...BASE, jwksUrl: jwks.url, now: clock.now });
      await assert.rejects(
        verifier.verify(await signWith(key, apiClaims({}, clock.now()))),
        invalidToken(/larger than 262144 bytes/),
      );
    });
  } finally {
    await jwks.close();
  }
});

Deno.test("readKeySet() takes EdDSA and ES256 signing keys with kid and alg, and ignores the rest", async () => {
  const [ed, ec] = await Promise.all([makeKey("EdDSA"), makeKey("ES256")]);
  const ignored = [
    { ...ed.publicJwk, kid: undefined },
    { ...ed.publicJwk, kid: "" },
    { ...ed.publicJwk, kid: "no-alg", alg: undefined },
    { ...ed.publicJwk, kid: "for-encryption", use: "enc" },
    { ...ed.publicJwk, kid: "sign-only", key_ops: ["sign"] },
    { ...ed.publicJwk, kid: "private", d: "AAAA" },
    { ...ed.publicJwk, kid: "es256-on-ed25519", alg: "ES256" },
    { ...ec.publicJwk, kid: "eddsa-on-p256", alg: "EdDSA" },
    { ...ec.publicJwk, kid: "short-point", x: "AAAA" },
    { kty: "RSA", kid: "rsa", alg: "RS256", n: "AQAB", e: "AQAB" },
    { kty: "oct", kid: "secret", alg: "HS256", k: "c2VjcmV0" },
    "a string",
    null,
  ];
  const keys = await readKeySet({ keys: [...ignored, ed.publicJwk, { ...ec.publicJwk, key_ops: ["verify"] }] });
  assert.deepEqual([...keys.keys()], [ed.kid, ec.kid]);
  assert.equal(keys.get(ed.kid)!.alg, "EdDSA");
  assert.equal(keys.get(ec.kid)!.alg, "ES256");
  await assert.rejects(readKeySet({ keys: [ed.publicJwk, { ...ec.publicJwk, kid: ed.kid }] }), /two keys/);
  await assert.rejects(readKeySet([]), /not a JWK set/);
  assert.equal((await readKeySet({ keys: [] })).size, 0);
});
