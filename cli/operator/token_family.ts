/**
 * `bus operator token` / `bus-operator-token`: service-token bootstrap,
 * remotely through the provider's internal endpoint or `--local` with the
 * same claims code as the provider (signed with the HS256 secret or an
 * EdDSA/ES256 key file), revocation of a token by its id, and
 * `keys generate` for new signing key files.
 *
 * @module
 */

import { decodeJwt } from "jose";
import {
  AUDIENCE,
  buildClaims,
  DEFAULT_ISSUER,
  isKnownAudience,
  isValidSubject,
  MAX_TOKEN_LIFETIME_SECONDS,
} from "../../lib/claims.ts";
import { signToken } from "../../lib/jwt.ts";
import { formatScope, parseScope } from "../../lib/scopes.ts";
import { versionLine } from "../../lib/version.ts";
import { EXIT, type Io, type Program } from "../../lib/program.ts";
import { resolveProviderUrls } from "../shared/base_url.ts";
import { FailureError, UsageError } from "../shared/errors.ts";
import { refuseRepositoryLocalBus } from "../shared/files.ts";
import { readSecretFile, secretFromEnvironment } from "../shared/secret_input.ts";
import { keysGenerate, localSigningKeys } from "./token_keys.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { isCanonicalUuid } from "../../lib/uuid.ts";
import { requestJson } from "../shared/http.ts";
import { choiceOption, CLIENT_OPTIONS, durationOption, parseCommandLine } from "../shared/options.ts";
import { emit, emitToken, jsonText, type OutputTarget, tokenPrefix, withoutToken } from "../shared/output.ts";
import { runGuarded } from "../shared/run.ts";
import { OPERATOR_TOKEN_SYNOPSIS, operatorTokenHelp } from "./help.ts";

/** `bus operator token`. */
export const operatorTokenProgram: Program = {
  name: "bus-operator-token",
  summary: "issue service tokens, remotely or --local",
  run: (args, io) =>
    runGuarded("bus-operator-token", OPERATOR_TOKEN_SYNOPSIS, io, args, () => runOperatorToken(args, io)),
};

const OPTIONS = {
  ...CLIENT_OPTIONS,
  "internal-key-file": { type: "string" },
  "hs256-secret-file": { type: "string" },
  "signing-key-file": { type: "string" },
  local: { type: "boolean" },
  subject: { type: "string" },
  audience: { type: "string" },
  scope: { type: "string" },
  ttl: { type: "string" },
  "token-file": { type: "string" },
  jti: { type: "string" },
  "client-id": { type: "string" },
  "client-secret-file": { type: "string" },
  alg: { type: "string" },
  out: { type: "string" },
} as const;

const COMMANDS = ["issue", "revoke", "keys"];
/** Options of issue that revoke does not take. */
const ISSUE_ONLY = [
  "local",
  "internal-key-file",
  "hs256-secret-file",
  "signing-key-file",
  "subject",
  "audience",
  "scope",
  "ttl",
  "client-id",
  "client-secret-file",
] as const;
/** Options of issue that the client-credentials grant does not take: the client fixes subject and audience. */
const NOT_WITH_CLIENT = [
  "local",
  "internal-key-file",
  "hs256-secret-file",
  "signing-key-file",
  "subject",
  "audience",
] as const;
/** Options of revoke that issue does not take. */
const REVOKE_ONLY = ["token-file", "jti"] as const;
/** Options of keys generate, which takes none of the others but --format. */
const KEYS_ONLY = ["alg", "out"] as const;
/** The options each command refuses. */
const REFUSED: Readonly<Record<string, readonly (keyof typeof OPTIONS)[]>> = {
  issue: [...REVOKE_ONLY, ...KEYS_ONLY],
  revoke: [...ISSUE_ONLY, ...KEYS_ONLY],
  keys: [...ISSUE_ONLY, ...REVOKE_ONLY, "api-url", "timeout", "output", "quiet"],
};

/** Default lifetime of `--local` tokens ("short-lived"). */
const LOCAL_DEFAULT_TTL_SECONDS = 600;
/** Longest `--local` lifetime (the provider's own ceiling for internal tokens). */
const LOCAL_MAX_TTL_SECONDS = MAX_TOKEN_LIFETIME_SECONDS;

type Values = ReturnType<typeof parseCommandLine<typeof OPTIONS>>["values"];

/** The request, validated the same way the provider validates it. */
interface IssueRequest {
  subject: string;
  audience: string;
  scope: string;
  ttlSeconds?: number;
}

async function runOperatorToken(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.version) {
    io.stdout(versionLine("bus-operator-token", io.build));
    return EXIT.ok;
  }
  if (values.help || positionals[0] === "help") {
    io.stdout(operatorTokenHelp());
    return EXIT.ok;
  }
  const [command, ...words] = positionals;
  if (command === undefined || !COMMANDS.includes(command)) {
    throw new UsageError(
      command === undefined
        ? "a command is required: issue, revoke or keys generate"
        : `unknown command "${command}"${didYouMean(command, COMMANDS)}`,
    );
  }
  if (command === "keys" && words[0] !== "generate") {
    throw new UsageError(
      words[0] === undefined ? "keys needs a command: generate" : `unknown keys command "${words[0]}"`,
    );
  }
  const extra = command === "keys" ? words[1] : words[0];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  for (const option of REFUSED[command]) {
    if (values[option] !== undefined) {
      throw new UsageError(`--${option} does not go with ${command === "keys" ? "keys generate" : command}`);
    }
  }
  if (command === "keys") return keysGenerate({ alg: values.alg, out: values.out, format: values.format }, io);
  const target: OutputTarget = { quiet: values.quiet === true, output: values.output };
  if (values.output !== undefined) refuseRepositoryLocalBus(values.output);
  if (command === "revoke") return await revoke(values, target, io);
  const format = choiceOption("format", values.format ?? "json", ["json", "token"]);

  let envelope: Record<string, unknown>;
  if (values["client-id"] !== undefined || values["client-secret-file"] !== undefined) {
    envelope = await issueAsClient(values, io);
  } else if (values.local) {
    const request = readRequest(values);
    for (const remoteOnly of ["api-url", "internal-key-file", "timeout"] as const) {
      if (values[remoteOnly] !== undefined) throw new UsageError(`--${remoteOnly} does not go with --local`);
    }
    envelope = await issueLocally(request, values, io);
  } else {
    for (const localOnly of ["hs256-secret-file", "signing-key-file"] as const) {
      if (values[localOnly] !== undefined) throw new UsageError(`--${localOnly} only goes with --local`);
    }
    envelope = await issueRemotely(readRequest(values), values, io);
  }
  if (envelope.ttl_capped === true) {
    io.stderr(`warning: the provider capped the token lifetime to ${envelope.expires_in} s\n`);
  }
  const token = String(envelope.access_token);
  envelope = { ...envelope, jti: tokenId(token) };
  if (format === "token" && target.output !== undefined) {
    // Only the path, the prefix and the id on stdout: the id is what `revoke --jti` needs.
    emitToken(io, { ...target, quiet: true }, `${token}\n`, token);
    if (!target.quiet) io.stdout(`Wrote the token ${tokenPrefix(token)} (jti ${envelope.jti}) to ${target.output}\n`);
  } else if (format === "token") {
    emitToken(io, target, `${token}\n`, token);
  } else if (target.output !== undefined) {
    // The file gets the whole envelope; stdout names the file and the token's prefix.
    emitToken(io, { ...target, quiet: true }, jsonText(envelope), token);
    if (!target.quiet) {
      io.stdout(jsonText({ ...withoutToken(envelope), token_prefix: tokenPrefix(token), token_file: target.output }));
    }
  } else {
    emit(io, target, jsonText({ ...withoutToken(envelope), token_prefix: tokenPrefix(token) }));
    if (!target.quiet) {
      io.stderr("note: the token itself is printed only with --format token, or written with --output <file>\n");
    }
  }
  return EXIT.ok;
}

/** `revoke --jti <id>`: puts a token id on the provider's revocation list. */
async function revoke(values: Values, target: OutputTarget, io: Io): Promise<number> {
  choiceOption("format", values.format ?? "json", ["json"]);
  if (values.jti === undefined) {
    throw new UsageError("revoke needs --jti <id> (the token id that issue and bus auth check show)");
  }
  const jti = values.jti.toLowerCase();
  if (!isCanonicalUuid(jti)) {
    throw new UsageError(`--jti "${values.jti.slice(0, 64)}" is not a token id: a token id is a UUID`);
  }
  const apiUrl = values["api-url"] ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL");
  const tokenFile = values["token-file"];
  if (tokenFile === undefined) {
    throw new UsageError("revoke needs --token-file <path> with an admin token (aud ai.hg.fi/auth, admin:manage)");
  }
  const timeoutSeconds = durationOption("timeout", values.timeout ?? "30s");
  const bearer = await readSecretFile(tokenFile, "admin token file", io);
  const answer = await requestJson({
    method: "POST",
    url: `${resolveProviderUrls(apiUrl).authBase}/admin/tokens/revoke`,
    bearer,
    body: { jti },
    timeoutSeconds,
  });
  emit(io, target, jsonText(answer));
  return EXIT.ok;
}

/** The `jti` of a token this program issued or received (claims are not secret). */
function tokenId(token: string): string {
  try {
    const { jti } = decodeJwt(token);
    if (typeof jti === "string") return jti;
  } catch {
    // reported below
  }
  throw new FailureError("The provider answered with a token that has no readable token id (jti)", "unexpected_answer");
}

function readRequest(values: Values): IssueRequest {
  const subject = values.subject;
  if (subject === undefined) throw new UsageError("issue needs --subject <id>");
  if (!isValidSubject(subject)) throw new UsageError(`--subject "${subject}" must match [A-Za-z0-9._:@-]{1,128}`);
  const audience = (values.audience) ?? AUDIENCE.auth;
  if (!isKnownAudience(audience)) {
    throw new UsageError(`--audience must be one of ${Object.values(AUDIENCE).join(", ")}, not "${audience}"`);
  }
  const scope = formatScope(parseScope((values.scope) ?? ""));
  const ttlSeconds = values.ttl === undefined ? undefined : durationOption("ttl", values.ttl);
  return { subject, audience, scope, ttlSeconds };
}

/**
 * `issue --client-id … --client-secret-file …`: the OAuth2 client-credentials
 * grant (RFC 6749 §4.4) on the internal endpoint, the client authenticated
 * with HTTP Basic (§2.3.1); `--scope` and `--ttl` narrow within the client's
 * limits.
 */
async function issueAsClient(values: Values, io: Io): Promise<Record<string, unknown>> {
  for (const option of NOT_WITH_CLIENT) {
    if (values[option] !== undefined) {
      throw new UsageError(
        `--${option} does not go with --client-id: the provider issues the client's own subject and audience`,
      );
    }
  }
  const clientId = values["client-id"];
  const secretFile = values["client-secret-file"];
  if (clientId === undefined || secretFile === undefined) {
    throw new UsageError("the client-credentials grant needs both --client-id <id> and --client-secret-file <path>");
  }
  const shownId = clientId.slice(0, 64);
  if (!isCanonicalUuid(clientId)) {
    throw new UsageError(`--client-id "${shownId}" is not a client id: the UUID that client create shows`);
  }
  const scope = values.scope === undefined ? undefined : formatScope(parseScope(values.scope));
  const ttlSeconds = values.ttl === undefined ? undefined : durationOption("ttl", values.ttl);
  const apiUrl = values["api-url"] ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL");
  const timeoutSeconds = durationOption("timeout", values.timeout ?? "30s");
  const secret = await readSecretFile(secretFile, "client secret file", io);
  const form: Record<string, string> = { grant_type: "client_credentials" };
  if (scope) form.scope = scope;
  if (ttlSeconds !== undefined) form.ttl_seconds = String(ttlSeconds);
  return await requestJson({
    method: "POST",
    url: resolveProviderUrls(apiUrl).internalToken,
    headers: { Authorization: `Basic ${btoa(`${formEncode(clientId)}:${formEncode(secret)}`)}` },
    form,
    timeoutSeconds,
  }) as Record<string, unknown>;
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1 asks it of Basic credentials). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function issueRemotely(
  request: IssueRequest,
  values: Values,
  io: Io,
): Promise<Record<string, unknown>> {
  const apiUrl = (values["api-url"]) ?? io.env.BUS_AUTH_API_URL;
  if (!apiUrl) {
    throw new UsageError("no auth provider URL: pass --api-url <url> or set BUS_AUTH_API_URL (or use --local)");
  }
  const keyFile = values["internal-key-file"];
  const key = keyFile !== undefined
    ? await readSecretFile(keyFile, "internal key file", io)
    : await secretFromEnvironment(
      io,
      "BUS_OPERATOR_INTERNAL_KEY_FILE",
      "BUS_OPERATOR_INTERNAL_KEY",
      "internal key file",
    );
  if (!key) {
    throw new UsageError(
      "no internal key: pass --internal-key-file <path> or set BUS_OPERATOR_INTERNAL_KEY_FILE (or BUS_OPERATOR_INTERNAL_KEY)",
    );
  }
  const body: Record<string, unknown> = { subject: request.subject, audience: request.audience, scope: request.scope };
  if (request.ttlSeconds !== undefined) body.ttl_seconds = request.ttlSeconds;
  return await requestJson({
    method: "POST",
    url: resolveProviderUrls(apiUrl).internalToken,
    headers: { "X-Bus-Internal-Key": key },
    body,
    timeoutSeconds: durationOption("timeout", (values.timeout) ?? "30s"),
  }) as Record<string, unknown>;
}

async function issueLocally(request: IssueRequest, values: Values, io: Io): Promise<Record<string, unknown>> {
  const keys = await localSigningKeys({
    signingKeyFile: values["signing-key-file"],
    hs256SecretFile: values["hs256-secret-file"],
  }, io);
  const ttlSeconds = request.ttlSeconds ?? LOCAL_DEFAULT_TTL_SECONDS;
  if (ttlSeconds > LOCAL_MAX_TTL_SECONDS) throw new UsageError("--ttl may be at most 30d");
  const claims = buildClaims({
    issuer: io.env.BUS_AUTH_ISSUER?.trim() || DEFAULT_ISSUER,
    subject: request.subject,
    audience: request.audience,
    scope: request.scope,
    ttlSeconds,
    now: Date.now(),
  });
  return {
    access_token: await signToken(claims, keys),
    token_type: "Bearer",
    expires_in: claims.exp - claims.iat,
    expires_at: new Date(claims.exp * 1000).toISOString(),
    audience: claims.aud,
    subject: claims.sub,
    scope: claims.scope,
    ...(keys.kid === null ? {} : { kid: keys.kid }),
  };
}
