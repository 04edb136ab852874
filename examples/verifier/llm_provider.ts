// A Bus API provider in 20 lines: POST /v1/chat/completions answers callers whose token has the scope llm:proxy,
// verified here against the keys the auth provider publishes (no call to the auth provider per request).
//   deno run -N=127.0.0.1 examples/verifier/llm_provider.ts [JWKS_URL] [PORT]
import { Hono } from "hono";
import { createVerifier } from "../../lib/verifier/mod.ts"; // elsewhere: "jsr:@busdk/bus-auth/verifier"
import { busAuth } from "../../lib/verifier/hono.ts"; // elsewhere: "jsr:@busdk/bus-auth/verifier/hono"

const [jwksUrl = "http://127.0.0.1:8080/.well-known/jwks.json", port = "8787"] = Deno.args;
const verifier = createVerifier({ issuer: "bus-api-provider-auth", audience: "ai.hg.fi/api", jwksUrl });

const app = new Hono();
app.post("/v1/chat/completions", busAuth(verifier, { scope: "llm:proxy" }), async (c) => {
  const { messages = [] } = await c.req.json<{ messages?: { content: string }[] }>();
  const reply = { role: "assistant", content: `Echo: ${messages.at(-1)?.content ?? ""}` };
  return c.json({
    object: "chat.completion",
    account: c.get("busClaims").sub,
    choices: [{ index: 0, message: reply }],
  });
});

Deno.serve({ hostname: "127.0.0.1", port: Number(port) }, app.fetch);
