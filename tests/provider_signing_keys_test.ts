/**
 * Signing keys end to end, with the real programs: `keys generate` of the
 * provider and of `bus operator token`, `config` and start-up with key
 * files, `issue --local` with a key file, and a rotation against provider
 * processes (publish, switch, retire), the move from HS256 included.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { programPermissionFlags } from "../deploy/permissions.ts";
import { parseKey } from "../lib/keys/key_material.ts";
import { baseEnv, MAIN, type ProviderProcess, runProgram, startProvider } from "./helpers/provider_process.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SECRET = "signing-keys-test-hs256-secret-32-bytes!";
const INTERNAL_KEY = "signing-keys-test-internal-key-0123456789";

/** A folder for one test's files, removed afterwards. */
async function withFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bus-signing-keys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `keys generate` of the provider; returns the kid it printed. */
async function generate(alg: string, out: string): Promise<string> {
  const result = await runProgram("bus-api-provider-auth", ["keys", "generate", "--alg", alg, "--out", out]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** A service token of the provider itself, from its internal endpoint. */
async function internalToken(provider: ProviderProcess): Promise<string> {
  const response = await fetch(`${provider.url}/api/internal/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Bus-Internal-Key": INTERNAL_KEY },
    body: JSON.stringify({ subject: "rotation-test", audience: "ai.hg.fi/internal", scope: "usage:read" }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).access_token;
}

async function checkStatus(provider: ProviderProcess, token: string): Promise<[number, string | undefined]> {
  const response = await fetch(`${provider.url}/api/v1/auth/check`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await response.json();
  return [response.status, body.error];
}

async function publishedKids(provider: ProviderProcess, prefix = ""): Promise<string[]> {
  const response = await fetch(`${provider.url}${prefix}/.well-known/jwks.json`);
  assert.equal(response.headers.get("Cache-Control"), "public, max-age=300");
  return (await response.json()).keys.map((key: { kid: string }) => key.kid);
}

Deno.test("keys generate writes a 0600 PKCS#8 key, prints only its kid, and never replaces a file", async () => {
  await withFolder(async (dir) => {
    for (const alg of ["EdDSA", "ES256"]) {
      const out = join(dir, "keys", `${alg}.pem`);
      const result = await runProgram("bus-api-provider-auth", ["keys", "generate", "--alg", alg, "--out", out]);
      assert.equal(result.code, 0, result.stderr);
      const text = Deno.readTextFileSync(out);
      const key = parseKey(text);
      assert.equal(key.alg, alg);
      assert.equal(result.stdout, `${key.kid}\n`, "stdout is the kid and nothing else");
      assert.match(text, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.equal(Deno.statSync(out).mode! & 0o777, 0o600);
      assert.equal(Deno.statSync(join(dir, "keys")).mode! & 0o777, 0o700, "a missing folder is created 0700");
      const body = text.split("\n").slice(1, -2).join("");
      assert.ok(!result.stderr.includes(body) && !result.stderr.includes(key.privateJwk!.d), "no private key");
      assert.match(result.stderr, /^Wrote a new .* private key to .*BUS_AUTH_VERIFY_KEY_FILES/);
    }
    const out = join(dir, "keys", "EdDSA.pem");
    const before = Deno.readTextFileSync(out);
    const again = await runProgram("bus-api-provider-auth", ["keys", "generate", "--alg", "EdDSA", "--out", out]);
    assert.equal(again.code, 1);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, /refusing to overwrite .*: a key file is never replaced/);
    assert.equal(Deno.readTextFileSync(out), before, "the existing key is untouched");
    assert.deepEqual([...Deno.readDirSync(join(dir, "keys"))].map((entry) => entry.name).sort(), [
      "ES256.pem",
      "EdDSA.pem",
    ], "no temporary file is left behind");
    const json = await runProgram("bus-api-provider-auth", [
      "keys",
      "generate",
      "--alg",
      "es256",
      "--out",
      join(dir, "json.pem"),
      "--format",
      "json",
    ]);
    const shown = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(shown), ["kid", "alg", "key_file", "public_jwk"]);
    assert.deepEqual(shown.public_jwk, {
      ...parseKey(Deno.readTextFileSync(join(dir, "json.pem"))).publicJwk,
      kid: shown.kid,
      alg: "ES256",
      use: "sig",
    });
    for (
      const [args, message] of [
        [["keys"], /keys needs a command: generate/],
        [["keys", "generate", "--out", join(dir, "x.pem")], /keys generate needs --alg EdDSA or ES256/],
        [["keys", "generate", "--alg", "HS256", "--out", join(dir, "x.pem")], /HS256 has no key file/],
        [["keys", "generate", "--alg", "EdDSA"], /keys generate needs --out FILE/],
        [["config", "--alg", "EdDSA"], /--alg only goes with keys generate/],
      ] as const
    ) {
      const refused = await runProgram("bus-api-provider-auth", [...args]);
      assert.equal(refused.code, 2, args.join(" "));
      assert.match(refused.stderr, message);
    }
  });
});

Deno.test("the provider under its compiled permission set writes keys only below /var/lib/bus-auth; bus operator token keys generate writes anywhere", async () => {
  await withFolder(async (dir) => {
    const out = join(dir, "signing.pem");
    const compiled = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...programPermissionFlags("bus-api-provider-auth"),
        "--config",
        CONFIG,
        MAIN,
        "bus-api-provider-auth",
        "keys",
        "generate",
        "--alg",
        "EdDSA",
        "--out",
        out,
      ],
      env: baseEnv(),
      clearEnv: true,
      stdin: "null",
    }).output();
    assert.equal(compiled.code, 1);
    assert.equal(new TextDecoder().decode(compiled.stdout), "", "no kid for a key that was not written");
    assert.equal(
      new TextDecoder().decode(compiled.stderr),
      `bus-api-provider-auth: cannot write "${out}": the compiled provider writes only below /var/lib/bus-auth; ` +
        "give --out /var/lib/bus-auth/<name>, or run bus operator token keys generate, which may write anywhere\n",
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");

    // bus-operator's permission set (the tests run it with exactly that set) may write there.
    const operator = await runProgram("bus-operator-token", ["keys", "generate", "--alg", "EdDSA", "--out", out]);
    assert.equal(operator.code, 0, operator.stderr);
    assert.equal(operator.stdout, `${parseKey(Deno.readTextFileSync(out)).kid}\n`);
    assert.equal(Deno.statSync(out).mode! & 0o777, 0o600);
    const json = await runProgram("bus-operator-token", [
      "--format",
      "json",
      "keys",
      "generate",
      "--alg",
      "ES256",
      "--out",
      join(dir, "es.pem"),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!("d" in JSON.parse(json.stdout).public_jwk));
    const again = await runProgram("bus-operator-token", ["keys", "generate", "--alg", "EdDSA", "--out", out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Refusing to overwrite/);
    const mixed = await runProgram("bus-operator-token", [
      "keys",
      "generate",
      "--alg",
      "EdDSA",
      "--out",
      join(dir, "y.pem"),
      "--subject",
      "x",
    ]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--subject does not go with keys generate/);
  });
});

Deno.test("config and serve list every key-file problem at once, with the others; config shows the keys by kid", async () => {
  await withFolder(async (dir) => {
    const ed = join(dir, "ed.pem");
    const es = join(dir, "es.pem");
    const edKid = await generate("EdDSA", ed);
    const esKid = await generate("ES256", es);
    Deno.writeTextFileSync(join(dir, "garbage.pem"), "not a key\n");
    const env = {
      BUS_AUTH_HS256_SECRET: "short",
      BUS_AUTH_SIGNING_ALG: "ES256",
      BUS_AUTH_SIGNING_KEY_FILE: ed,
      BUS_AUTH_VERIFY_KEY_FILES: `${join(dir, "missing.pem")},${join(dir, "garbage.pem")} ${dir}`,
    };
    for (const command of [["config"], ["serve", "--listen", "127.0.0.1:0"]]) {
      const result = await runProgram("bus-api-provider-auth", command, { env });
      assert.equal(result.code, 2, command[0]);
      assert.equal(
        result.stderr,
        "bus-api-provider-auth: invalid configuration:\n" +
          "  BUS_AUTH_HS256_SECRET: too short (5 bytes), use at least 32 bytes\n" +
          `  BUS_AUTH_SIGNING_KEY_FILE: "${ed}" holds an Ed25519 key (EdDSA), but BUS_AUTH_SIGNING_ALG is ES256, ` +
          "which signs with a P-256 key\n" +
          `  BUS_AUTH_VERIFY_KEY_FILES: cannot read "${
            join(dir, "missing.pem")
          }": No such file or directory (os error 2)\n` +
          `  BUS_AUTH_VERIFY_KEY_FILES: "${
            join(dir, "garbage.pem")
          }": expected a PEM key (-----BEGIN PRIVATE KEY-----) ` +
          "or a JWK (a JSON object)\n" +
          `  BUS_AUTH_VERIFY_KEY_FILES: cannot read "${dir}": Is a directory (os error 21)\n`,
      );
    }
    const good = await runProgram("bus-api-provider-auth", ["config"], {
      env: {
        BUS_AUTH_HS256_SECRET: SECRET,
        BUS_AUTH_SIGNING_ALG: "EdDSA",
        BUS_AUTH_SIGNING_KEY_FILE: ed,
        BUS_AUTH_VERIFY_KEY_FILES: es,
        BUS_AUTH_PUBLIC_URL: "https://auth.example.com/",
      },
    });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^BUS_AUTH_SIGNING_ALG=EdDSA$/m);
    assert.ok(good.stdout.includes(`\nBUS_AUTH_SIGNING_KEY_FILE=${ed} (EdDSA private key, kid ${edKid})\n`));
    assert.ok(good.stdout.includes(`\nBUS_AUTH_VERIFY_KEY_FILES=${es} (ES256 private key, kid ${esKid})\n`));
    assert.match(good.stdout, /^BUS_AUTH_ACCEPT_HS256=false$/m);
    assert.match(good.stdout, /^BUS_AUTH_PUBLIC_URL=https:\/\/auth\.example\.com$/m);
    const privatePart = Deno.readTextFileSync(ed).split("\n")[1];
    assert.ok(!good.stdout.includes(privatePart) && !good.stderr.includes(privatePart));
  });
});

Deno.test({
  name: "issue --local with a key file: accepted by a provider with that key, refused by one without",
  sanitizeResources: false,
  fn: async () => {
    await withFolder(async (dir) => {
      const key = join(dir, "signing.pem");
      const kid = await generate("EdDSA", key);
      const withKey = await startProvider({
        BUS_AUTH_HS256_SECRET: SECRET,
        BUS_AUTH_SIGNING_ALG: "EdDSA",
        BUS_AUTH_SIGNING_KEY_FILE: key,
      });
      const hs256Only = await startProvider({ BUS_AUTH_HS256_SECRET: SECRET });
      try {
        const local = ["--format", "token", "issue", "--local", "--subject", "ops", "--audience", "ai.hg.fi/api"];
        for (
          const [what, args, env] of [
            ["--signing-key-file", [...local, "--signing-key-file", key], {}],
            ["BUS_OPERATOR_SIGNING_KEY_FILE", local, { BUS_OPERATOR_SIGNING_KEY_FILE: key }],
            ["the provider's variables", local, {
              BUS_AUTH_SIGNING_ALG: "EdDSA",
              BUS_AUTH_SIGNING_KEY_FILE: key,
              BUS_AUTH_HS256_SECRET: SECRET,
            }],
          ] as const
        ) {
          const minted = await runProgram("bus-operator-token", [...args], { env: { ...env } });
          assert.equal(minted.code, 0, `${what}: ${minted.stderr}`);
          const token = minted.stdout.trim();
          assert.deepEqual(decodeProtectedHeader(token), { alg: "EdDSA", typ: "JWT", kid }, what);
          assert.deepEqual(await checkStatus(withKey, token), [200, undefined], what);
          assert.deepEqual(await checkStatus(hs256Only, token), [401, "invalid_token"], what);
        }
        const json = await runProgram("bus-operator-token", [
          "issue",
          "--local",
          "--subject",
          "ops",
          "--signing-key-file",
          key,
        ]);
        assert.equal(JSON.parse(json.stdout).kid, kid, "the JSON names the kid");
        const hs256 = await runProgram("bus-operator-token", local, { env: { BUS_AUTH_HS256_SECRET: SECRET } });
        assert.deepEqual(await checkStatus(hs256Only, hs256.stdout.trim()), [200, undefined]);
        assert.deepEqual(
          await checkStatus(withKey, hs256.stdout.trim()),
          [401, "invalid_token"],
          "HS256 is not accepted besides a key file unless BUS_AUTH_ACCEPT_HS256 says so",
        );
        const both = await runProgram("bus-operator-token", [
          ...local,
          "--signing-key-file",
          key,
          "--hs256-secret-file",
          key,
        ]);
        assert.equal(both.code, 2);
        assert.match(both.stderr, /--signing-key-file and --hs256-secret-file do not go together/);
        Deno.writeTextFileSync(join(dir, "public.jwk"), JSON.stringify(parseKey(Deno.readTextFileSync(key)).publicJwk));
        const publicOnly = await runProgram("bus-operator-token", [
          ...local,
          "--signing-key-file",
          join(dir, "public.jwk"),
        ]);
        assert.equal(publicOnly.code, 1);
        assert.match(publicOnly.stderr, /it holds a public key; --local signs with the private key/);
      } finally {
        await Promise.all([withKey.stop(), hs256Only.stop()]);
      }
    });
  },
});

Deno.test({
  name: "rotation against provider processes: publish, switch, retire; and the move from HS256",
  sanitizeResources: false,
  fn: async (t) => {
    await withFolder(async (dir) => {
      const base = { BUS_AUTH_HS256_SECRET: SECRET, BUS_AUTH_INTERNAL_SHARED_KEY: INTERNAL_KEY };
      const run = async (env: Record<string, string>, steps: (provider: ProviderProcess) => Promise<void>) => {
        const provider = await startProvider({ ...base, ...env, BUS_AUTH_ROUTE_PREFIX: "/local-dev/v1" });
        try {
          await steps(provider);
        } finally {
          await provider.stop();
        }
      };
      const old = join(dir, "signing-1.pem");
      const next = join(dir, "signing-2.pem");
      const oldKid = await generate("EdDSA", old);
      let hs256Token = "";
      let oldToken = "";
      let newToken = "";

      await t.step("HS256 until now", () =>
        run({}, async (provider) => {
          hs256Token = await internalToken(provider);
          assert.deepEqual(await publishedKids(provider), []);
        }));
      await t.step("the move: EdDSA signs, HS256 tokens stay accepted with BUS_AUTH_ACCEPT_HS256=true", () =>
        run(
          { BUS_AUTH_SIGNING_ALG: "EdDSA", BUS_AUTH_SIGNING_KEY_FILE: old, BUS_AUTH_ACCEPT_HS256: "true" },
          async (provider) => {
            oldToken = await internalToken(provider);
            assert.equal(decodeProtectedHeader(oldToken).kid, oldKid);
            assert.deepEqual(await checkStatus(provider, hs256Token), [200, undefined]);
            assert.deepEqual(await publishedKids(provider, "/local-dev/v1"), [oldKid]);
          },
        ));
      const newKid = await generate("EdDSA", next);
      await t.step("publish: the new key joins the verify list; both are published, the old one signs", () =>
        run(
          { BUS_AUTH_SIGNING_ALG: "EdDSA", BUS_AUTH_SIGNING_KEY_FILE: old, BUS_AUTH_VERIFY_KEY_FILES: next },
          async (provider) => {
            assert.deepEqual(await publishedKids(provider), [oldKid, newKid]);
            assert.equal(decodeProtectedHeader(await internalToken(provider)).kid, oldKid);
            assert.deepEqual(
              await checkStatus(provider, hs256Token),
              [401, "invalid_token"],
              "HS256 refused once the move is over",
            );
          },
        ));
      await t.step("switch: the new key signs, the old one's tokens are still accepted", () =>
        run(
          { BUS_AUTH_SIGNING_ALG: "EdDSA", BUS_AUTH_SIGNING_KEY_FILE: next, BUS_AUTH_VERIFY_KEY_FILES: old },
          async (provider) => {
            newToken = await internalToken(provider);
            assert.equal(decodeProtectedHeader(newToken).kid, newKid);
            assert.deepEqual(await checkStatus(provider, oldToken), [200, undefined]);
            assert.deepEqual(await publishedKids(provider), [newKid, oldKid]);
          },
        ));
      await t.step(
        "retire: without the old key its tokens are refused, the new ones work",
        () =>
          run({ BUS_AUTH_SIGNING_ALG: "EdDSA", BUS_AUTH_SIGNING_KEY_FILE: next }, async (provider) => {
            assert.deepEqual(await checkStatus(provider, oldToken), [401, "invalid_token"]);
            assert.deepEqual(await checkStatus(provider, newToken), [200, undefined]);
            assert.deepEqual(await publishedKids(provider), [newKid]);
          }),
      );
    });
  },
});
