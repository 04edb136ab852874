/**
 * `bus operator auth client create|list|rotate|revoke` and
 * `bus operator token issue --client-id`, as subprocesses against a provider
 * process: the runbook's custody rules (display-once key written 0600, only
 * ids, prefixes and paths printed, creates or reuses).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runProgram, type RunResult, startProvider } from "./helpers/provider_process.ts";

const SECRET = "cli-client-signing-secret-of-32-bytes-min";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = /^bsk_[A-Za-z0-9_-]{43}$/;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
}

Deno.test({
  name:
    "bus operator auth client: create writes the key 0600 once, reuses it, rotates and revokes; token issue uses it",
  sanitizeResources: false,
  fn: async (t) => {
    const provider = await startProvider({
      BUS_AUTH_HS256_SECRET: SECRET,
      BUS_AUTH_INTERNAL_TOKEN_TTL_SECONDS: "3600",
    });
    const work = await Deno.makeTempDir({ prefix: "bus-operator-client-" });
    const local = join(work, "local");
    Deno.mkdirSync(local, { mode: 0o700 });
    Deno.writeTextFileSync(join(local, "hs256-secret"), SECRET, { mode: 0o600 });
    const auth = (args: string[]) =>
      runProgram("bus-operator-auth", ["--api-url", provider.url, "--token-file", "./local/manager-token", ...args], {
        cwd: work,
      });
    const token = (args: string[]) =>
      runProgram("bus-operator-token", ["--api-url", provider.url, ...args], { cwd: work });
    const check = (bearer: string) =>
      fetch(`${provider.url}/api/v1/auth/check`, { headers: { Authorization: `Bearer ${bearer}` } })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
    const keyFile = join(local, "billing-worker.key");
    const create = (extra: string[] = [], file = keyFile) =>
      auth([
        "client",
        "create",
        "--name",
        "billing-worker",
        "--audience",
        "ai.hg.fi/api",
        "--scopes",
        "billing:entitlement:check usage:read",
        "--ttl-max",
        "10m",
        "--key-file",
        file,
        ...extra,
      ]);
    const noKeyIn = (result: RunResult, key: string) => {
      assert.ok(!result.stdout.includes(key) && !result.stderr.includes(key), "the key is never printed");
    };
    let clientId = "";
    let key = "";
    try {
      const minted = await runProgram("bus-operator-token", [
        "--format",
        "token",
        "--output",
        "./local/manager-token",
        "issue",
        "--local",
        "--hs256-secret-file",
        "./local/hs256-secret",
        "--subject",
        "ops-operator",
        "--audience",
        "ai.hg.fi/auth",
        "--scope",
        "admin:manage",
      ], { cwd: work });
      assert.equal(minted.code, 0, minted.stderr);

      await t.step("create writes the key once, 0600, and prints only the id, the prefix and the path", async () => {
        const created = await create();
        assert.equal(created.code, 0, created.stderr);
        key = Deno.readTextFileSync(keyFile);
        assert.match(key, KEY, "the key alone, without a line break (curl --data-urlencode client_secret@FILE)");
        assert.equal(Deno.statSync(keyFile).mode! & 0o777, 0o600);
        noKeyIn(created, key);
        const match =
          /^Created client billing-worker \(client_id ([0-9a-f-]{36})\): wrote its key (bsk_\S{4})… to (.+); the provider keeps only a hash\.\n$/
            .exec(created.stdout);
        assert.ok(match, created.stdout);
        clientId = match[1];
        assert.equal(match[2], key.slice(0, 8));
        assert.equal(match[3], keyFile);
        assert.equal(created.stderr, "");
      });

      await t.step("create again with the key file reuses it: no new key, exit 0, JSON evidence", async () => {
        const before = Deno.statSync(keyFile).mtime?.getTime();
        const reused = await create(["--format", "json"]);
        assert.equal(reused.code, 0, reused.stderr);
        noKeyIn(reused, key);
        assert.deepEqual(JSON.parse(reused.stdout), {
          client_id: clientId,
          name: "billing-worker",
          key_prefix: key.slice(0, 8),
          key_file: keyFile,
          action: "reused",
        });
        assert.equal(Deno.readTextFileSync(keyFile), key);
        assert.equal(Deno.statSync(keyFile).mtime?.getTime(), before, "the file is left alone");
        const text = await create();
        assert.equal(
          text.stdout,
          `Reused client billing-worker (client_id ${clientId}): ${keyFile} holds its working key ${
            key.slice(0, 8)
          }…; no new key was made.\n`,
        );
      });

      await t.step(
        "create without the key file: --if-missing changes nothing, otherwise exit 1 names the choices",
        async () => {
          const missing = join(local, "missing.key");
          const unchanged = await create(["--if-missing"], missing);
          assert.equal(unchanged.code, 0, unchanged.stderr);
          assert.equal(
            unchanged.stdout,
            `The client billing-worker (client_id ${clientId}) exists: nothing changed and no key file was written ` +
              "(--if-missing).\n",
          );
          assert.throws(() => Deno.statSync(missing), Deno.errors.NotFound);
          // An empty file (as mktemp makes one) holds no key either.
          const empty = join(local, "empty.key");
          Deno.writeTextFileSync(empty, "", { mode: 0o600 });
          assert.equal((await create(["--if-missing"], empty)).code, 0);
          assert.equal(Deno.readTextFileSync(empty), "");
          const refused = await create([], missing);
          assert.equal(refused.code, 1);
          assert.equal(refused.stdout, "");
          assert.match(refused.stderr, /exists \(client_id [0-9a-f-]{36}\) and no key file ".*missing\.key" exists/);
          assert.match(refused.stderr, /client rotate --name billing-worker --key-file/);
          assert.match(refused.stderr, /a file that holds its working key/);
          assert.match(refused.stderr, /--if-missing/);
          const json = await create(["--format", "json"], missing);
          assert.equal(json.code, 1);
          assert.equal(JSON.parse(json.stdout).error, "client_exists");
          // A file holding another key is not the client's: exit 1 as well, and the file stays.
          const wrong = join(local, "wrong.key");
          Deno.writeTextFileSync(wrong, `bsk_${"A".repeat(43)}\n`, { mode: 0o600 });
          const wrongKey = await create(["--if-missing"], wrong);
          assert.equal(wrongKey.code, 1);
          assert.match(wrongKey.stderr, /does not hold a working key of it/);
          assert.equal(Deno.readTextFileSync(wrong), `bsk_${"A".repeat(43)}\n`);
        },
      );

      await t.step("token issue --client-id uses the client-credentials grant and never prints the token", async () => {
        const issued = await token(["issue", "--client-id", clientId, "--client-secret-file", keyFile]);
        assert.equal(issued.code, 0, issued.stderr);
        const answer = JSON.parse(issued.stdout);
        assert.equal(answer.access_token, undefined);
        assert.equal(answer.subject, "billing-worker");
        assert.equal(answer.audience, "ai.hg.fi/api");
        assert.equal(answer.scope, "billing:entitlement:check usage:read");
        assert.equal(answer.client_id, clientId);
        assert.equal(answer.expires_in, 600, "the client's --ttl-max");
        assert.match(answer.jti, UUID);
        assert.match(answer.token_prefix, /^eyJ/);
        noKeyIn(issued, key);

        const piped = await runProgram("bus-operator-token", [
          "--api-url",
          provider.url,
          "--format",
          "token",
          "--output",
          "./local/billing.token",
          "issue",
          "--client-id",
          clientId,
          "--client-secret-file",
          "-",
          "--scope",
          "usage:read",
          "--ttl",
          "2m",
        ], { cwd: work, stdin: `${key}\n` });
        assert.equal(piped.code, 0, piped.stderr);
        const bearer = Deno.readTextFileSync(join(local, "billing.token")).trim();
        const claims = claimsOf(bearer);
        assert.match(
          piped.stdout,
          new RegExp(`^Wrote the token eyJhbGci… \\(jti ${claims.jti}\\) to ./local/billing.token\\n$`),
        );
        assert.equal(claims.scope, "usage:read");
        assert.equal(claims.client_id, clientId);
        assert.equal(Number(claims.exp) - Number(claims.iat), 120);
        assert.equal((await check(bearer)).status, 200);

        const capped = await token(["issue", "--client-id", clientId, "--client-secret-file", keyFile, "--ttl", "1h"]);
        assert.equal(capped.code, 0, capped.stderr);
        assert.equal(JSON.parse(capped.stdout).expires_in, 600);
        assert.match(capped.stderr, /capped the token lifetime to 600 s/);

        const scope = await token([
          "issue",
          "--client-id",
          clientId,
          "--client-secret-file",
          keyFile,
          "--scope",
          "admin:manage",
        ]);
        assert.equal(scope.code, 3);
        assert.match(scope.stderr, /\(invalid_scope, HTTP 400\)/);
        const wrong = await token(["issue", "--client-id", clientId, "--client-secret-file", "./local/wrong.key"]);
        assert.equal(wrong.code, 3);
        assert.match(wrong.stderr, /Client authentication failed: .*\(invalid_client, HTTP 401\)/);
        const subject = await token([
          "issue",
          "--client-id",
          clientId,
          "--client-secret-file",
          keyFile,
          "--subject",
          "x",
        ]);
        assert.equal(subject.code, 2);
        assert.match(subject.stderr, /--subject does not go with --client-id/);
        const literal = await token(["issue", "--client-id", clientId, "--client-secret", key]);
        assert.equal(literal.code, 2);
        noKeyIn(literal, key);
        const pasted = await token(["issue", "--client-id", clientId, "--client-secret-file", keyFile, "--scope", key]);
        assert.equal(pasted.code, 2);
        assert.match(pasted.stderr, /A client key was given on the command line and refused/);
        noKeyIn(pasted, key);
      });

      await t.step("list shows ids, names, prefixes and use, never a key", async () => {
        const listed = await auth(["client", "list"]);
        assert.equal(listed.code, 0, listed.stderr);
        noKeyIn(listed, key);
        const lines = listed.stdout.trimEnd().split("\n");
        assert.match(lines[0], /^CLIENT ID +NAME +KEYS +AUDIENCE +SCOPES +CREATED +LAST USED +STATUS$/);
        assert.match(
          lines[1],
          new RegExp(
            `^${clientId} +billing-worker +${
              key.slice(0, 8)
            }… +ai\\.hg\\.fi/api +billing:entitlement:check usage:read +` +
              "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +active$",
          ),
        );
        assert.equal(lines[2], "1 client.");
      });

      await t.step("rotate writes a new key; old and new work until --retire-after", async () => {
        const rotated = await auth(["client", "rotate", "--name", "billing-worker", "--key-file", "./local/new.key"]);
        assert.equal(rotated.code, 0, rotated.stderr);
        const newKey = Deno.readTextFileSync(join(local, "new.key")).trim();
        assert.match(newKey, KEY);
        assert.equal(Deno.statSync(join(local, "new.key")).mode! & 0o777, 0o600);
        noKeyIn(rotated, newKey);
        assert.match(
          rotated.stdout,
          new RegExp(
            `^Rotated the key of client billing-worker \\(client_id ${clientId}\\): wrote the new key ${
              newKey.slice(0, 8)
            }… to \\./local/new\\.key; the old keys work until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\.\\n$`,
          ),
        );
        for (const file of [keyFile, "./local/new.key"]) {
          const issued = await token(["issue", "--client-id", clientId, "--client-secret-file", file]);
          assert.equal(issued.code, 0, `${file}: ${issued.stderr}`);
        }
        const listed = await auth(["client", "list", "--format", "json"]);
        assert.deepEqual(
          JSON.parse(listed.stdout).clients[0].keys.map((k: { key_prefix: string }) => k.key_prefix),
          [key.slice(0, 8), newKey.slice(0, 8)],
        );
        const atOnce = await auth([
          "client",
          "rotate",
          "--name",
          "billing-worker",
          "--key-file",
          "./local/third.key",
          "--retire-after",
          "0",
          "--format",
          "json",
        ]);
        assert.equal(atOnce.code, 0, atOnce.stderr);
        assert.equal(JSON.parse(atOnce.stdout).key_file, "./local/third.key");
        for (const file of [keyFile, "./local/new.key"]) {
          const refused = await token(["issue", "--client-id", clientId, "--client-secret-file", file]);
          assert.equal(refused.code, 3, file);
        }
        const third = await token(["issue", "--client-id", clientId, "--client-secret-file", "./local/third.key"]);
        assert.equal(third.code, 0, third.stderr);
        // The old key file no longer proves the client.
        assert.equal((await create()).code, 1);
        assert.equal((await create([], join(local, "third.key"))).code, 0);
      });

      await t.step("revoke ends the client's keys and tokens at once; unknown names exit 3", async () => {
        const issued = await token([
          "--format",
          "token",
          "issue",
          "--client-id",
          clientId,
          "--client-secret-file",
          "./local/third.key",
        ]);
        assert.equal(issued.code, 0, issued.stderr);
        const bearer = issued.stdout.trim();
        assert.equal((await check(bearer)).status, 200);
        const revoked = await auth(["client", "revoke", "--name", "billing-worker"]);
        assert.equal(revoked.code, 0, revoked.stderr);
        assert.match(
          revoked.stdout,
          new RegExp(`^Revoked client billing-worker \\(client_id ${clientId}\\): its keys and every token issued`),
        );
        const after = await check(bearer);
        assert.deepEqual([after.status, after.body.error], [401, "token_revoked"]);
        const refused = await token(["issue", "--client-id", clientId, "--client-secret-file", "./local/third.key"]);
        assert.equal(refused.code, 3);
        const again = await auth(["client", "revoke", "--name", "billing-worker", "--format", "json"]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(JSON.parse(again.stdout).revoked, true);
        const listed = await auth(["client", "list"]);
        assert.match(listed.stdout, / +- +ai\.hg\.fi\/api .* revoked\n/);
        const recreate = await create([], join(local, "third.key"));
        assert.equal(recreate.code, 1);
        assert.match(recreate.stderr, /was revoked at .*: create a client of another name/);
        const unknown = await auth(["client", "revoke", "--name", "nobody"]);
        assert.equal(unknown.code, 3);
        assert.match(unknown.stderr, /No service client is named "nobody"/);
      });

      await t.step(
        "usage errors: a missing action, options of another action, stdin or .bus/ as the key file",
        async () => {
          assert.equal((await auth(["client"])).code, 2);
          const other = await auth(["client", "list", "--name", "x"]);
          assert.equal(other.code, 2);
          assert.match(other.stderr, /--name does not go with client list/);
          assert.equal((await auth(["client", "rotate", "--name", "x", "--key-file", "-"])).code, 2);
          Deno.mkdirSync(join(work, ".git"));
          const bus = await create([], join(work, ".bus", "key"));
          assert.equal(bus.code, 2);
          assert.match(bus.stderr, /repository-local \.bus\//);
          assert.equal((await auth(["client", "create", "--name", "x", "--audience", "ai.hg.fi/api"])).code, 2);
        },
      );
    } finally {
      await provider.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
