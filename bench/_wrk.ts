/**
 * Runs wrk against one URL and reads its figures: requests per second, the
 * p50 and p99 latency, and every answer that was not 2xx or never came
 * (wrk's "Non-2xx or 3xx responses" and socket errors).
 *
 * @module
 */

/** The figures of one wrk run. */
export interface WrkResult {
  requests: number;
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Answers that were not 2xx (wrk counts 3xx too; no route here answers one). */
  non2xx: number;
  /** Connect, read, write and timeout errors, as wrk words them; empty when none. */
  socketErrors: string;
  /** OTP sign-ins whose `otp/verify` was sent, for a run of {@link otpPairsScript}; undefined for other scripts. */
  pairs?: number;
}

/** How wrk runs. */
export interface WrkOptions {
  connections: number;
  duration: string;
  headers?: string[];
  /** A Lua script (path) that builds the requests. */
  script?: string;
}

/** Runs wrk (2 threads) and parses its report. @throws when wrk is missing or its report cannot be read */
export async function runWrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const args = ["-t2", `-c${options.connections}`, `-d${options.duration}`, "--latency"];
  for (const header of options.headers ?? []) args.push("-H", header);
  if (options.script) args.push("-s", options.script);
  args.push(url);
  const output = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success || !/Requests\/sec:/.test(text)) {
    throw new Error(`wrk failed on ${url}: ${new TextDecoder().decode(output.stderr).trim() || text.trim()}`);
  }
  const socket = /Socket errors: (.*)/.exec(text)?.[1] ?? "";
  const pairs = /^OTP pairs: (\d+)$/m.exec(text)?.[1];
  return {
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    p50: milliseconds(/^\s+50%\s+(\S+)/m.exec(text)?.[1]),
    p99: milliseconds(/^\s+99%\s+(\S+)/m.exec(text)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: socket.trim(),
    pairs: pairs === undefined ? undefined : Number(pairs),
  };
}

/** wrk's `812.00us`, `1.23ms`, `2.00s` in milliseconds. */
export function milliseconds(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? "");
  if (!match) return NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2]]!;
  return Number(match[1]) * scale;
}

/** Writes a wrk Lua script that sends one POST with a JSON body and headers; returns its path. */
export function postScript(
  dir: string,
  name: string,
  options: { path: string; body: string; headers?: Record<string, string> },
): string {
  const headers = { "Content-Type": "application/json", ...options.headers };
  const lua = `request = function()
  return wrk.format("POST", ${luaString(options.path)}, {${
    Object.entries(headers).map(([key, value]) => `[${luaString(key)}] = ${luaString(value)}`).join(", ")
  }}, ${luaString(options.body)})
end
`;
  const path = `${dir}/${name}.lua`;
  Deno.writeTextFileSync(path, lua);
  return path;
}

function luaString(value: string): string {
  return JSON.stringify(value);
}

/**
 * Writes a wrk Lua script of OTP sign-ins for new emails and returns its path.
 * Each of wrk's threads sends `otp/request` for `wrk-<run>-<thread>-<n>@example.com`
 * and, as soon as the provider's console sender has written that email's code
 * to `otpFile` (its stdout, read on from where the thread last stopped before
 * each request), `otp/verify` with it: a connection sends a verification
 * whenever one of its thread's codes is waiting, a new request otherwise.
 * wrk reports the latency of each request; the script prints
 * `OTP pairs: N`, the verifications sent, for {@link runWrk}. `run` keeps the
 * emails of each run new. (wrk calls `request()` once on its first thread to
 * check the script, and drops what it builds: that email never asks.)
 */
export function otpPairsScript(dir: string, name: string, options: { otpFile: string; run: string }): string {
  const lua = `local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  prefix = "wrk-" .. ${luaString(options.run)} .. "-" .. id .. "-"
  pattern = "BUS_AUTH_OTP email=(" .. prefix:gsub("%-", "%%-") .. "%d+@example%.com) otp=(%d+)"
  file = assert(io.open(${luaString(options.otpFile)}, "r"))
  file:seek("end")
  unread = ""
  codes, first, last = {}, 1, 0
  sent, verified = 0, 0
end
local headers = { ["Content-Type"] = "application/json" }
local function read_codes()
  file:seek("cur") -- clears the end-of-file mark, so that the read sees what was written since
  local chunk = file:read("*a")
  if chunk == nil or chunk == "" then return end
  unread = unread .. chunk
  for line in unread:gmatch("([^\\n]*)\\n") do
    local email, code = line:match(pattern)
    if email then
      last = last + 1
      codes[last] = '{"email":"' .. email .. '","otp":"' .. code .. '"}'
    end
  end
  unread = unread:match("([^\\n]*)$")
end
function request()
  read_codes()
  if first <= last then
    local body = codes[first]
    codes[first] = nil
    first = first + 1
    verified = verified + 1
    return wrk.format("POST", "/api/v1/auth/otp/verify", headers, body)
  end
  sent = sent + 1
  return wrk.format("POST", "/api/v1/auth/otp/request", headers, '{"email":"' .. prefix .. sent .. '@example.com"}')
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("verified") end
  io.write(string.format("OTP pairs: %d\\n", total))
end
`;
  const path = `${dir}/${name}.lua`;
  Deno.writeTextFileSync(path, lua);
  return path;
}
