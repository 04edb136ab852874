/**
 * A throw-away PostgreSQL server for tests: {@link startPostgresCluster}
 * runs `initdb` in a temporary folder and starts `postgres` on a free
 * loopback port, with trust authentication, `fsync=off` and no TLS.
 *
 * Binaries come from `/usr/lib/postgresql/<version>/bin` (newest first) or,
 * failing that, from `PATH`. When they are missing the cluster reports
 * `{ skipped }`, unless `BUS_AUTH_REQUIRE_SERVICES=1` is set: then it tries
 * `apt-get install -y postgresql` and throws when anything fails, so that CI
 * never skips silently.
 *
 * PostgreSQL refuses to run as root. As root, `initdb` runs through
 * `runuser -u postgres --`, and the postmaster is spawned with the uid and
 * gid of `postgres` (not through `runuser`, which would stay in between as a
 * parent and could orphan the server when killed). Its output goes to
 * `postgres.log` in the temporary folder. Every step is bounded in time, and
 * {@link PostgresCluster.dispose} kills the server and deletes the folder.
 *
 * @module
 */

import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./free_port.ts";

/** Environment variable that turns a skip into a failure (set by CI). */
export const REQUIRE_SERVICES_VARIABLE = "BUS_AUTH_REQUIRE_SERVICES";

const READY_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 600_000;
const STOP_TIMEOUT_MS = 15_000;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A running throw-away PostgreSQL server. */
export interface PostgresCluster {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** Temporary folder holding the data folder, the socket and `postgres.log`. */
  readonly dir: string;
  /** URL of a database as the superuser `postgres` (no password, `sslmode=disable`); default `postgres`. */
  dsn(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Drops a database, closing its connections first; a no-op when it does not exist. */
  dropDatabase(name: string): Promise<void>;
  /** Runs SQL as the superuser on a database (default `postgres`) and returns the rows. */
  query(text: string, database?: string): Promise<Record<string, unknown>[]>;
  /**
   * Turns TLS on (reloading the configuration); the files are written into
   * the data folder, owned by the server. Plain connections keep working.
   */
  enableTls(tls: TlsSetup): Promise<void>;
  /** Shuts the server down (fast mode: open sessions are ended) and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and data, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server (killing it if needed) and deletes the temporary folder; safe to call twice. */
  dispose(): Promise<void>;
  /** Best-effort synchronous {@link dispose} for `unload` handlers: immediate shutdown, folder removed. */
  disposeSync(): void;
}

/** TLS material of {@link PostgresCluster.enableTls}, all PEM. */
export interface TlsSetup {
  /** Server certificate (chain). */
  cert: string;
  /** Server private key. */
  key: string;
  /** CA that signs client certificates (`ssl_ca_file`). */
  ca?: string;
  /** Databases that only accept TLS connections with a client certificate whose CN is the user name. */
  clientCertDatabases?: string[];
}

/** Binaries and identity used to run the server. */
interface Runtime {
  bin: string;
  /** uid and gid of the OS user `postgres` when running as root, else `null` (run as the current user). */
  owner: { uid: number; gid: number } | null;
}

/**
 * Starts a throw-away cluster (at most about a minute, mostly `initdb`).
 *
 * @returns the running cluster, or `{ skipped }` with a one-line reason when
 *   PostgreSQL is not available here and `BUS_AUTH_REQUIRE_SERVICES` is not `1`
 * @throws Error when `BUS_AUTH_REQUIRE_SERVICES=1` and the cluster cannot start
 */
export async function startPostgresCluster(): Promise<PostgresCluster | { skipped: string }> {
  const required = Deno.env.get(REQUIRE_SERVICES_VARIABLE) === "1";
  let dir: string | null = null;
  let server: Server | null = null;
  try {
    let bin = await findBinaries();
    if (bin === null && required) {
      await installPostgres();
      bin = await findBinaries();
    }
    if (bin === null) throw new Error("PostgreSQL server binaries not found (install the postgresql package)");
    const runtime: Runtime = { bin, owner: Deno.uid() === 0 ? await postgresOwner() : null };
    dir = await Deno.makeTempDir({ prefix: "bus-auth-pg-" });
    if (runtime.owner) await Deno.chown(dir, runtime.owner.uid, runtime.owner.gid);
    await initdb(runtime, dir);
    server = await startOnFreePort(runtime, dir);
    const cluster = new Cluster(runtime, dir, server);
    await cluster.detectVersion();
    return cluster;
  } catch (error) {
    const reason = oneLine(error);
    if (server) await server.kill();
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (required) {
      throw new Error(`Cannot start the PostgreSQL test cluster (${REQUIRE_SERVICES_VARIABLE}=1): ${reason}`, {
        cause: error,
      });
    }
    return { skipped: reason };
  }
}

class Cluster implements PostgresCluster {
  readonly dir: string;
  #runtime: Runtime;
  #server: Server | null;
  #disposed = false;
  #port: number;
  #serverVersion = 0;

  constructor(runtime: Runtime, dir: string, server: Server) {
    this.#runtime = runtime;
    this.dir = dir;
    this.#server = server;
    this.#port = server.port;
  }

  get port(): number {
    return this.#port;
  }

  dsn(database = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${encodeURIComponent(database)}?sslmode=disable`;
  }

  /** Reads the server version (`server_version_num`, such as 150004). */
  async detectVersion(): Promise<void> {
    this.#serverVersion = Number((await this.query("SHOW server_version_num"))[0].server_version_num);
  }

  async createDatabase(name: string): Promise<string> {
    checkDatabaseName(name);
    // From PostgreSQL 15 on, copying the template's files is much faster for tiny databases than WAL_LOG.
    const strategy = this.#serverVersion >= 150000 ? " STRATEGY = FILE_COPY" : "";
    await this.query(`CREATE DATABASE "${name}"${strategy}`);
    return this.dsn(name);
  }

  async dropDatabase(name: string): Promise<void> {
    checkDatabaseName(name);
    await this.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }

  async query(text: string, database = "postgres"): Promise<Record<string, unknown>[]> {
    const sql = adminClient(this.dsn(database));
    try {
      return [...await sql.unsafe(text)];
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  async enableTls(tls: TlsSetup): Promise<void> {
    const data = join(this.dir, "data");
    await this.#writeOwned(join(data, "server.crt"), tls.cert);
    await this.#writeOwned(join(data, "server.key"), tls.key);
    if (tls.ca !== undefined) {
      await this.#writeOwned(join(data, "client_ca.crt"), tls.ca);
      await this.query("ALTER SYSTEM SET ssl_ca_file = 'client_ca.crt'");
    }
    const databases = tls.clientCertDatabases ?? [];
    databases.forEach(checkDatabaseName);
    if (databases.length > 0) {
      const hba = join(data, "pg_hba.conf");
      const rules = databases.map((name) =>
        `hostssl ${name} all 127.0.0.1/32 cert\nhost ${name} all 127.0.0.1/32 reject\n`
      );
      await this.#writeOwned(hba, rules.join("") + await Deno.readTextFile(hba));
    }
    await this.query("ALTER SYSTEM SET ssl = on");
    await this.query("SELECT pg_reload_conf()");
    // The postmaster reloads every file in one go; a new session that sees ssl on sees the rest too.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while ((await this.query("SHOW ssl"))[0].ssl !== "on") {
      if (Date.now() > deadline) throw new Error(`TLS did not turn on: see "${join(this.dir, "postgres.log")}"`);
      await delay(50);
    }
  }

  /** Writes a file (0600) owned by the server's OS user. */
  async #writeOwned(path: string, content: string): Promise<void> {
    await Deno.writeTextFile(path, content, { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    if (this.#runtime.owner) await Deno.chown(path, this.#runtime.owner.uid, this.#runtime.owner.gid);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    await server.stop();
  }

  async start(): Promise<void> {
    if (this.#disposed) throw new Error("Cannot start a disposed PostgreSQL test cluster");
    if (this.#server) return;
    this.#server = await startServer(this.#runtime, this.dir, this.#port);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await this.stop();
    } finally {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  disposeSync(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#server?.killSync();
    this.#server = null;
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch {
      // Best effort: the folder is in the system's temporary folder.
    }
  }
}

/** One running postmaster. */
interface Server {
  port: number;
  /** Fast shutdown (SIGINT), then SIGKILL after a bound; waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Immediate shutdown (SIGQUIT) without waiting. */
  killSync(): void;
}

async function startOnFreePort(runtime: Runtime, dir: string): Promise<Server> {
  // Another process may take the port between probing and binding: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startServer(runtime, dir, freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startServer(runtime: Runtime, dir: string, port: number): Promise<Server> {
  const log = join(dir, "postgres.log");
  const args = [
    "-D",
    join(dir, "data"),
    "-k",
    dir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=200",
  ];
  // `sh -c exec` sends the output to the log file and leaves the postmaster as the direct child.
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$0" "$@" >>"$BUS_AUTH_PG_LOG" 2>&1', join(runtime.bin, "postgres"), ...args],
    env: { BUS_AUTH_PG_LOG: log, LC_ALL: "C", TZ: "UTC" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    ...(runtime.owner ? { uid: runtime.owner.uid, gid: runtime.owner.gid } : {}),
  }).spawn();
  let exited = false;
  const status = child.status.then((value) => {
    exited = true;
    return value;
  });
  const signal = (name: Deno.Signal) => {
    try {
      if (!exited) child.kill(name);
    } catch {
      // Already gone.
    }
  };
  const waitExit = async (timeoutMs: number): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs));
    const done = await Promise.race([status.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  };
  const server: Server = {
    port,
    stop: async () => {
      signal("SIGINT");
      if (await waitExit(STOP_TIMEOUT_MS)) return;
      signal("SIGKILL");
      await status;
    },
    kill: async () => {
      signal("SIGKILL");
      await status;
    },
    killSync: () => signal("SIGQUIT"),
  };
  try {
    await waitUntilReady(`postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`, () => exited, log);
    return server;
  } catch (error) {
    await server.kill();
    throw error;
  }
}

async function waitUntilReady(dsn: string, exited: () => boolean, log: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`postgres exited at start-up: ${await lastLogLine(log)}`);
    const sql = adminClient(dsn);
    try {
      await sql`SELECT 1`;
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await sql.end({ timeout: 1 });
    }
    await delay(100);
  }
  throw new Error(`postgres did not accept connections within "${READY_TIMEOUT_MS / 1000}" s: ${oneLine(lastError)}`);
}

function adminClient(dsn: string): postgres.Sql {
  return postgres(dsn, {
    max: 1,
    connect_timeout: 2,
    idle_timeout: 1,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: "bus-auth-test-cluster" },
  });
}

async function initdb(runtime: Runtime, dir: string): Promise<void> {
  const args = ["-A", "trust", "-U", "postgres", "--no-sync", "--no-locale", "-E", "UTF8", "-D", join(dir, "data")];
  const initdbPath = join(runtime.bin, "initdb");
  const [command, fullArgs] = runtime.owner
    ? ["runuser", ["-u", "postgres", "--", initdbPath, ...args]]
    : [initdbPath, args];
  await run(command, fullArgs, COMMAND_TIMEOUT_MS, "initdb");
}

async function installPostgres(): Promise<void> {
  if (Deno.uid() !== 0) throw new Error("PostgreSQL server binaries not found, and not root to install them");
  const install = () =>
    run("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], INSTALL_TIMEOUT_MS, "apt-get install");
  try {
    await install();
  } catch {
    await run("apt-get", ["update"], INSTALL_TIMEOUT_MS, "apt-get update");
    await install();
  }
}

async function run(command: string, args: string[], timeoutMs: number, what: string): Promise<void> {
  const env: Record<string, string> = { DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C", TZ: "UTC" };
  const path = Deno.env.get("PATH");
  if (path !== undefined) env.PATH = path;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      env,
      clearEnv: true,
      cwd: "/",
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
  } catch (error) {
    throw new Error(`${what} could not run: ${oneLine(error)}`);
  }
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr).trim() || new TextDecoder().decode(output.stdout).trim();
    const detail = text.split("\n").filter((line) => line.trim() !== "").pop() ?? "";
    const reason = output.signal ? `killed by "${output.signal}" (time limit "${timeoutMs / 1000}" s)` : "failed";
    throw new Error(`${what} ${reason} with exit code "${output.code}": ${detail}`);
  }
}

async function findBinaries(): Promise<string | null> {
  const candidates: string[] = [];
  try {
    const versions: number[] = [];
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (/^[0-9]+(\.[0-9]+)?$/.test(entry.name)) versions.push(Number(entry.name));
    }
    versions.sort((a, b) => b - a);
    candidates.push(...versions.map((version) => `/usr/lib/postgresql/${version}/bin`));
  } catch {
    // Not a Debian layout.
  }
  candidates.push(...(Deno.env.get("PATH") ?? "").split(":").filter((part) => part !== ""));
  for (const candidate of candidates) {
    if (await isFile(join(candidate, "postgres")) && await isFile(join(candidate, "initdb"))) return candidate;
  }
  return null;
}

async function postgresOwner(): Promise<{ uid: number; gid: number }> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === "postgres") return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error('running as root, but the OS user "postgres" does not exist');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function lastLogLine(log: string): Promise<string> {
  try {
    const lines = (await Deno.readTextFile(log)).split("\n").filter((line) => line.trim() !== "");
    return lines.slice(-3).join(" | ") || "(empty log)";
  } catch {
    return "(no log)";
  }
}

function checkDatabaseName(name: string): void {
  if (!DATABASE_NAME.test(name)) throw new Error(`Invalid test database name "${name}"`);
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
