/**
 * `bus auth` / `bus-auth`: the end-user client of the auth provider.
 *
 * @module
 */

import { normalizeEmail } from "../../lib/email.ts";
import { VERSION } from "../../version.ts";
import { EXIT, type Io, type Program } from "../program.ts";
import { resolveProviderUrls } from "../shared/base_url.ts";
import { RefusedError, UsageError } from "../shared/errors.ts";
import {
  defaultApiTokenPath,
  defaultSessionTokenPath,
  readSecretFile,
  refuseRepositoryLocalBus,
  removeFile,
  writeSecretFile,
} from "../shared/files.ts";
import { requestJson } from "../shared/http.ts";
import { choiceOption, CLIENT_OPTIONS, durationOption, parseCommandLine } from "../shared/options.ts";
import { emit, fields, jsonText, type OutputTarget } from "../shared/output.ts";
import { runGuarded } from "../shared/run.ts";
import { AUTH_COMMANDS, AUTH_SYNOPSIS, authHelp, commandHelp } from "./help.ts";

/** `bus auth`. */
export const authProgram: Program = {
  name: "bus-auth",
  summary: "register, sign in with an email code, request API tokens",
  run: (args, io) => runGuarded("bus-auth", AUTH_SYNOPSIS, io, () => runAuth(args, io)),
};

const OPTIONS = {
  ...CLIENT_OPTIONS,
  "token-file": { type: "string" },
  email: { type: "string" },
  otp: { type: "string" },
  scope: { type: "string" },
  ttl: { type: "string" },
  api: { type: "boolean" },
} as const;

/** Options each command takes besides the global ones. */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  register: ["email"],
  login: ["email"],
  verify: ["email", "otp"],
  status: [],
  token: ["scope", "ttl"],
  refresh: [],
  logout: [],
  me: [],
  check: ["api"],
};
const COMMAND_ONLY = ["email", "otp", "scope", "ttl", "api"] as const;

type Values = ReturnType<typeof parseCommandLine<typeof OPTIONS>>["values"];
type Json = Record<string, unknown>;

/** Everything a command needs after parsing. */
interface AuthRun {
  io: Io;
  values: Values;
  target: OutputTarget;
  json: boolean;
  authBase: string;
  timeoutSeconds: number;
}

async function runAuth(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  const command = positionals[0];
  if (values.version) {
    io.stdout(`bus-auth ${VERSION}\n`);
    return EXIT.ok;
  }
  if (values.help || command === "help") {
    const topic = command === "help" ? positionals[1] : command;
    io.stdout(topic !== undefined && topic in AUTH_COMMANDS ? commandHelp(topic) : authHelp());
    return EXIT.ok;
  }
  if (command === undefined) throw new UsageError("a command is required");
  if (!(command in COMMAND_OPTIONS)) throw new UsageError(`unknown command "${command}"`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  for (const option of COMMAND_ONLY) {
    if (values[option] !== undefined && !COMMAND_OPTIONS[command].includes(option)) {
      throw new UsageError(`--${option} does not go with ${command}`);
    }
  }
  const apiUrl = values["api-url"] ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL");
  // Refuse unusable output paths before anything changes at the provider.
  if (values.output !== undefined) refuseRepositoryLocalBus(values.output);
  const run: AuthRun = {
    io,
    values,
    target: { quiet: values.quiet === true, output: values.output },
    json: choiceOption("format", values.format ?? "text", ["text", "json"]) === "json",
    authBase: resolveProviderUrls(apiUrl).authBase,
    timeoutSeconds: durationOption("timeout", values.timeout ?? "30s"),
  };
  return await COMMANDS[command](run);
}

const COMMANDS: Record<string, (run: AuthRun) => Promise<number>> = {
  register: async (run) => {
    const email = requiredEmail(run);
    const user = await call(run, "POST", "/register", { body: { email } });
    say(
      run,
      user,
      () =>
        `Registered ${user.email} (user ${user.user_id}): ${user.status}, email ${
          user.verified ? "verified" : "not verified"
        }.\nNext: bus auth login --email ${user.email}\n`,
    );
    return EXIT.ok;
  },

  login: async (run) => {
    const email = requiredEmail(run);
    const sent = await call(run, "POST", "/otp/request", { body: { email } });
    say(run, sent, () =>
      `Sent a sign-in code to ${email}; it expires in ${minutes(Number(sent.expires_in))}.\n` +
      `Next: bus auth verify --email ${email} --otp <code>\n`);
    return EXIT.ok;
  },

  verify: async (run) => {
    const email = requiredEmail(run);
    const otp = run.values.otp;
    if (otp === undefined) throw new UsageError("verify needs --otp <code>");
    const path = sessionTokenPath(run);
    refuseRepositoryLocalBus(path);
    const grant = await call(run, "POST", "/otp/verify", { body: { email, otp } });
    writeSecretFile(path, `${String(grant.access_token)}\n`);
    say(
      run,
      grant,
      () =>
        `Verified ${email}. Status: ${grant.status}.\nSaved the session token to ${path} (valid until ${grant.expires_at}).\n` +
        (grant.status === "waitlisted" ? "An operator must approve the account before bus auth token works.\n" : ""),
    );
    return EXIT.ok;
  },

  status: async (run) => {
    const status = await call(run, "GET", "/status", { bearer: sessionToken(run) });
    say(run, status, () => userFields(status));
    return EXIT.ok;
  },

  token: async (run) => {
    const scope = run.values.scope;
    if (scope === undefined || scope.trim() === "") throw new UsageError('token needs --scope "<scopes>"');
    const ttl = run.values.ttl === undefined ? undefined : durationOption("ttl", run.values.ttl);
    const path = defaultApiTokenPath(run.io.env);
    refuseRepositoryLocalBus(path);
    const issued = await call(run, "POST", "/token", {
      bearer: sessionToken(run),
      body: ttl === undefined ? { scope } : { scope, ttl_seconds: ttl },
    });
    writeSecretFile(path, `${String(issued.access_token)}\n`);
    say(run, issued, () =>
      `Saved an API token for scope "${issued.scope}" to ${path}.\n` +
      `Audience ${issued.audience}, valid until ${issued.expires_at} (${issued.expires_in} s).\n`);
    return EXIT.ok;
  },

  refresh: async (run) => {
    const path = sessionTokenPath(run);
    refuseRepositoryLocalBus(path);
    const grant = await call(run, "POST", "/token/refresh", { bearer: sessionToken(run) });
    writeSecretFile(path, `${String(grant.access_token)}\n`);
    say(run, grant, () => `Refreshed the session; saved to ${path} (valid until ${grant.expires_at}).\n`);
    return EXIT.ok;
  },

  logout: async (run) => {
    const path = sessionTokenPath(run);
    let note = "Signed out";
    try {
      await call(run, "POST", "/logout", { bearer: sessionToken(run) });
    } catch (error) {
      // A session the provider no longer accepts is over anyway: clear it locally.
      if (!(error instanceof RefusedError && error.status === 401)) throw error;
      note = "The session had already ended";
    }
    const removed = [path, defaultApiTokenPath(run.io.env)].filter(removeFile);
    const result = { status: "signed_out", removed };
    say(run, result, () => `${note}; removed ${removed.length > 0 ? removed.join(" and ") : "no local files"}.\n`);
    return EXIT.ok;
  },

  me: async (run) => {
    const me = await call(run, "GET", "/me", { bearer: sessionToken(run) });
    say(run, me, () => userFields(me));
    return EXIT.ok;
  },

  check: async (run) => {
    const bearer = run.values.api
      ? readSecretFile(defaultApiTokenPath(run.io.env), "API token file", run.io)
      : sessionToken(run);
    const claims = await call(run, "GET", "/check", { bearer });
    const time = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();
    say(run, claims, () =>
      fields([
        ["Subject", String(claims.sub)],
        ["Audience", String(claims.aud)],
        ["Scope", String(claims.scope) || "(none)"],
        ["Issuer", String(claims.iss)],
        ["Issued", time(claims.iat)],
        ["Expires", time(claims.exp)],
        ["Token ID", String(claims.jti)],
      ]));
    return EXIT.ok;
  },
};

/** The user of `status` (no email) or `me` as aligned fields. */
function userFields(user: Json): string {
  return fields([
    ["User ID", String(user.user_id)],
    ...(user.email === undefined ? [] : [["Email", String(user.email)] as const]),
    ["Verified", user.verified ? "yes" : "no"],
    ["Status", String(user.status)],
    ...(user.account_id ? [["Account ID", String(user.account_id)] as const] : []),
  ]);
}

function requiredEmail(run: AuthRun): string {
  const email = run.values.email;
  if (email === undefined) throw new UsageError("this command needs --email <email>");
  return normalizeEmail(email);
}

/** Where the session token lives: `--token-file`, else `auth/token` under the config root. */
function sessionTokenPath(run: AuthRun): string {
  return run.values["token-file"] ?? defaultSessionTokenPath(run.io.env);
}

/**
 * The session token: `--token-file`, else `BUS_AUTH_TOKEN`, else the stored
 * `auth/token`.
 */
function sessionToken(run: AuthRun): string {
  const file = run.values["token-file"];
  if (file !== undefined) return readSecretFile(file, "token file", run.io);
  const fromEnv = run.io.env.BUS_AUTH_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const path = defaultSessionTokenPath(run.io.env);
  try {
    Deno.statSync(path);
  } catch {
    throw new UsageError(
      `not signed in: no session token at ${path}; run bus auth login and bus auth verify (or use --token-file or BUS_AUTH_TOKEN)`,
    );
  }
  return readSecretFile(path, "session token file", run.io);
}

async function call(
  run: AuthRun,
  method: "GET" | "POST",
  path: string,
  options: { bearer?: string; body?: unknown },
): Promise<Json> {
  const body = await requestJson({
    method,
    url: `${run.authBase}${path}`,
    bearer: options.bearer,
    body: options.body ?? (method === "POST" ? {} : undefined),
    timeoutSeconds: run.timeoutSeconds,
  });
  return (body ?? {}) as Json;
}

/** Prints the server's JSON with --format json, else the human text. */
function say(run: AuthRun, json: Json, human: () => string): void {
  emit(run.io, run.target, run.json ? jsonText(json) : human());
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
}
