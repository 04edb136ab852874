/**
 * HTTP throughput of the provider's hot paths under wrk, on each store, next
 * to a bare `Deno.serve` answering `{"ok":true}` measured in the same run
 * (the ratio beside every figure): each row is measured right after a run of
 * the baseline, `--repeat` times, and the round with the median ratio is
 * shown, so that a shared machine's drift weighs on both alike. Prints one table per store with
 * requests per second, the ratio to bare, p50 and p99, and the provider's
 * resident memory after its rows, and the CPU time (user and system) each
 * measured process spent a request, the bare baseline's beside it: a
 * shared VM's neighbours take requests a second from both, but not CPU
 * time (Linux; `?` elsewhere). Any answer that was not 2xx, and any
 * socket error, makes the run fail (exit 1) after the tables are printed.
 *
 *   deno run -A bench/http_bench.ts [--stores memory,sqlite,postgres] [--alg HS256|EdDSA|ES256]
 *     [--duration 10s] [--connections 32]
 *     [--only headers,healthz,check,distinct,status,token,internal,otp,revoked,me,register,sessions,purge]
 *     [--metrics] [--repeat 1] [--short] [--wrong-internal-key] [--cache-entries N] [--sessions 12000]
 *     [--cpu-prof DIR] [--warmup 1s]
 *
 * `headers` measures two more bare servers, the ceilings of the provider's
 * rows: one whose answer carries the provider's response headers, one that
 * also reads a POST body and answers with a token answer's size.
 * `distinct` checks {@link DISTINCT_TOKENS} different API tokens in turn, twice
 * as many as the provider remembers as verified (`lib/verified_tokens.ts`),
 * so that every check verifies its token's signature and claims: a platform
 * with many users, where `check` (one token, again and again) measures the
 * cached path.
 * `revoked` (SQLite and PostgreSQL, last) writes {@link REVOKED_ON_RECORD}
 * revoked token ids into the store, one more than the provider's cache
 * holds as its revocation list (`lib/store/read_cache.ts`), and checks an
 * API token: each check then asks the database whether its token id is
 * revoked, and the cache counts the list now and then to see whether it
 * fits again. The memory store holds every revocation itself: no row.
 * `sessions` (not run unless named) signs in {@link SESSIONS_IN_TURN}
 * users (`--sessions`) and asks `status` for their sessions in turn, more than the
 * provider keeps of each kind by default (`BUS_AUTH_CACHE_ENTRIES`, set
 * with `--cache-entries`). `purge` (PostgreSQL, not run unless named) does
 * the same while another connection deletes an expired revocation every
 * second, as another replica's purge of expired rows does.
 *
 * Before its rounds, each row runs once for `--warmup` (1 s by default;
 * `0s` for none), unmeasured but checked for answers that are not 2xx: a
 * freshly started provider compiles its paths while it serves, and the first
 * second of a row that nothing has warmed had a p99 of 20-80 ms. The figures
 * are of a provider that has served the request before.
 *
 * `--short` (1 s per row, 8 connections) is what CI runs
 * (`tests/bench_smoke_test.ts`), so the benchmark keeps working; its
 * figures mean nothing. `--metrics` turns the Prometheus metrics on, to
 * measure what counting costs. `--cpu-prof DIR` has the runtime profile
 * the provider of each store (`deno run --cpu-prof`, the whole run, setup
 * included: use `--only` to profile one row), writes the profile into
 * `DIR/<store>/` and prints its top frames after the store's table
 * (`bench/cpu_profile.ts`). `--wrong-internal-key` has wrk send a key the
 * provider refuses, to see (and test) the failure report. PostgreSQL runs in a throwaway cluster
 * (`tests/helpers/postgres_cluster.ts`).
 *
 * Needs `wrk` (Debian package wrk). The provider, the baseline and wrk share
 * this machine's cores, so compare rows with each other and with the bare
 * baseline, not with other machines.
 *
 * @module
 */

import { join } from "node:path";
import postgres from "postgres";
import { pause } from "../lib/event_loop.ts";
import { generateSigningKey } from "../lib/keys/generate.ts";
import { startPostgresCluster } from "../tests/helpers/postgres_cluster.ts";
import { insertRevocations } from "../tests/helpers/sqlite_rows.ts";
import { type BenchProvider, startBenchProvider } from "./_bench_provider.ts";
import { cpuSeconds } from "./_proc.ts";
import { otpPairsScript, postScript, runWrk, type WrkResult } from "./_wrk.ts";
import { benchArgs, wholeNumberArg } from "./_args.ts";
import { type CpuProfile, formatTopFrames, topFrames } from "./cpu_profile.ts";

const values = benchArgs(
  {
    stores: { type: "string", default: "memory,sqlite,postgres" },
    alg: { type: "string", default: "HS256" },
    duration: { type: "string" },
    connections: { type: "string" },
    only: { type: "string", default: "headers,healthz,check,distinct,status,token,internal,otp,revoked" },
    metrics: { type: "boolean", default: false },
    short: { type: "boolean", default: false },
    repeat: { type: "string", default: "1" },
    "wrong-internal-key": { type: "boolean", default: false },
    "cache-entries": { type: "string" },
    sessions: { type: "string" },
    "cpu-prof": { type: "string" },
    warmup: { type: "string", default: "1s" },
  },
  `usage: deno run -A bench/http_bench.ts [--stores memory,sqlite,postgres] [--alg HS256|EdDSA|ES256]
  [--duration 10s] [--connections 32] [--repeat 1] [--short] [--metrics] [--wrong-internal-key]
  [--cache-entries N] [--sessions 12000] [--cpu-prof DIR] [--warmup 1s] [--only headers,healthz,check,distinct,status,token,internal,otp,revoked,me,register,sessions,purge]
(the rows: the comment at the top of bench/http_bench.ts, and docs/BENCHMARKS.md)`,
);

const DURATION = values.duration ?? (values.short ? "1s" : "10s");
/** The unmeasured run of each row before its rounds (`--warmup`), or `null` for none. */
const WARMUP = /^0+[smh]?$/.test(values.warmup) ? null : values.warmup;
const CONNECTIONS = Number(values.connections ?? (values.short ? 8 : 32));
const REPEAT = Math.max(1, Number(values.repeat));
const ONLY = new Set(values.only.split(","));
const INTERNAL_KEY = "bench-internal-key-0123456789";
/** API tokens of the `distinct` row: twice the provider's 10,000 remembered verified tokens (200 with `--short`). */
const DISTINCT_TOKENS = values.short ? 200 : 20_000;
const A = "/api/v1/auth";
/** Revoked token ids of the `revoked` row: one more than the cache holds as its revocation list. */
const REVOKED_ON_RECORD = 100_001;
/**
 * Sessions of the `sessions` and `purge` rows (`--sessions`; 12,000 by default, more than the 10,000 of each kind
 * the provider keeps by default; 200 with `--short`).
 */
const SESSIONS_IN_TURN = wholeNumberArg("--sessions", values.sessions ?? (values.short ? "200" : "12000"));

/** One measured row: each round measures the baseline, then the row. */
interface Row {
  name: string;
  /** The round whose ratio is the median one. */
  result: WrkResult;
  /** Median over the rounds of the row's rate over the baseline's just before it. */
  ratio: number;
  /** Answers that were not 2xx and socket errors, over every round. */
  non2xx: number;
  socketErrors: string;
  /** CPU µs a request of the measured process in the median round, and of the bare baseline just before it. */
  cpuMicros: number;
  bareCpuMicros: number;
}

/** A process that answers HTTP: its URL and its pid, whose CPU time is read. */
interface Served {
  url: string;
  pid: number;
}

/** CPU seconds `pid` has used ({@link cpuSeconds}), or NaN where `/proc` cannot tell. */
function cpuSecondsOrNaN(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return NaN;
  }
}

/** Runs `measure` and reads the CPU µs a request that `pid` spent on it. */
async function withCpu(pid: number, measure: () => Promise<WrkResult>): Promise<{ result: WrkResult; cpu: number }> {
  const before = cpuSecondsOrNaN(pid);
  const result = await measure();
  return { result, cpu: (cpuSecondsOrNaN(pid) - before) * 1e6 / result.requests };
}

/** The item in the middle of `items` ordered by `key` (the lower one of an even count). */
function middle<T>(items: readonly T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)];
}

const BASELINE = `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
  () => Response.json({ ok: true }));`;

/**
 * The headers the provider adds to every answer (`X-Request-Id`,
 * `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`), added after
 * the `Response` is built, as the provider adds them. Deno sends an answer
 * whose only header is `Content-Type` on a faster path.
 */
const PROVIDER_HEADERS = `const headers = answer.headers; headers.set("X-Request-Id", crypto.randomUUID());
    headers.set("X-Content-Type-Options", "nosniff"); headers.set("Cache-Control", "no-store");`;

/** The baseline's answer with the provider's headers: the ceiling of any answer of a `GET`. */
const BASELINE_WITH_HEADERS = `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
  () => { const answer = Response.json({ ok: true }); ${PROVIDER_HEADERS} return answer; });`;

/**
 * A bare server that reads a POST's body and answers with an issued
 * token's answer (the size of the internal endpoint's, about 480 bytes,
 * made once), framed as the provider frames it (chunked, in one write:
 * `jsonAnswer()` of `server/envelope.ts`), with the provider's headers: the
 * ceiling of `POST {A}/token` and the internal endpoint, which do all of
 * this and their work besides.
 */
const BASELINE_TOKEN_ANSWER = `const text = JSON.stringify({ access_token: "e".repeat(331), token_type: "Bearer",
  expires_in: 600, expires_at: "2026-12-02T16:58:03.000Z", audience: "ai.hg.fi/api", subject: "bench-worker",
  scope: "billing:entitlement:check", ttl_capped: false });
Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
  async (request) => { await request.text();
    const answer = new Response(text, { headers: { "Content-Type": "application/json" } }); ${PROVIDER_HEADERS}
    headers.set("Transfer-Encoding", "chunked"); return answer; });`;

/** A bare `Deno.serve` running `script` (one of the baselines), in a process of its own. */
async function startBaseline(script = BASELINE): Promise<Served & { stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return {
    url: `http://127.0.0.1:${value!.trim()}/`,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const answer = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  const json = await answer.json();
  if (!answer.ok) throw new Error(`POST ${url} answered ${answer.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Signs `email` in: `otp/request`, the code read from the provider's stdout, `otp/verify`; the session token. */
async function otpSignIn(provider: BenchProvider, email: string): Promise<string> {
  await post(`${provider.url}${A}/otp/request`, { email });
  return (await post(`${provider.url}${A}/otp/verify`, { email, otp: await provider.otp(email) })).access_token;
}

/** A signed-in, approved user: its session token and an API token. */
async function signIn(provider: BenchProvider): Promise<{ session: string; apiToken: string }> {
  const email = "bench@example.com";
  const session = await otpSignIn(provider, email);
  const admin = (await post(`${provider.url}/api/internal/auth/token`, {
    subject: "bench-admin",
    audience: "ai.hg.fi/auth",
    scope: "waitlist:approve",
  }, { "X-Bus-Internal-Key": INTERNAL_KEY })).access_token;
  await post(`${provider.url}${A}/admin/approve`, { email }, { Authorization: `Bearer ${admin}` });
  const apiToken = (await post(`${provider.url}${A}/token`, { scope: "llm:proxy" }, {
    Authorization: `Bearer ${session}`,
  })).access_token;
  return { session, apiToken };
}

/**
 * Issues {@link DISTINCT_TOKENS} API tokens to the session's user and writes
 * a wrk script that checks them in turn. Returns the script's path.
 */
async function distinctTokensScript(provider: BenchProvider, work: string, session: string): Promise<string> {
  const tokens = await inParallel(
    DISTINCT_TOKENS,
    async () =>
      (await post(`${provider.url}${A}/token`, { scope: "llm:proxy" }, { Authorization: `Bearer ${session}` }))
        .access_token,
  );
  return inTurnScript(work, "distinct", `${A}/check`, tokens);
}

/** Signs in {@link SESSIONS_IN_TURN} new users and writes a wrk script that asks `status` for their sessions in turn. */
async function sessionsScript(provider: BenchProvider, work: string): Promise<string> {
  const sessions = await inParallel(SESSIONS_IN_TURN, (n) => otpSignIn(provider, `in-turn-${n}@example.com`));
  return inTurnScript(work, "sessions", `${A}/status`, sessions);
}

/** `make(0)` … `make(count - 1)`, 8 at a time. */
async function inParallel(count: number, make: (n: number) => Promise<string>): Promise<string[]> {
  const made: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) made.push(await make(next++));
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return made;
}

/**
 * Writes a wrk script that sends `GET path` with each of `tokens` in turn,
 * each of wrk's two threads from its own half of the list, so that a token
 * comes back only after all the others. Returns the script's path.
 */
function inTurnScript(work: string, name: string, path: string, tokens: readonly string[]): string {
  const list = join(work, `${name}-tokens.txt`);
  Deno.writeTextFileSync(list, tokens.join("\n") + "\n");
  const script = join(work, `${name}.lua`);
  Deno.writeTextFileSync(
    script,
    `local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local tokens = {}
for line in io.lines(${JSON.stringify(list)}) do tokens[#tokens + 1] = line end
local next
function init(args)
  next = math.floor(id * #tokens / 2)
end
function request()
  next = next % #tokens + 1
  return wrk.format("GET", "${path}", { ["Authorization"] = "Bearer " .. tokens[next] })
end
`,
  );
  return script;
}

/**
 * OTP sign-ins by wrk ({@link otpPairsScript}): `otp/request` for a new email,
 * `otp/verify` with the code the provider wrote to its stdout file. The rate
 * and the requests are of whole pairs (verifications sent); the latencies
 * are of single requests, as wrk measures every other row's. Each run's
 * emails are new (`run` counts the runs).
 */
async function otpPairs(provider: BenchProvider, work: string, duration: string, run: number): Promise<WrkResult> {
  const script = otpPairsScript(work, `otp-${run}`, { otpFile: provider.stdoutPath, run: String(run) });
  const result = await runWrk(`${provider.url}/`, { connections: CONNECTIONS, duration, script });
  const pairs = result.pairs ?? NaN;
  return { ...result, requests: pairs, rps: result.rps * pairs / result.requests };
}

/**
 * Runs one row unmeasured for {@link WARMUP}, then measures it REPEAT times,
 * each time right after the bare baseline, so that the machine's drift (a
 * shared VM's neighbours, CPU frequency) weighs on both alike; keeps the
 * round with the median ratio. Answers that were not 2xx count from every
 * run, the warm-up's too.
 */
async function rounds(name: string, bare: Served, pid: number, measure: Measure): Promise<Row> {
  const warmup = WARMUP === null ? null : await measure(WARMUP);
  const measured: { result: WrkResult; ratio: number; cpu: number; bareCpu: number }[] = [];
  for (let round = 0; round < REPEAT; round++) {
    const baseline = await withCpu(bare.pid, () => runWrk(bare.url, { connections: CONNECTIONS, duration: DURATION }));
    const { result, cpu } = await withCpu(pid, () => measure(DURATION));
    measured.push({ result, ratio: result.rps / baseline.result.rps, cpu, bareCpu: baseline.cpu });
    baselines.push(baseline);
  }
  const median = middle(measured, (round) => round.ratio);
  return {
    name,
    result: median.result,
    ratio: median.ratio,
    non2xx: measured.reduce((sum, round) => sum + round.result.non2xx, warmup?.non2xx ?? 0),
    socketErrors: [warmup, ...measured.map((round) => round.result)].map((result) => result?.socketErrors)
      .filter(Boolean).join("; "),
    cpuMicros: median.cpu,
    bareCpuMicros: median.bareCpu,
  };
}

/** Runs a row's load for a duration (wrk's form: `4s`) and gives its figures. */
type Measure = (duration: string) => Promise<WrkResult>;

/** Every baseline run of the current store, for its row. */
const baselines: { result: WrkResult; cpu: number }[] = [];

/** The rows of one store. */
async function measureStore(
  provider: BenchProvider,
  work: string,
  bare: Served,
  { revoke, purgeElsewhere }: StoreSetup,
): Promise<Row[]> {
  const { session, apiToken } = await signIn(provider);
  const wrk = (duration: string, path: string, options: { headers?: string[]; script?: string } = {}) =>
    runWrk(`${provider.url}${path}`, { connections: CONNECTIONS, duration, ...options });
  const rows: Row[] = [];
  const row = async (name: string, measure: Measure, pid = provider.pid) =>
    rows.push(await rounds(name, bare, pid, measure));
  if (ONLY.has("headers")) {
    const withHeaders = await startBaseline(BASELINE_WITH_HEADERS);
    const tokenAnswer = await startBaseline(BASELINE_TOKEN_ANSWER);
    try {
      await row(
        "ceiling: bare Deno.serve JSON with the provider's headers",
        (duration) => runWrk(withHeaders.url, { connections: CONNECTIONS, duration }),
        withHeaders.pid,
      );
      const script = postScript(work, "ceiling-token", {
        path: "/api/internal/auth/token",
        body: '{"subject":"bench-worker","audience":"ai.hg.fi/api","scope":"billing:entitlement:check"}',
      });
      await row(
        "ceiling: bare Deno.serve, POST body read, a token answer with the provider's headers",
        (duration) => runWrk(tokenAnswer.url, { connections: CONNECTIONS, duration, script }),
        tokenAnswer.pid,
      );
    } finally {
      await Promise.all([withHeaders.stop(), tokenAnswer.stop()]);
    }
  }
  if (ONLY.has("healthz")) await row("GET /healthz", (duration) => wrk(duration, "/healthz"));
  if (ONLY.has("check")) {
    await row(
      "GET {A}/check (API token)",
      (duration) => wrk(duration, `${A}/check`, { headers: [`Authorization: Bearer ${apiToken}`] }),
    );
  }
  if (ONLY.has("distinct")) {
    const script = await distinctTokensScript(provider, work, session);
    await row(`GET {A}/check (${DISTINCT_TOKENS} API tokens in turn)`, (duration) => wrk(duration, "/", { script }));
  }
  if (ONLY.has("status")) {
    await row(
      "GET {A}/status (session)",
      (duration) => wrk(duration, `${A}/status`, { headers: [`Authorization: Bearer ${session}`] }),
    );
  }
  if (ONLY.has("token")) {
    const script = postScript(work, "token", {
      path: `${A}/token`,
      body: '{"scope":"llm:proxy","ttl_seconds":600}',
      headers: { Authorization: `Bearer ${session}` },
    });
    await row("POST {A}/token (API token issued)", (duration) => wrk(duration, "/", { script }));
  }
  if (ONLY.has("internal")) {
    const script = postScript(work, "internal", {
      path: "/api/internal/auth/token",
      body: '{"subject":"bench-worker","audience":"ai.hg.fi/api","scope":"billing:entitlement:check"}',
      headers: { "X-Bus-Internal-Key": values["wrong-internal-key"] ? `${INTERNAL_KEY}-wrong` : INTERNAL_KEY },
    });
    await row("POST /api/internal/auth/token (shared key)", (duration) => wrk(duration, "/", { script }));
  }
  if (ONLY.has("me")) {
    await row("GET {A}/me", (duration) => wrk(duration, `${A}/me`, { headers: [`Authorization: Bearer ${session}`] }));
  }
  if (ONLY.has("register")) {
    const script = join(work, "register.lua");
    Deno.writeTextFileSync(
      script,
      `local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "${A}/register", {["Content-Type"] = "application/json"},
    '{"email":"u' .. n .. '-' .. math.random(1, 1000000000) .. '@example.com"}')
end
`,
    );
    await row("POST {A}/register (new users)", (duration) => wrk(duration, "/", { script }));
  }
  if (ONLY.has("sessions") || (ONLY.has("purge") && purgeElsewhere !== null)) {
    const script = await sessionsScript(provider, work);
    const name = `GET {A}/status (${SESSIONS_IN_TURN} sessions in turn)`;
    if (ONLY.has("sessions")) await row(name, (duration) => wrk(duration, "/", { script }));
    if (ONLY.has("purge") && purgeElsewhere !== null) {
      await row(`${name.slice(0, -1)}; a purge elsewhere every second)`, async (duration) => {
        let purging = true;
        const purges = (async () => {
          while (purging) {
            await pause(1000);
            if (purging) await purgeElsewhere();
          }
        })();
        try {
          return await wrk(duration, "/", { script });
        } finally {
          purging = false;
          await purges;
        }
      });
    }
  }
  if (ONLY.has("otp")) {
    let runs = 0;
    await row(
      "otp/request + otp/verify pairs (new emails; p50, p99 a request)",
      (duration) => otpPairs(provider, work, duration, ++runs),
    );
  }
  if (ONLY.has("revoked") && revoke !== null) {
    await revoke(REVOKED_ON_RECORD);
    // Long enough for the provider to hear of them (PostgreSQL: a notification each) and find the list too long.
    await pause(3000);
    await row(
      `GET {A}/check (API token; ${REVOKED_ON_RECORD} revoked ids on record)`,
      (duration) => wrk(duration, `${A}/check`, { headers: [`Authorization: Bearer ${apiToken}`] }),
    );
  }
  return rows;
}

/** The provider's environment for one store, and what the rows do to that store behind the provider's back. */
interface StoreSetup {
  env: Record<string, string>;
  /** Writes `count` revocations of unknown token ids, live for a day (none for memory). */
  revoke: ((count: number) => Promise<void>) | null;
  /** Deletes an expired revocation as another replica's purge does (PostgreSQL only). */
  purgeElsewhere: (() => Promise<void>) | null;
}

/** The CPU profiles of main threads in `dir` (the runtime names a worker's `….worker-N.cpuprofile`). */
function mainThreadProfiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name)
    .filter((name) => name.endsWith(".cpuprofile") && !name.includes(".worker-"));
}

/**
 * Stops the provider, which writes its CPU profile into `dir`, and prints the top frames of the profile that was
 * not there `before` (a folder given again keeps the profiles of earlier runs).
 */
async function printProfile(provider: BenchProvider, dir: string, before: ReadonlySet<string>): Promise<void> {
  await provider.stop();
  const files = mainThreadProfiles(dir).filter((name) => !before.has(name));
  if (files.length !== 1) throw new Error(`Expected one new CPU profile of the provider in ${dir}: ${files}`);
  const path = join(dir, files[0]);
  const profile = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
  console.log(`\nprovider CPU profile: ${path}\n${formatTopFrames(topFrames(profile, PROFILE_FRAMES))}`);
}

/** Frames printed of each provider's CPU profile (`--cpu-prof`). */
const PROFILE_FRAMES = 15;

async function storeSetup(store: string, work: string, dispose: (() => Promise<void>)[]): Promise<StoreSetup> {
  if (store === "memory") return { env: {}, revoke: null, purgeElsewhere: null };
  if (store === "sqlite") {
    const path = join(work, "bench.sqlite");
    const revoke = (count: number) =>
      Promise.resolve(insertRevocations(path, count, "bench-revoked-", Date.now() + DAY_MS));
    return { env: { BUS_AUTH_STORE_PATH: path }, revoke, purgeElsewhere: null };
  }
  if (store === "postgres") {
    const cluster = await startPostgresCluster();
    if ("skipped" in cluster) throw new Error(`PostgreSQL is not available: ${cluster.skipped}`);
    dispose.push(() => cluster.dispose());
    const dsn = await cluster.createDatabase("bench_http");
    const sql = postgres(dsn, { max: 1, onnotice: () => {} });
    dispose.unshift(() => sql.end());
    const revoke = async (count: number) => {
      await sql`INSERT INTO bus_auth_revoked_tokens (token_id, expires_at)
        SELECT 'bench-revoked-' || i, now() + interval '1 day' FROM generate_series(1, ${count}::int) AS i`;
    };
    const purgeElsewhere = async () => {
      await sql`INSERT INTO bus_auth_revoked_tokens (token_id, expires_at)
        VALUES (${`bench-expired-${crypto.randomUUID()}`}, now() - interval '1 second')`;
      await sql`DELETE FROM bus_auth_revoked_tokens WHERE expires_at <= now()`;
    };
    return { env: { BUS_AUTH_POSTGRES_DSN: dsn }, revoke, purgeElsewhere };
  }
  throw new Error(`Unknown store "${store}": use memory, sqlite or postgres`);
}

const DAY_MS = 86_400_000;

async function signingEnv(work: string): Promise<Record<string, string>> {
  if (values.alg === "HS256") return {};
  if (values.alg !== "EdDSA" && values.alg !== "ES256") throw new Error(`Unknown --alg "${values.alg}"`);
  const key = generateSigningKey(values.alg);
  const path = join(work, "signing-key.pem");
  await Deno.writeTextFile(path, key.pem, { mode: 0o600 });
  return { BUS_AUTH_SIGNING_ALG: values.alg, BUS_AUTH_SIGNING_KEY_FILE: path };
}

function format(number: number, digits = 0): string {
  return Number.isFinite(number) ? number.toFixed(digits) : "?";
}

const failures: string[] = [];
const denoVersion = Deno.version.deno;
console.log(
  `# bus-api-provider-auth HTTP benchmark, ${new Date().toISOString().slice(0, 10)}: alg=${values.alg} metrics=${
    values.metrics ? "on" : "off"
  } cache-entries=${values["cache-entries"] ?? "default"} connections=${CONNECTIONS} duration=${DURATION} warmup=${
    WARMUP ?? "none"
  } repeat=${REPEAT} cores=${navigator.hardwareConcurrency} deno=${denoVersion}`,
);
for (const store of values.stores.split(",")) {
  const work = await Deno.makeTempDir({ prefix: "bus-auth-bench-" });
  const dispose: (() => Promise<void>)[] = [() => Deno.remove(work, { recursive: true })];
  try {
    const setup = await storeSetup(store, work, dispose);
    const env = {
      BUS_AUTH_HS256_SECRET: "bench-signing-secret-of-at-least-32-bytes",
      BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY,
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_RATE_LIMIT_PER_IP: "0",
      ...(values.metrics ? { BUS_AUTH_METRICS_LISTEN: "127.0.0.1:0" } : {}),
      ...(values["cache-entries"] ? { BUS_AUTH_CACHE_ENTRIES: values["cache-entries"] } : {}),
      ...await signingEnv(work),
      ...setup.env,
    };
    const baseline = await startBaseline();
    dispose.unshift(() => baseline.stop());
    const profileDir = values["cpu-prof"] === undefined ? undefined : join(values["cpu-prof"], store);
    if (profileDir !== undefined) await Deno.mkdir(profileDir, { recursive: true });
    const earlierProfiles = new Set(profileDir === undefined ? [] : mainThreadProfiles(profileDir));
    const provider = await startBenchProvider(env, join(work, "provider.log"), { cpuProfileDir: profileDir });
    dispose.unshift(() => provider.stop());
    baselines.length = 0;
    const rows = await measureStore(provider, work, baseline, setup);
    const memory = provider.memory();
    const bare = middle(baselines, (run) => run.result.rps);
    const bareCpu = middle(baselines, (run) => run.cpu).cpu;
    console.log(`\n## store=${store}`);
    console.log("| endpoint | requests/s | × bare | p50 ms | p99 ms | not 2xx | CPU µs a request (bare's) |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    console.log(
      `| baseline: bare Deno.serve JSON (median of ${baselines.length}) | ${format(bare.result.rps)} | 1.000 | ${
        format(bare.result.p50, 2)
      } | ${format(bare.result.p99, 2)} | ${baselines.reduce((sum, run) => sum + run.result.non2xx, 0)} | ${
        format(bareCpu, 1)
      } |`,
    );
    for (const { name, result, ratio, non2xx, socketErrors, cpuMicros, bareCpuMicros } of rows) {
      console.log(
        `| ${name} | ${format(result.rps)} | ${format(ratio, 3)} | ${format(result.p50, 2)} | ${
          format(result.p99, 2)
        } | ${non2xx}${socketErrors ? ` (${socketErrors})` : ""} | ${format(cpuMicros, 1)} (${
          format(bareCpuMicros, 1)
        }) |`,
      );
      if (non2xx > 0 || socketErrors !== "" || !Number.isFinite(result.rps) || result.requests === 0) {
        failures.push(`${store}: ${name}: ${non2xx} not 2xx, socket errors: ${socketErrors || "none"}`);
      }
    }
    console.log(
      `\nprovider resident memory after the run: ${format(memory.rssMiB)} MiB (peak ${format(memory.peakMiB)} MiB)`,
    );
    if (profileDir !== undefined) await printProfile(provider, profileDir, earlierProfiles);
  } finally {
    for (const step of dispose) await step().catch(() => {});
  }
}
if (failures.length > 0) {
  console.error(`\nFAILED: answers that were not 2xx, or no answer:\n  ${failures.join("\n  ")}`);
  Deno.exit(1);
}
