/**
 * The verifier library against a real provider process: with the shared
 * HS256 secret it takes exactly the tokens the provider's `GET /check`
 * takes and refuses the others with the same code, except revoked ones,
 * which only `/check` knows about.
 */

import assert from "node:assert/strict";
import { buildClaims } from "../lib/claims.ts";
import { signToken } from "../lib/jwt.ts";
import { createVerifier, TokenError, type Verifier } from "../lib/verifier/mod.ts";
import { callJson } from "./helpers/http.ts";
import { startProvider } from "./helpers/provider_process.ts";
import { mintInternal, userApiToken } from "./helpers/provider_tokens.ts";

const SECRET = "verifier-e2e-signing-secret-of-32-bytes";
const INTERNAL_KEY = "verifier-e2e-internal-key-0123456789";

/** What the verifier and the provider say about a token: the claims or the refusal's status and code. */
async function verdicts(verifier: Verifier, check: string, token: string) {
  let local: unknown;
  try {
    const { scopes: _scopes, ...claims } = await verifier.verify(token, { scope: "llm:proxy" });
    local = claims;
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    local = { status: error.status, error: error.code };
  }
  const reply = await callJson(`${check}?audience=ai.hg.fi/api&scope=llm:proxy`, { token });
  const remote = reply.status === 200 ? reply.body : { status: reply.status, error: reply.body.error };
  return { local, remote };
}

Deno.test({
  name: "a verifier with the provider's HS256 secret agrees with GET /check, except on revocation",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_API_USER_SCOPES: "llm:proxy billing:read",
    });
    const api = `${provider.url}/api/v1/auth`;
    const verifier = createVerifier({ issuer: "bus-api-provider-auth", audience: "ai.hg.fi/api", hs256Secret: SECRET });
    const mint = (body: Record<string, unknown>) => mintInternal(provider, INTERNAL_KEY, body);
    try {
      const admin = await mint({ subject: "admin-user", scope: "waitlist:read waitlist:approve admin:manage" });
      const service = await mint({ subject: "llm-gateway", audience: "ai.hg.fi/api", scope: "llm:proxy" });

      await t.step("a user API token: the claims are the ones /check shows, sub the account UUID", async () => {
        const user = await userApiToken(provider, INTERNAL_KEY, {
          email: "verifier-user@example.com",
          scope: "llm:proxy billing:read",
        });
        const { local, remote } = await verdicts(verifier, `${api}/check`, user.token);
        assert.deepEqual(local, remote);
        assert.equal((local as { sub: string }).sub, user.accountId);
        const claims = await verifier.verify(user.token);
        assert.deepEqual(claims.scopes, ["llm:proxy", "billing:read"]);
      });

      await t.step(
        "good, misaddressed, narrow, tampered, foreign and expired tokens get the same verdict",
        async () => {
          const now = Date.now();
          const local = (overrides: { audience?: string; ttlSeconds?: number; now?: number }, key = SECRET) =>
            signToken(
              buildClaims({
                issuer: "bus-api-provider-auth",
                subject: "llm-gateway",
                audience: "ai.hg.fi/api",
                scope: "llm:proxy",
                ttlSeconds: 600,
                now,
                ...overrides,
              }),
              new TextEncoder().encode(key),
            );
          const [header, payload, signature] = service.split(".");
          const tampered = `${header}.${payload.slice(0, -2)}${payload.at(-2) === "A" ? "B" : "A"}${
            payload.at(-1)
          }.${signature}`;
          const cases: [string, string, { status: number; error: string } | null][] = [
            ["an internal API token", service, null],
            ["a token signed locally with the same secret", await local({}), null],
            ["an auth-service admin token", admin, { status: 401, error: "token_wrong_audience" }],
            [
              "a token without llm:proxy",
              await mint({ subject: "billing-worker", audience: "ai.hg.fi/api", scope: "billing:read" }),
              { status: 403, error: "insufficient_scope" },
            ],
            ["a tampered token", tampered, { status: 401, error: "invalid_token" }],
            [
              "a token of another secret",
              await local({}, "another-secret-of-at-least-32-bytes!!"),
              { status: 401, error: "invalid_token" },
            ],
            [
              "an expired token",
              await local({ ttlSeconds: 60, now: now - 120_000 }),
              { status: 401, error: "token_expired" },
            ],
            ["no JWT at all", "not-a-token", { status: 401, error: "invalid_token" }],
          ];
          for (const [what, token, refusal] of cases) {
            const { local, remote } = await verdicts(verifier, `${api}/check`, token);
            assert.deepEqual(local, remote, what);
            if (refusal !== null) assert.deepEqual(local, refusal, what);
          }
        },
      );

      await t.step("a revoked token: /check refuses it, the verifier takes it until it expires", async () => {
        const { jti } = await verifier.verify(service);
        const revoked = await callJson(`${api}/admin/tokens/revoke`, { token: admin, body: { jti } });
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        const { local, remote } = await verdicts(verifier, `${api}/check`, service);
        assert.deepEqual(remote, { status: 401, error: "token_revoked" });
        assert.equal((local as { jti: string }).jti, jti);
      });
    } finally {
      await provider.stop();
    }
  },
});
