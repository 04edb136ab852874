/**
 * The verifier against a real provider that signs with key files: EdDSA
 * tokens verify against its `/.well-known/jwks.json`, and through a key
 * rotation (old key kept in `BUS_AUTH_VERIFY_KEY_FILES`, then retired) a
 * token of the old key verifies until the key leaves the provider's list
 * and key set, then fails. The verifier's clock is a test clock, so its
 * cache and refetch limits pass without waiting.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { buildClaims } from "../lib/claims.ts";
import { signToken } from "../lib/jwt.ts";
import { createVerifier, TokenError } from "../lib/verifier/mod.ts";
import { callJson } from "./helpers/http.ts";
import { testClock } from "./helpers/jwks_server.ts";
import { type ProviderProcess, runProgram, startProvider } from "./helpers/provider_process.ts";
import { mintInternal } from "./helpers/provider_tokens.ts";
import { freePort } from "./helpers/free_port.ts";

const SECRET = "verifier-rotation-secret-of-32-bytes!!";
const INTERNAL_KEY = "verifier-rotation-internal-key-0123456";

/** Writes a new key file with `keys generate` and returns its path and the kid it printed. */
async function generateKey(
  dir: string,
  name: string,
  alg: "EdDSA" | "ES256",
): Promise<{ file: string; kid: string; alg: string }> {
  const file = join(dir, name);
  const result = await runProgram("bus-api-provider-auth", ["keys", "generate", "--alg", alg, "--out", file]);
  assert.equal(result.code, 0, result.stderr);
  return { file, kid: result.stdout.trim(), alg };
}

Deno.test({
  name: "EdDSA tokens verify against the provider's JWKS; an old key's tokens verify until the key is retired",
  sanitizeResources: false,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "bus-verifier-rotation-" });
    // One port for every restart, so that the verifier keeps its JWKS URL.
    const port = freePort();
    const start = (signing: { file: string; alg: string }, verify: string[] = []) =>
      startProvider({
        BUS_AUTH_HS256_SECRET: SECRET,
        BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
        BUS_AUTH_SIGNING_ALG: signing.alg,
        BUS_AUTH_SIGNING_KEY_FILE: signing.file,
        ...verify.length > 0 ? { BUS_AUTH_VERIFY_KEY_FILES: verify.join(",") } : {},
      }, ["--listen", `127.0.0.1:${port}`]);
    const clock = testClock();
    const verifier = createVerifier({
      issuer: "bus-api-provider-auth",
      audience: "ai.hg.fi/api",
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      now: clock.now,
    });
    const mint = (provider: ProviderProcess) =>
      mintInternal(provider, INTERNAL_KEY, { subject: "llm-gateway", audience: "ai.hg.fi/api", scope: "llm:proxy" });
    const check = (provider: ProviderProcess, token: string) =>
      callJson(`${provider.url}/api/v1/auth/check?audience=ai.hg.fi/api`, { token });
    let provider: ProviderProcess | undefined;
    try {
      const old = await generateKey(dir, "old-eddsa.pem", "EdDSA");
      const next = await generateKey(dir, "next-es256.pem", "ES256");
      let oldToken = "";

      await t.step("an EdDSA provider: its tokens carry the key's kid and verify against its JWKS", async () => {
        provider = await start(old);
        oldToken = await mint(provider);
        assert.deepEqual(decodeProtectedHeader(oldToken), { alg: "EdDSA", typ: "JWT", kid: old.kid });
        const claims = await verifier.verify(oldToken, { scope: "llm:proxy" });
        assert.equal(claims.sub, "llm-gateway");
        const jwks = await callJson(`${provider.url}/.well-known/jwks.json`);
        assert.deepEqual(jwks.body.keys.map((key: { kid: string }) => key.kid), [old.kid]);
        await assert.rejects(verifier.verify(await mintHs256()), /algorithm not allowed/, "HS256 needs the secret");
      });

      let nextToken = "";
      await t.step("rotated: the new ES256 key signs, the old key stays in BUS_AUTH_VERIFY_KEY_FILES", async () => {
        await provider!.stop();
        provider = await start(next, [old.file]);
        nextToken = await mint(provider);
        assert.equal(decodeProtectedHeader(nextToken).kid, next.kid);
        clock.advance(61); // the unknown kid may refetch once the minute since the first fetch is over
        assert.equal((await verifier.verify(nextToken)).sub, "llm-gateway");
        assert.ok(await verifier.verify(oldToken), "the old key's token still verifies");
        assert.equal((await check(provider, oldToken)).status, 200);
      });

      await t.step("retired: the old key leaves the list and the JWKS, and its tokens fail", async () => {
        await provider!.stop();
        provider = await start(next);
        const refused = await check(provider, oldToken);
        assert.deepEqual([refused.status, refused.body.error], [401, "invalid_token"]);
        assert.ok(await verifier.verify(oldToken), "the verifier keeps the set it has for its max-age (300 s)");
        clock.advance(301);
        await assert.rejects(verifier.verify(oldToken), (error: unknown) => {
          assert.ok(error instanceof TokenError && error.code === "invalid_token" && error.status === 401);
          assert.equal(error.message, `The token is not valid: its key "${old.kid}" is not in the key set`);
          return true;
        });
        assert.ok(await verifier.verify(nextToken), "the new key's tokens verify");
      });
    } finally {
      await provider?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** An HS256 token signed with the provider's secret, as `bus operator token issue --local` makes them. */
async function mintHs256(): Promise<string> {
  const claims = buildClaims({
    issuer: "bus-api-provider-auth",
    subject: "llm-gateway",
    audience: "ai.hg.fi/api",
    scope: "llm:proxy",
    ttlSeconds: 600,
    now: Date.now(),
  });
  return await signToken(claims, new TextEncoder().encode(SECRET));
}
