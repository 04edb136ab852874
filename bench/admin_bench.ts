/**
 * The operator paths under wrk: `admin/approve` and `admin/reject` (cycling
 * over 50 verified users, so most calls repeat a decision) and one
 * `admin/waitlist` page of 100. Prints requests per second, latency and the
 * provider's CPU time per request (from /proc, so Linux only); asserts
 * nothing. Written to measure what recording each act in the audit trail
 * costs: run it on two checkouts, alternating, and compare the medians.
 *
 *   deno run -A bench/admin_bench.ts [--store memory|sqlite|postgres] [--duration 5s] [--connections 16] [--runs 1]
 *
 * Needs `wrk` and `ss` (iproute2); PostgreSQL starts a throwaway cluster.
 */

import { join } from "node:path";
import { AUDIENCE, buildClaims } from "../lib/claims.ts";
import { signToken } from "../lib/jwt.ts";
import { startPostgresCluster } from "../tests/helpers/postgres_cluster.ts";
import { startProvider } from "../tests/helpers/provider_process.ts";
import { cpuSeconds } from "./_proc.ts";
import { benchArgs } from "./_args.ts";

const values = benchArgs(
  {
    duration: { type: "string", default: "5s" },
    connections: { type: "string", default: "16" },
    store: { type: "string", default: "memory" },
    runs: { type: "string", default: "1" },
  },
  "usage: deno run -A bench/admin_bench.ts [--store memory|sqlite|postgres] [--duration 5s] [--connections 16] [--runs 1]",
);

const SECRET = "bench-signing-secret-of-at-least-32-bytes";
const USERS = 50;

interface Result {
  rps: number;
  p50: string;
  p99: string;
  cpuUsPerRequest: number;
  errors: string;
}

/** The pid of the process listening on a local port. */
async function listenerPid(port: number): Promise<number> {
  const output = await new Deno.Command("ss", { args: ["-ltnpH", `sport = :${port}`], stdout: "piped" }).output();
  const match = /pid=(\d+)/.exec(new TextDecoder().decode(output.stdout));
  if (match === null) throw new Error(`no process listens on port ${port}`);
  return Number(match[1]);
}

async function wrk(url: string, script: string, pid: number): Promise<Result> {
  const args = ["-t2", `-c${values.connections}`, `-d${values.duration}`, "--latency", "-s", script, url];
  const cpuBefore = cpuSeconds(pid);
  const output = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const cpu = cpuSeconds(pid) - cpuBefore;
  const text = new TextDecoder().decode(output.stdout);
  const number = (pattern: RegExp) => pattern.exec(text)?.[1] ?? "?";
  const requests = Number(number(/(\d+) requests in/));
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  return {
    rps: Number(number(/Requests\/sec:\s+([\d.]+)/)),
    p50: number(/^\s+50%\s+(\S+)/m),
    p99: number(/^\s+99%\s+(\S+)/m),
    cpuUsPerRequest: requests > 0 ? cpu / requests * 1e6 : NaN,
    errors: non2xx ? `${non2xx} non-2xx` : "none",
  };
}

function luaScript(method: string, path: string, token: string, body: string | null): string {
  const emails = Array.from({ length: USERS }, (_, i) => `"bench-${i}@example.com"`).join(", ");
  return `local n = 0
local emails = { ${emails} }
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer ${token}" }
request = function()
  n = n + 1
  local email = emails[(n % #emails) + 1]
  local body = ${body === null ? "nil" : body}
  return wrk.format("${method}", "${path}", headers, body)
end
`;
}

const work = await Deno.makeTempDir({ prefix: "bus-auth-admin-bench-" });
const cluster = values.store === "postgres" ? await startPostgresCluster() : null;
if (cluster !== null && "skipped" in cluster) throw new Error(`PostgreSQL: ${cluster.skipped}`);
const storeEnv: Record<string, string> = values.store === "sqlite"
  ? { BUS_AUTH_STORE_PATH: join(work, "bench.sqlite") }
  : cluster !== null
  ? { BUS_AUTH_POSTGRES_DSN: await cluster.createDatabase("admin_bench") }
  : {};
const provider = await startProvider({
  BUS_AUTH_HS256_SECRET: SECRET,
  BUS_AUTH_OTP_SENDER: "console",
  BUS_AUTH_RATE_LIMIT_PER_IP: "0",
  BUS_AUTH_OTP_RESEND_SECONDS: "0",
  ...storeEnv,
});
try {
  const post = async (path: string, body: unknown) =>
    await (await fetch(`${provider.url}${path}`, { method: "POST", body: JSON.stringify(body) })).json();
  for (let i = 0; i < USERS; i++) {
    const email = `bench-${i}@example.com`;
    await post("/api/v1/auth/otp/request", { email });
    await post("/api/v1/auth/otp/verify", { email, otp: await provider.waitForOtp(email) });
  }
  const admin = await signToken(
    buildClaims({
      issuer: "bus-api-provider-auth",
      subject: "bench-operator",
      audience: AUDIENCE.auth,
      scope: "waitlist:read waitlist:approve admin:manage",
      ttlSeconds: 3600,
      now: Date.now(),
    }),
    new TextEncoder().encode(SECRET),
  );
  const scripts: [string, string][] = [
    ["POST admin/approve", luaScript("POST", "/api/v1/auth/admin/approve", admin, `'{"email":"' .. email .. '"}'`)],
    [
      "POST admin/reject",
      luaScript("POST", "/api/v1/auth/admin/reject", admin, `'{"email":"' .. email .. '","reason":"bench"}'`),
    ],
    [
      "GET admin/waitlist?status=all&limit=100",
      luaScript("GET", "/api/v1/auth/admin/waitlist?status=all&limit=100", admin, null),
    ],
  ];
  const pid = await listenerPid(Number(new URL(provider.url).port));
  console.log(
    `store=${values.store} connections=${values.connections} duration=${values.duration} cores=${navigator.hardwareConcurrency}`,
  );
  console.log("| endpoint | requests/s | p50 | p99 | CPU µs/request | errors |");
  console.log("| --- | ---: | ---: | ---: | ---: | --- |");
  for (let run = 0; run < Number(values.runs); run++) {
    for (const [name, lua] of scripts) {
      const file = join(work, `${name.replace(/[^a-z]/gi, "_")}.lua`);
      Deno.writeTextFileSync(file, lua);
      const result = await wrk(provider.url, file, pid);
      console.log(
        `| ${name} | ${result.rps.toFixed(0)} | ${result.p50} | ${result.p99} | ${
          result.cpuUsPerRequest.toFixed(0)
        } | ${result.errors} |`,
      );
    }
  }
} finally {
  await provider.stop();
  if (cluster !== null && !("skipped" in cluster)) await cluster.dispose();
  await Deno.remove(work, { recursive: true });
}
