/**
 * `bus auth` / `bus-auth`: the end-user client of the auth provider.
 *
 * @module
 */

import { normalizeEmail } from "../../lib/email.ts";
import { versionLine } from "../../lib/version.ts";
import { EXIT, type Io, type Program } from "../../lib/program.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { resolveProviderUrls } from "../shared/base_url.ts";
import { RefusedError, UsageError } from "../shared/errors.ts";
import {
  defaultApiTokenPath,
  refuseRepositoryLocalBus,
  removeFile,
  secureConfigFolders,
  writeSecretFile,
} from "../shared/files.ts";
import { requestJson } from "../shared/http.ts";
import { choiceOption, CLIENT_OPTIONS, durationOption, parseCommandLine } from "../shared/options.ts";
import { emit, emitToken, fields, jsonText, type OutputTarget, withoutToken } from "../shared/output.ts";
import { runGuarded } from "../shared/run.ts";
import { isStandardInput, readSecretFile } from "../shared/secret_input.ts";
import { AUTH_COMMANDS, AUTH_SYNOPSIS, authHelp, commandHelp } from "./help.ts";
import { type HintSet, withHint } from "./hints.ts";
import { NotSignedInError, readSessionToken, sessionSource, sessionWritePath } from "./session_file.ts";

/** `bus auth`. */
export const authProgram: Program = {
  name: "bus-auth",
  summary: "register, sign in with an email code, request API tokens",
  run: (args, io) => runGuarded("bus-auth", AUTH_SYNOPSIS, io, args, () => runAuth(args, io)),
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
/** Commands that receive a token and may print it with --format token. */
const TOKEN_COMMANDS = ["verify", "token", "refresh"];

type Values = ReturnType<typeof parseCommandLine<typeof OPTIONS>>["values"];
type Json = Record<string, unknown>;

/** Everything a command needs after parsing. */
interface AuthRun {
  io: Io;
  values: Values;
  target: OutputTarget;
  format: "text" | "json" | "token";
  authBase: string;
  timeoutSeconds: number;
}

async function runAuth(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  const command = positionals[0];
  if (values.version) {
    io.stdout(versionLine("bus-auth", io.build));
    return EXIT.ok;
  }
  if (values.help || command === "help") {
    const topic = command === "help" ? positionals[1] : command;
    io.stdout(topic !== undefined && topic in AUTH_COMMANDS ? commandHelp(topic) : authHelp());
    return EXIT.ok;
  }
  if (command === undefined) throw new UsageError("a command is required");
  if (!(command in COMMAND_OPTIONS)) {
    throw new UsageError(`unknown command "${command}"${didYouMean(command, Object.keys(COMMAND_OPTIONS))}`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  for (const option of COMMAND_ONLY) {
    if (values[option] !== undefined && !COMMAND_OPTIONS[command].includes(option)) {
      throw new UsageError(`--${option} does not go with ${command}`);
    }
  }
  const format = choiceOption("format", values.format ?? "text", ["text", "json", "token"]);
  if (format === "token" && !TOKEN_COMMANDS.includes(command)) {
    throw new UsageError(`--format token only goes with ${TOKEN_COMMANDS.join(", ")}`);
  }
  const apiUrl = values["api-url"] ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL");
  // Refuse unusable output paths before anything changes at the provider.
  if (values.output !== undefined) refuseRepositoryLocalBus(values.output);
  const run: AuthRun = {
    io,
    values,
    target: { quiet: values.quiet === true, output: values.output },
    format,
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
    const path = sessionWritePath(run.values["token-file"], run.io);
    refuseRepositoryLocalBus(path);
    secureConfigFolders(path, run.io);
    const grant = await call(run, "POST", "/otp/verify", { body: { email, otp }, hints: "otp", email });
    writeSecretFile(path, `${String(grant.access_token)}\n`);
    sayToken(
      run,
      grant,
      path,
      () =>
        `Verified ${email}. Status: ${grant.status}.\nSaved the session token to ${path} (valid until ${grant.expires_at}).\n` +
        (grant.status === "waitlisted" ? "An operator must approve the account before bus auth token works.\n" : "") +
        (grant.status === "rejected" ? "An operator rejected this registration: bus auth token is refused.\n" : ""),
    );
    return EXIT.ok;
  },

  status: async (run) => {
    const status = await call(run, "GET", "/status", { bearer: await sessionToken(run), hints: "session" });
    say(run, status, () => userFields(status));
    return EXIT.ok;
  },

  token: async (run) => {
    const scope = run.values.scope;
    if (scope === undefined || scope.trim() === "") throw new UsageError('token needs --scope "<scopes>"');
    const ttl = run.values.ttl === undefined ? undefined : durationOption("ttl", run.values.ttl);
    const path = defaultApiTokenPath(run.io.env);
    refuseRepositoryLocalBus(path);
    secureConfigFolders(path, run.io);
    const issued = await call(run, "POST", "/token", {
      bearer: await sessionToken(run),
      body: ttl === undefined ? { scope } : { scope, ttl_seconds: ttl },
      hints: "session",
    });
    writeSecretFile(path, `${String(issued.access_token)}\n`);
    sayToken(run, issued, path, () =>
      `Saved an API token for scope "${issued.scope}" to ${path}.\n` +
      `Audience ${issued.audience}, valid until ${issued.expires_at} (${issued.expires_in} s).\n`);
    return EXIT.ok;
  },

  refresh: async (run) => {
    const path = sessionWritePath(run.values["token-file"], run.io);
    refuseRepositoryLocalBus(path);
    secureConfigFolders(path, run.io);
    const grant = await call(run, "POST", "/token/refresh", { bearer: await sessionToken(run), hints: "session" });
    writeSecretFile(path, `${String(grant.access_token)}\n`);
    sayToken(run, grant, path, () => `Refreshed the session; saved to ${path} (valid until ${grant.expires_at}).\n`);
    return EXIT.ok;
  },

  logout: async (run) => {
    const source = sessionSource(run.values["token-file"], run.io);
    let note = "Signed out";
    try {
      await call(run, "POST", "/logout", { bearer: await readSessionToken(source, run.io) });
    } catch (error) {
      if (error instanceof NotSignedInError) {
        // Nothing to end: a second logout succeeds quietly.
        const removed = [defaultApiTokenPath(run.io.env)].filter(removeFile);
        if (run.format === "json") say(run, { status: "signed_out", removed }, () => "");
        return EXIT.ok;
      }
      // A session the provider no longer accepts is over anyway: clear it locally.
      if (!(error instanceof RefusedError && error.status === 401)) throw error;
      note = "The session had already ended";
    }
    const files = source.kind === "file" && !isStandardInput(source.path) ? [source.path] : [];
    const removed = [...files, defaultApiTokenPath(run.io.env)].filter(removeFile);
    const result = { status: "signed_out", removed };
    say(run, result, () => `${note}; removed ${removed.length > 0 ? removed.join(" and ") : "no local files"}.\n`);
    return EXIT.ok;
  },

  me: async (run) => {
    const me = await call(run, "GET", "/me", { bearer: await sessionToken(run), hints: "session" });
    say(run, me, () => userFields(me));
    return EXIT.ok;
  },

  check: async (run) => {
    const api = run.values.api === true;
    const bearer = api
      ? await readSecretFile(defaultApiTokenPath(run.io.env), "API token file", run.io)
      : await sessionToken(run);
    const claims = await call(run, "GET", "/check", { bearer, hints: api ? "api_token" : "session" });
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

function sessionToken(run: AuthRun): Promise<string> {
  return readSessionToken(sessionSource(run.values["token-file"], run.io), run.io);
}

async function call(
  run: AuthRun,
  method: "GET" | "POST",
  path: string,
  options: { bearer?: string; body?: unknown; hints?: HintSet; email?: string },
): Promise<Json> {
  try {
    const body = await requestJson({
      method,
      url: `${run.authBase}${path}`,
      bearer: options.bearer,
      body: options.body ?? (method === "POST" ? {} : undefined),
      timeoutSeconds: run.timeoutSeconds,
    });
    return (body ?? {}) as Json;
  } catch (error) {
    throw withHint(error, options.hints ?? "none", options.email);
  }
}

/** Prints the server's JSON with --format json, else the human text. */
function say(run: AuthRun, json: Json, human: () => string): void {
  emit(run.io, run.target, run.format === "json" ? jsonText(json) : human());
}

/**
 * Output of a command that received a token and saved it to `file`: the raw
 * token only with --format token; JSON names the file instead of the token.
 */
function sayToken(run: AuthRun, answer: Json, file: string, human: () => string): void {
  const token = String(answer.access_token);
  if (run.format === "token") emitToken(run.io, run.target, `${token}\n`, token);
  else say(run, { ...withoutToken(answer), token_file: file }, human);
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
}
