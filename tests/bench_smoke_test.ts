/**
 * The HTTP benchmark's short mode, so that it keeps working: every store,
 * every row, and a failure for any answer that was not 2xx. Its figures mean
 * nothing here (it shares the cores with the rest of the suite) and are not
 * looked at; performance is shown by running the benchmark itself
 * (`docs/BENCHMARKS.md`). Needs `wrk` and PostgreSQL: skipped without them,
 * a failure under `BUS_AUTH_REQUIRE_SERVICES=1` (CI). And every benchmark
 * script's `--help` and its answer to an option it does not know.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startBenchProvider } from "../bench/_bench_provider.ts";
import { otpPairsScript, runWrk } from "../bench/_wrk.ts";
import { REQUIRE_SERVICES_VARIABLE } from "./helpers/postgres_cluster.ts";

/** Every script of `bench/` with a command line. */
const SCRIPTS = [
  "http_bench.ts",
  "store_bench.ts",
  "admin_bench.ts",
  "startup_bench.ts",
  "cache_bench.ts",
  "cpu_profile.ts",
];
/** The HTTP benchmark, the script most of these tests run ({@link runScript}). */
const BENCH = "http_bench.ts";
/** The measured rows of every store; the baseline row is measured before each of them. */
const ROWS = [
  "ceiling: bare Deno.serve JSON with the provider's headers",
  "ceiling: bare Deno.serve, POST body read, a token answer with the provider's headers",
  "GET /healthz",
  "GET {A}/check (API token)",
  "GET {A}/check (200 API tokens in turn)",
  "GET {A}/status (session)",
  "POST {A}/token (API token issued)",
  "POST /api/internal/auth/token (shared key)",
  "otp/request + otp/verify pairs (new emails; p50, p99 a request)",
];
/** The rows of the stores that hold their revocation list in the provider's cache: SQLite and PostgreSQL. */
const CACHED_STORE_ROWS = ["GET {A}/check (API token; 100001 revoked ids on record)"];

async function hasWrk(): Promise<boolean> {
  try {
    return (await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output()).code !==
      127;
  } catch {
    return false;
  }
}

/** What one run of a benchmark script printed, and its exit code. */
interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bench/<script>` with `args` (`deno run -A`) to its end. */
async function runScript(script: string, ...args: string[]): Promise<ScriptRun> {
  const path = new URL(`../bench/${script}`, import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

const required = Deno.env.get(REQUIRE_SERVICES_VARIABLE) === "1";
const wrk = await hasWrk();
if (!wrk && !required) console.error("bench smoke test skipped: wrk is not installed (Debian package wrk)");

/**
 * A test that runs wrk: skipped where wrk is missing, a failure there under
 * `BUS_AUTH_REQUIRE_SERVICES=1` (CI).
 */
function wrkTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ignore: !wrk && !required,
    fn: async () => {
      assert.ok(wrk, "wrk is required here (BUS_AUTH_REQUIRE_SERVICES=1): apt-get install wrk");
      await fn();
    },
  });
}

wrkTest(
  "bench/http_bench.ts --short measures every row on every store and passes when every answer is 2xx",
  async () => {
    const { code, stdout, stderr } = await runScript(BENCH, "--short");
    assert.equal(code, 0, `the benchmark failed:\n${stdout}\n${stderr}`);
    for (const store of ["memory", "sqlite", "postgres"]) {
      const section = stdout.split(`## store=${store}\n`)[1]?.split("\n## ")[0];
      assert.ok(section, `a table for ${store}`);
      const measured = store === "memory" ? ROWS : [...ROWS, ...CACHED_STORE_ROWS];
      for (const row of [`baseline: bare Deno.serve JSON (median of ${measured.length})`, ...measured]) {
        const line = section.split("\n").find((text) => text.startsWith(`| ${row} |`));
        assert.ok(line, `${store}: a row "${row}"`);
        const cells = line.split("|").map((cell) => cell.trim());
        assert.ok(Number(cells[2]) > 0, `${store}: ${row}: requests per second`);
        assert.equal(cells[6], "0", `${store}: ${row}: every answer 2xx`);
        // CPU µs a request of the measured process, and of the bare baseline (the baseline row: its own only).
        const cpu = row.startsWith("baseline:") ? /^\d+\.\d$/ : /^\d+\.\d \(\d+\.\d\)$/;
        assert.match(cells[7], cpu, `${store}: ${row}: CPU a request`);
      }
      if (store === "memory") assert.ok(!section.includes("revoked ids on record"), "memory: no revoked row");
      assert.match(section, /provider resident memory after the run: \d+ MiB/);
    }
  },
);

wrkTest(
  "the OTP row's wrk script signs new emails in: a verification with the code for each request it counts",
  async () => {
    const work = await Deno.makeTempDir({ prefix: "bench-otp-" });
    const provider = await startBenchProvider({
      BUS_AUTH_HS256_SECRET: "bench-signing-secret-of-at-least-32-bytes",
      BUS_AUTH_OTP_SENDER: "console",
      BUS_AUTH_RATE_LIMIT_PER_IP: "0",
    }, `${work}/provider.log`);
    try {
      // A code the bench itself waits for is found in the same stdout file.
      const email = "smoke@example.com";
      const requested = await fetch(`${provider.url}/api/v1/auth/otp/request`, {
        method: "POST",
        body: JSON.stringify({ email }),
      });
      assert.equal(requested.status, 200, await requested.text());
      assert.match(await provider.otp(email, 5000), /^\d{6}$/);
      const connections = 4;
      for (const run of ["1", "2"]) {
        const script = otpPairsScript(work, `otp-${run}`, { otpFile: provider.stdoutPath, run });
        const result = await runWrk(`${provider.url}/`, { connections, duration: "1s", script });
        assert.equal(result.non2xx, 0, `run ${run}: every answer 2xx (a used or wrong code answers 400)`);
        assert.equal(result.socketErrors, "");
        assert.ok(result.pairs !== undefined && result.pairs > 0, `run ${run}: pairs counted`);
        // Requests alternate: each verification follows its request, and at most one request a connection waits.
        assert.ok(Math.abs(result.requests - 2 * result.pairs) <= 2 * connections, JSON.stringify(result));
      }
      await provider.stop();
      const log = await Deno.readTextFile(`${work}/provider.log`);
      const answered = (path: string) => log.split(`"path":"/api/v1/auth/${path}","status":200`).length - 1;
      assert.ok(answered("otp/verify") > 0 && answered("otp/verify") <= answered("otp/request"), log.slice(-500));
      // Every code went to an email of its own, and both runs made new ones.
      const emails = [...(await Deno.readTextFile(provider.stdoutPath)).matchAll(/email=(wrk-\S+)/g)].map((m) => m[1]);
      assert.equal(new Set(emails).size, emails.length, "no email asked for a code twice");
      assert.ok(emails.some((e) => e.startsWith("wrk-1-")) && emails.some((e) => e.startsWith("wrk-2-")));
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);

wrkTest(
  "bench/http_bench.ts --short measures the rows of sessions in turn, with a purge elsewhere on PostgreSQL",
  async () => {
    const { code, stdout, stderr } = await runScript(
      BENCH,
      "--short",
      "--stores",
      "sqlite,postgres",
      "--only",
      "sessions,purge",
    );
    assert.equal(code, 0, `the benchmark failed:\n${stdout}\n${stderr}`);
    const sessions = "GET {A}/status (200 sessions in turn)";
    const purge = "GET {A}/status (200 sessions in turn; a purge elsewhere every second)";
    for (const [store, rows] of [["sqlite", [sessions]], ["postgres", [sessions, purge]]] as const) {
      const section = stdout.split(`## store=${store}\n`)[1]?.split("\n## ")[0] ?? "";
      for (const row of rows) {
        const cells = section.split("\n").find((text) => text.startsWith(`| ${row} |`))?.split("|").map((c) =>
          c.trim()
        );
        assert.ok(cells, `${store}: a row "${row}"`);
        assert.ok(Number(cells[2]) > 0, `${store}: ${row}: requests per second`);
        assert.equal(cells[6], "0", `${store}: ${row}: every answer 2xx`);
      }
      if (store === "sqlite") assert.ok(!section.includes("purge elsewhere"), "sqlite: no purge row");
    }
  },
);

wrkTest("bench/http_bench.ts fails loudly, after its table, when answers are not 2xx", async () => {
  // An internal key the provider does not have: every internal token request is refused with 403.
  const { code, stdout, stderr } = await runScript(
    BENCH,
    "--short",
    "--stores",
    "memory",
    "--only",
    "internal",
    "--wrong-internal-key",
  );
  assert.equal(code, 1, stdout + stderr);
  assert.match(
    stdout,
    /\| POST \/api\/internal\/auth\/token \(shared key\) \| [\d.]+ \| [\d.]+ \| [\d.?]+ \| [\d.?]+ \| [1-9]\d* \|/,
  );
  assert.match(
    stderr,
    /FAILED: answers that were not 2xx, or no answer:\n {2}memory: POST \/api\/internal\/auth\/token/,
  );
});

wrkTest("bench/http_bench.ts --cpu-prof writes the provider's CPU profile and prints its top frames", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bench-profile-" });
  try {
    // Twice into the same folder: each run prints the profile it wrote, not one of an earlier run.
    const printedPaths: string[] = [];
    for (let run = 0; run < 2; run++) {
      const { code, stdout, stderr } = await runScript(
        BENCH,
        "--short",
        "--stores",
        "memory",
        "--only",
        "check",
        "--cpu-prof",
        dir,
      );
      assert.equal(code, 0, `the benchmark failed:\n${stdout}\n${stderr}`);
      const printed = stdout.split("provider CPU profile: ")[1] ?? "";
      assert.ok(printed.startsWith(`${dir}/memory/`), stdout);
      printedPaths.push(printed.split("\n")[0]);
      assert.match(printed, /\n\d+ samples, \d+\.\d % idle \(outside JavaScript\); shares of the others:\n/);
      // The route it measured is in the profile, below the lane that answered it.
      assert.match(printed, /\| \d+\.\d \| answerInLane server\/fast_lane\.ts:\d+ \|/);
    }
    const profiles = [...Deno.readDirSync(`${dir}/memory`)].map((entry) => `${dir}/memory/${entry.name}`)
      .filter((path) => path.endsWith(".cpuprofile"));
    assert.deepEqual(profiles.sort(), [...printedPaths].sort(), "one profile a run, each printed once");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every benchmark script prints its usage for --help and refuses an unknown option in one line", async () => {
  for (const script of SCRIPTS) {
    const help = await runScript(script, "--help");
    assert.equal(help.code, 0, `${script} --help: ${help.stderr}`);
    assert.ok(help.stdout.startsWith(`usage: deno run -A bench/${script}`), help.stdout);
    const wrong = await runScript(script, "--no-such-option");
    assert.equal(wrong.code, 2, script);
    // One line of error (node:util's words, longer where a script takes file names), then the usage.
    assert.match(wrong.stderr, /^error: Unknown option '--no-such-option'[^\n]*\nusage: /, wrong.stderr);
    assert.ok(!wrong.stderr.includes("    at "), `${script}: no stack trace`);
  }
});

Deno.test("bench/cache_bench.ts prints the hit rates of every pattern next to exact LRU, and the times", async () => {
  const { code, stdout, stderr } = await runScript("cache_bench.ts", "--capacity", "100", "--uses", "6000");
  assert.equal(code, 0, stdout + stderr);
  const rows = stdout.split("\n").filter((line) => /^\| [^-|]/.test(line) && !line.startsWith("| uses"));
  assert.equal(rows.length, 7, stdout);
  for (const row of rows) assert.match(row, /\| \d+\.\d % \| \d+\.\d % \|$/);
  const inTurn = rows.find((row) => row.startsWith("| 120 keys in turn"));
  assert.match(
    inTurn ?? "",
    /^\| 120 keys in turn \| 0\.0 % \| [1-9]\d\.\d % \|$/,
    "LRU finds none, the map a good part",
  );
  assert.match(stdout, /a hit [\d.]+ ns, an insertion into the full map [\d.]+ ns \(values read\)/);
});
