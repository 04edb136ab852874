/**
 * The README's example Bus API provider (`examples/verifier/llm_provider.ts`)
 * run as documented, with only `-N=127.0.0.1`, against a real auth provider
 * that signs with EdDSA: it answers a user's `llm:proxy` token and refuses
 * the rest as the auth provider would.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { callJson } from "./helpers/http.ts";
import { baseEnv, runProgram, startProvider } from "./helpers/provider_process.ts";
import { mintInternal, userApiToken } from "./helpers/provider_tokens.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const INTERNAL_KEY = "verifier-example-internal-key-0123456";

/** Starts the example on a free port and returns its URL and a stop function. */
async function startExample(jwksUrl: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-N=127.0.0.1", "examples/verifier/llm_provider.ts", jwksUrl, "0"],
    cwd: ROOT,
    env: baseEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  while (!/Listening on (http:\S+)/.test(output)) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`The example ended before listening:\n${output}`);
    output += chunk.value;
  }
  clearTimeout(timer);
  const url = /Listening on (http:\/\/[^/\s]+)/.exec(output)![1];
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel().catch(() => {});
    },
  };
}

Deno.test({
  name: "the example Bus API provider answers llm:proxy tokens of a real auth provider and refuses the others",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bus-verifier-example-" });
    const keyFile = join(dir, "signing.pem");
    const generated = await runProgram("bus-api-provider-auth", [
      "keys",
      "generate",
      "--alg",
      "EdDSA",
      "--out",
      keyFile,
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: "verifier-example-secret-of-32-bytes!!",
      BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
      BUS_AUTH_SIGNING_ALG: "EdDSA",
      BUS_AUTH_SIGNING_KEY_FILE: keyFile,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_API_USER_SCOPES: "llm:proxy billing:read",
    });
    let example: { url: string; stop: () => Promise<void> } | undefined;
    try {
      example = await startExample(`${provider.url}/.well-known/jwks.json`);
      const chat = `${example.url}/v1/chat/completions`;
      const body = { messages: [{ role: "user", content: "hello" }] };

      const user = await userApiToken(provider, INTERNAL_KEY, { email: "llm-user@example.com", scope: "llm:proxy" });
      const answered = await callJson(chat, { token: user.token, body });
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.deepEqual(answered.body, {
        object: "chat.completion",
        account: user.accountId,
        choices: [{ index: 0, message: { role: "assistant", content: "Echo: hello" } }],
      });

      const missing = await callJson(chat, { body });
      assert.deepEqual([missing.status, missing.body.error], [401, "missing_token"]);
      assert.equal(missing.headers.get("WWW-Authenticate"), 'Bearer realm="bus"');

      const billing = await userApiToken(provider, INTERNAL_KEY, {
        email: "billing@example.com",
        scope: "billing:read",
      });
      const narrow = await callJson(chat, { token: billing.token, body });
      assert.deepEqual(narrow.body, { error: "insufficient_scope", message: 'The token lacks the scope "llm:proxy"' });
      assert.equal(narrow.status, 403);
      assert.match(narrow.headers.get("WWW-Authenticate")!, /error="insufficient_scope", scope="llm:proxy"/);

      const admin = await mintInternal(provider, INTERNAL_KEY, { subject: "admin-user", scope: "llm:proxy" });
      const session = await callJson(chat, { token: admin, body });
      assert.deepEqual([session.status, session.body.error], [401, "token_wrong_audience"]);
    } finally {
      await example?.stop();
      await provider.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
