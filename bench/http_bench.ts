/**
 * HTTP throughput of the provider under wrk, next to a bare Deno.serve
 * baseline in the same run. Prints one table; asserts nothing.
 *
 *   deno run -A bench/http_bench.ts [--duration 10s] [--connections 32] [--store memory|sqlite] [--metrics]
 *     [--only healthz,check,status,token,me,register]
 *
 * `--metrics` turns the Prometheus metrics on (BUS_AUTH_METRICS_LISTEN on a
 * free loopback port), to measure what counting costs; `--only` runs some
 * rows (the baseline always runs).
 *
 * Needs `wrk` (Debian package wrk). Both servers and wrk share this
 * machine's cores, so compare rows with each other, not with other machines.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { startProvider } from "../tests/helpers/provider_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "10s" },
    connections: { type: "string", default: "32" },
    store: { type: "string", default: "memory" },
    metrics: { type: "boolean", default: false },
    only: { type: "string", default: "healthz,check,status,token,me,register" },
  },
});

const BASELINE = `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
  () => Response.json({ ok: true }));`;

async function startBaseline(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", BASELINE],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return {
    url: `http://127.0.0.1:${value!.trim()}`,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

interface WrkResult {
  requests: number;
  rps: number;
  p50: string;
  p99: string;
  errors: string;
}

async function wrk(url: string, options: { headers?: string[]; script?: string } = {}): Promise<WrkResult> {
  const args = ["-t2", `-c${values.connections}`, `-d${values.duration}`, "--latency"];
  for (const header of options.headers ?? []) args.push("-H", header);
  if (options.script) args.push("-s", options.script);
  args.push(url);
  const output = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout);
  const number = (pattern: RegExp) => pattern.exec(text)?.[1] ?? "?";
  const non2xx = Number(
    number(/Non-2xx or 3xx responses: (\d+)/) === "?" ? 0 : number(/Non-2xx or 3xx responses: (\d+)/),
  );
  const socket = /Socket errors: (.*)/.exec(text)?.[1] ?? "";
  return {
    requests: Number(number(/(\d+) requests in/)),
    rps: Number(number(/Requests\/sec:\s+([\d.]+)/)),
    p50: number(/^\s+50%\s+(\S+)/m),
    p99: number(/^\s+99%\s+(\S+)/m),
    errors: [non2xx ? `${non2xx} non-2xx` : "", socket].filter(Boolean).join(", ") || "none",
  };
}

const work = await Deno.makeTempDir({ prefix: "bus-auth-bench-" });
const key = "bench-internal-key-0123456789";
const baseline = await startBaseline();
const provider = await startProvider({
  BUS_AUTH_HS256_SECRET: "bench-signing-secret-of-at-least-32-bytes",
  BUS_AUTH_INTERNAL_SHARED_KEY: key,
  BUS_AUTH_OTP_SENDER: "console",
  BUS_AUTH_RATE_LIMIT_PER_IP: "0",
  ...(values.store === "sqlite" ? { BUS_AUTH_STORE_PATH: join(work, "bench.sqlite") } : {}),
  ...(values.metrics ? { BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0" } : {}),
});
const only = new Set(values.only.split(","));
try {
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    await (await fetch(`${provider.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).json();
  await post("/api/v1/auth/register", { email: "bench@example.com" });
  await post("/api/v1/auth/otp/request", { email: "bench@example.com" });
  const session = (await post("/api/v1/auth/otp/verify", {
    email: "bench@example.com",
    otp: await provider.waitForOtp("bench@example.com"),
  })).access_token;
  const register = join(work, "register.lua");
  Deno.writeTextFileSync(
    register,
    `local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/auth/register", {["Content-Type"] = "application/json"},
    '{"email":"u' .. n .. '-' .. math.random(1, 1000000000) .. '@example.com"}')
end
`,
  );

  const admin = (await post("/api/internal/auth/token", {
    subject: "bench-admin",
    audience: "ai.hg.fi/auth",
    scope: "waitlist:approve",
  }, { "X-Bus-Internal-Key": key })).access_token;
  await post("/api/v1/auth/admin/approve", { email: "bench@example.com" }, { Authorization: `Bearer ${admin}` });
  const apiToken = (await post("/api/v1/auth/token", { scope: "llm:proxy" }, { Authorization: `Bearer ${session}` }))
    .access_token;
  const issue = join(work, "token.lua");
  Deno.writeTextFileSync(
    issue,
    `request = function()
  return wrk.format("POST", "/api/v1/auth/token", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer ${session}"}, '{"scope":"llm:proxy","ttl_seconds":600}')
end
`,
  );

  const rows: [string, WrkResult][] = [];
  rows.push(["baseline: bare Deno.serve JSON", await wrk(`${baseline.url}/`)]);
  if (only.has("healthz")) rows.push(["GET /healthz (store ping)", await wrk(`${provider.url}/healthz`)]);
  if (only.has("check")) {
    rows.push([
      "GET /api/v1/auth/check (API token: JWT verify + revocation, client and account reads)",
      await wrk(`${provider.url}/api/v1/auth/check`, { headers: [`Authorization: Bearer ${apiToken}`] }),
    ]);
  }
  if (only.has("status")) {
    rows.push([
      "GET /api/v1/auth/status (session)",
      await wrk(`${provider.url}/api/v1/auth/status`, { headers: [`Authorization: Bearer ${session}`] }),
    ]);
  }
  if (only.has("token")) {
    rows.push(["POST /api/v1/auth/token (API token issued)", await wrk(`${provider.url}/`, { script: issue })]);
  }
  if (only.has("me")) {
    rows.push([
      "GET /api/v1/auth/me (JWT verify + 3 store reads)",
      await wrk(`${provider.url}/api/v1/auth/me`, { headers: [`Authorization: Bearer ${session}`] }),
    ]);
  }
  if (only.has("register")) {
    rows.push(["POST /api/v1/auth/register (new users)", await wrk(`${provider.url}/`, { script: register })]);
  }

  console.log(
    `store=${values.store} metrics=${
      values.metrics ? "on" : "off"
    } connections=${values.connections} duration=${values.duration} cores=${navigator.hardwareConcurrency}`,
  );
  console.log("| endpoint | requests/s | p50 | p99 | errors |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  for (const [name, result] of rows) {
    console.log(`| ${name} | ${result.rps.toFixed(0)} | ${result.p50} | ${result.p99} | ${result.errors} |`);
  }
} finally {
  await provider.stop();
  await baseline.stop();
  await Deno.remove(work, { recursive: true });
}
