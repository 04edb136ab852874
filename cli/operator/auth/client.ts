/**
 * `bus operator auth client create|list|rotate|revoke`: service clients
 * with display-once keys, as the ops-hub bootstrap runbook keeps them. A
 * key is written once, 0600 and atomically, to the file named by
 * `--key-file`; stdout shows only ids, key prefixes and paths. `create`
 * creates or reuses: for a client that exists, a key file that holds one
 * of its working keys is reused (the provider checks it with
 * `admin/clients/{id}/verify-key`, which issues nothing).
 *
 * @module
 */

import { isClientKey } from "../../../lib/client_keys.ts";
import { AUDIENCE, isKnownAudience } from "../../../lib/claims.ts";
import { EXIT } from "../../../lib/program.ts";
import { formatScope, parseScope } from "../../../lib/scopes.ts";
import { CliError, FailureError, RefusedError, UsageError } from "../../shared/errors.ts";
import { refuseRepositoryLocalBus, writeSecretFile } from "../../shared/files.ts";
import { requestJson } from "../../shared/http.ts";
import { durationOption } from "../../shared/options.ts";
import { emit, jsonText, table } from "../../shared/output.ts";
import { isStandardInput, readSecretFile } from "../../shared/secret_input.ts";
import { type OperatorAuthCommand, type OperatorAuthRun, stringValue } from "./command.ts";

/** A client as `GET admin/clients` lists it. */
interface Client {
  client_id: string;
  name: string;
  audience: string;
  scopes: string[];
  ttl_max_seconds: number;
  status: string;
  keys: { key_prefix: string; created_at: string; retires_at: string | null }[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The options of each action; any other option of the command is a usage error with it. */
const ACTION_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  create: ["name", "audience", "scopes", "ttl-max", "key-file", "if-missing"],
  list: [],
  rotate: ["name", "key-file", "retire-after"],
  revoke: ["name"],
};

/** `client create|list|rotate|revoke`. */
export const clientCommand: OperatorAuthCommand = {
  summary: "service clients for the client-credentials grant: create (or reuse) with a key file, list, rotate, revoke",
  options: {
    name: { type: "string" },
    audience: { type: "string" },
    scopes: { type: "string" },
    "ttl-max": { type: "string" },
    "key-file": { type: "string" },
    "if-missing": { type: "boolean" },
    "retire-after": { type: "string" },
  },
  maxWords: 1,
  run: async (run) => {
    const actions = Object.keys(ACTION_OPTIONS);
    const [action] = run.words;
    if (action === undefined || !Object.hasOwn(ACTION_OPTIONS, action)) {
      throw new UsageError(
        action === undefined
          ? `client needs an action: ${actions.join(", ")}`
          : `unknown client action "${action}": use ${actions.join(", ")}`,
      );
    }
    for (const option of Object.keys(clientCommand.options)) {
      if (run.values[option] !== undefined && !ACTION_OPTIONS[action].includes(option)) {
        throw new UsageError(`--${option} does not go with client ${action}`);
      }
    }
    if (action === "create") return await create(run);
    if (action === "list") return await list(run);
    if (action === "rotate") return await rotate(run);
    return await revoke(run);
  },
};

async function create(run: OperatorAuthRun): Promise<number> {
  const name = requiredName(run, "create");
  const audience = stringValue(run.values, "audience");
  if (audience === undefined) throw new UsageError("client create needs --audience <aud>");
  if (!isKnownAudience(audience)) {
    throw new UsageError(`--audience must be one of ${Object.values(AUDIENCE).join(", ")}, not "${audience}"`);
  }
  const scopesText = stringValue(run.values, "scopes");
  if (scopesText === undefined) throw new UsageError('client create needs --scopes "<scopes>"');
  const scopes = formatScope(parseScope(scopesText));
  if (scopes === "") throw new UsageError("--scopes must name at least one scope");
  const ttlMax = stringValue(run.values, "ttl-max");
  const ttlMaxSeconds = ttlMax === undefined ? undefined : durationOption("ttl-max", ttlMax);
  const keyFile = requiredKeyFile(run, "create");
  const held = await heldKey(run, keyFile);
  if (held !== null) return await reuse(run, name, keyFile, held);

  const body = { name, audience, scopes, ttl_max_seconds: ttlMaxSeconds };
  let created: { client_id: string; name: string; key: string; key_prefix: string };
  try {
    created = await admin(run, "POST", "", body) as typeof created;
  } catch (error) {
    if (!(error instanceof RefusedError && error.code === "client_exists")) throw error;
    const existing = await findClient(run, name);
    if (existing.status === "revoked") throw revokedClient(existing);
    if (run.values["if-missing"] !== true) throw undecided(existing, keyFile, `no key file "${keyFile}" exists`);
    return report(run, existing, "unchanged", null, null);
  }
  storeKey(keyFile, created.key, `client "${name}" was created (client_id ${created.client_id})`, name);
  return report(run, created, "created", created.key_prefix, keyFile);
}

/** `create` for a key file that holds something: reuse it when it is a working key of the client. */
async function reuse(run: OperatorAuthRun, name: string, keyFile: string, key: string): Promise<number> {
  const existing = await findClient(run, name).catch((error) => {
    if (error instanceof CliError && error.code === "client_not_found") {
      throw new FailureError(
        `"${keyFile}" already holds a key, but no client is named "${name}": remove the file or give another ` +
          "--key-file to create the client (a key file is never overwritten by create)",
        "key_file_not_empty",
      );
    }
    throw error;
  });
  if (existing.status === "revoked") throw revokedClient(existing);
  const checked = isClientKey(key)
    ? await admin(run, "POST", `/${existing.client_id}/verify-key`, { key }) as { valid: boolean }
    : { valid: false };
  if (!checked.valid) throw undecided(existing, keyFile, `"${keyFile}" does not hold a working key of it`);
  return report(run, existing, "reused", key.slice(0, 8), keyFile);
}

async function list(run: OperatorAuthRun): Promise<number> {
  const answer = await admin(run, "GET", "") as { clients: Client[] };
  emit(run.io, run.target, run.json ? jsonText(answer) : clientsText(answer.clients));
  return EXIT.ok;
}

async function rotate(run: OperatorAuthRun): Promise<number> {
  const name = requiredName(run, "rotate");
  const keyFile = requiredKeyFile(run, "rotate");
  const retireAfter = retireAfterSeconds(stringValue(run.values, "retire-after") ?? "1h");
  const client = await findClient(run, name);
  const rotated = await admin(run, "POST", `/${client.client_id}/rotate`, { retire_after_seconds: retireAfter }) as {
    key: string;
    key_prefix: string;
    old_keys_retire_at: string;
  };
  storeKey(
    keyFile,
    rotated.key,
    `the key of client "${name}" was rotated (the old keys work until ${rotated.old_keys_retire_at})`,
    name,
  );
  const evidence = {
    client_id: client.client_id,
    name,
    key_prefix: rotated.key_prefix,
    key_file: keyFile,
    old_keys_retire_at: rotated.old_keys_retire_at,
  };
  const old = retireAfter === 0
    ? "the old keys stopped working"
    : `the old keys work until ${shortTime(rotated.old_keys_retire_at)}`;
  emit(
    run.io,
    run.target,
    run.json
      ? jsonText(evidence)
      : `Rotated the key of client ${name} (client_id ${client.client_id}): wrote the new key ${rotated.key_prefix}… ` +
        `to ${keyFile}; ${old}.\n`,
  );
  return EXIT.ok;
}

async function revoke(run: OperatorAuthRun): Promise<number> {
  const name = requiredName(run, "revoke");
  const client = await findClient(run, name);
  const answer = await admin(run, "POST", `/${client.client_id}/revoke`) as Record<string, unknown>;
  emit(
    run.io,
    run.target,
    run.json
      ? jsonText(answer)
      : `Revoked client ${name} (client_id ${client.client_id}): its keys and every token issued to it are refused ` +
        `from ${shortTime(String(answer.revoked_at))} on.\n`,
  );
  return EXIT.ok;
}

/** One call below `{A}/admin/clients`. */
async function admin(run: OperatorAuthRun, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  return await requestJson({
    method,
    url: `${run.authBase}/admin/clients${path}`,
    bearer: await run.adminToken(),
    body,
    timeoutSeconds: run.timeoutSeconds,
  });
}

/** The client of a name. @throws {CliError} `client_not_found` (exit 3) */
async function findClient(run: OperatorAuthRun, name: string): Promise<Client> {
  const { clients } = await admin(run, "GET", "") as { clients: Client[] };
  const client = clients.find((candidate) => candidate.name === name);
  if (client !== undefined) return client;
  throw new CliError(
    `No service client is named "${name}": bus operator auth client list shows them`,
    EXIT.refused,
    "client_not_found",
  );
}

/**
 * The key a key file holds, or `null` when there is no file or an empty
 * one (such as `mktemp` made), which create may fill.
 */
async function heldKey(run: OperatorAuthRun, keyFile: string): Promise<string | null> {
  try {
    const info = await Deno.stat(keyFile);
    if (info.isFile && info.size === 0) return null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
  }
  return await readSecretFile(keyFile, "client key file", run.io);
}

/**
 * Writes a key that exists nowhere else yet, without a line break, so that
 * `curl --data-urlencode client_secret@FILE` and secret stores that read the
 * file take it as it is; a failure says what happened at the provider.
 */
function storeKey(keyFile: string, key: string, done: string, name: string): void {
  try {
    writeSecretFile(keyFile, key);
  } catch (error) {
    if (!(error instanceof FailureError)) throw error;
    throw new FailureError(
      `${error.message}; ${done}, but its key is lost: run bus operator auth client rotate --name ${name} ` +
        "--key-file <path> for a new one",
      error.code,
    );
  }
}

function report(
  run: OperatorAuthRun,
  client: { client_id: string; name: string },
  action: "created" | "reused" | "unchanged",
  keyPrefix: string | null,
  keyFile: string | null,
): number {
  const evidence = { client_id: client.client_id, name: client.name, key_prefix: keyPrefix, key_file: keyFile, action };
  const id = `client ${client.name} (client_id ${client.client_id})`;
  const text = action === "created"
    ? `Created ${id}: wrote its key ${keyPrefix}… to ${keyFile}; the provider keeps only a hash.\n`
    : action === "reused"
    ? `Reused ${id}: ${keyFile} holds its working key ${keyPrefix}…; no new key was made.\n`
    : `The ${id} exists: nothing changed and no key file was written (--if-missing).\n`;
  emit(run.io, run.target, run.json ? jsonText(evidence) : text);
  return EXIT.ok;
}

/** A client that exists, without a key file that proves it: exit 1, naming the ways on. */
function undecided(client: Client, keyFile: string, why: string): FailureError {
  return new FailureError(
    `The client "${client.name}" exists (client_id ${client.client_id}) and ${why}: run bus operator auth client ` +
      `rotate --name ${client.name} --key-file ${keyFile} for a new key, or give --key-file a file that holds its ` +
      "working key, or add --if-missing to leave it as it is",
    "client_exists",
  );
}

function revokedClient(client: Client): FailureError {
  return new FailureError(
    `The client "${client.name}" (client_id ${client.client_id}) was revoked at ${
      shortTime(String(client.revoked_at))
    }: ` +
      "create a client of another name",
    "client_revoked",
  );
}

function requiredName(run: OperatorAuthRun, action: string): string {
  const name = stringValue(run.values, "name");
  if (name === undefined) throw new UsageError(`client ${action} needs --name <name>`);
  return name;
}

/** `--key-file`: a file (the key is written there), never standard input or a repository-local `.bus/`. */
function requiredKeyFile(run: OperatorAuthRun, action: string): string {
  const keyFile = stringValue(run.values, "key-file");
  if (keyFile === undefined) throw new UsageError(`client ${action} needs --key-file <path> for the client's key`);
  if (isStandardInput(keyFile)) throw new UsageError("--key-file must name a file: the key is written there");
  refuseRepositoryLocalBus(keyFile);
  return keyFile;
}

/** `--retire-after`: a duration, or 0 for at once. */
function retireAfterSeconds(value: string): number {
  return /^0+[smhd]?$/.test(value.trim()) ? 0 : durationOption("retire-after", value);
}

/** An ISO time without its milliseconds. */
function shortTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

function clientsText(clients: readonly Client[]): string {
  if (clients.length === 0) return "No service clients.\n";
  const time = (iso: string | null) => iso === null ? "never" : shortTime(iso);
  const rows = clients.map((client) => [
    client.client_id,
    client.name,
    client.keys.length === 0 ? "-" : client.keys.map((key) => `${key.key_prefix}…`).join(", "),
    client.audience,
    client.scopes.join(" "),
    time(client.created_at),
    time(client.last_used_at),
    client.status,
  ]);
  const noun = clients.length === 1 ? "client" : "clients";
  return table(["CLIENT ID", "NAME", "KEYS", "AUDIENCE", "SCOPES", "CREATED", "LAST USED", "STATUS"], rows) +
    `${clients.length} ${noun}.\n`;
}
