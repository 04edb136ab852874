import assert from "node:assert/strict";
import { StoreUnavailableError } from "../lib/errors.ts";
import { RelayWatch } from "../lib/otp/relay_watch.ts";
import { SmtpOtpSender } from "../lib/otp/smtp.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import type { Store } from "../lib/store/store.ts";
import { createHarness } from "../tests/helpers/app_testing.ts";
import { everyStore } from "../tests/helpers/every_store.ts";
import { startSmtpCatcher } from "../tests/helpers/smtp_catcher.ts";

const PREFIX = "/local-dev/v1";
const stores = await everyStore("probes");

/** A memory store on which every call but those named fails as an unreachable engine would. */
function storeDownExcept(...working: string[]): Store {
  const store = new MemoryStore();
  return new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (typeof value !== "function") return value;
      if (working.includes(String(name))) return value.bind(target);
      return () => Promise.reject(new StoreUnavailableError("The store is unavailable: connection refused"));
    },
  });
}

Deno.test("GET /livez answers 200 at the root and under the prefix without asking the store", async () => {
  const h = createHarness({ routePrefix: PREFIX, store: storeDownExcept() });
  for (const path of ["/livez", `${PREFIX}/livez`]) {
    const reply = await h.call("GET", path);
    assert.equal(reply.status, 200, path);
    assert.deepEqual(reply.body, { ok: true });
  }
  assert.equal((await h.call("GET", "/healthz")).status, 503, "while the store is down");
});

Deno.test("GET /readyz is 503 not_ready while the store does not answer; details go to the log only", async () => {
  const h = createHarness({ routePrefix: PREFIX, store: storeDownExcept() });
  for (const path of ["/readyz", `${PREFIX}/readyz`]) {
    const reply = await h.call("GET", path);
    assert.equal(reply.status, 503, path);
    assert.deepEqual(reply.body, {
      ok: false,
      store: "unavailable",
      schema: "unknown",
      schema_version: null,
      schema_latest: null,
      smtp: "not_used",
      error: "not_ready",
      message: "Not ready: the store does not answer",
    });
    assert.ok(!reply.text.includes("connection refused"));
  }
  assert.ok(h.logs.some((record) => record.msg === "readiness: the store does not answer"));
});

Deno.test("GET /healthz keeps its meaning and shape", async () => {
  const h = createHarness();
  const reply = await h.call("GET", "/healthz");
  assert.equal(reply.status, 200);
  assert.deepEqual(Object.keys(reply.body).sort(), ["ok", "otp_sender", "store", "version"]);
});

for (const backend of stores.backends) {
  Deno.test({
    name: `GET /readyz on ${backend.kind}: ready on a current schema, 503 when it falls behind the code`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const fresh = await backend.fresh();
      try {
        const h = createHarness({ store: fresh.store });
        const ready = await h.call("GET", "/readyz");
        assert.equal(ready.status, 200, ready.text);
        const { schema_latest: latest } = ready.body;
        assert.deepEqual(ready.body, {
          ok: true,
          store: "ok",
          schema: "current",
          schema_version: latest,
          schema_latest: latest,
          smtp: "not_used",
        });
        if (fresh.exec === undefined) return; // The memory store has no schema to fall behind.
        const table = backend.kind === "postgres" ? "bus_auth_schema_migrations" : "schema_migrations";
        await fresh.exec(`DELETE FROM ${table} WHERE version = ${latest}`);
        const stale = await h.call("GET", "/readyz");
        assert.equal(stale.status, 503, stale.text);
        assert.equal(stale.body.schema, "behind");
        assert.equal(stale.body.schema_version, latest - 1);
        assert.equal(
          stale.body.message,
          `Not ready: the store schema is behind the code (version ${latest - 1} of ${latest})`,
        );
        await fresh.exec(
          `INSERT INTO ${table} (version, ${
            backend.kind === "postgres" ? "description" : "applied_at"
          }) VALUES (${latest}, ${backend.kind === "postgres" ? "'back'" : "0"}), (${latest + 1}, ${
            backend.kind === "postgres" ? "'newer replica'" : "0"
          })`,
        );
        const ahead = await h.call("GET", "/readyz");
        assert.equal(ahead.status, 200, "a schema a newer replica migrated keeps older replicas ready");
        assert.equal(ahead.body.schema, "ahead");
        await fresh.store.close();
        assert.equal((await h.call("GET", "/readyz")).status, 503, "a closed store does not answer");
        assert.equal((await h.call("GET", "/livez")).status, 200);
      } finally {
        await fresh.dispose();
      }
    },
  });
}

Deno.test({
  name: "GET /readyz with the SMTP sender: ready while the relay took a connection lately, 503 once it went away",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const catcher = await startSmtpCatcher();
    const smtp = new SmtpOtpSender({
      kind: "smtp",
      host: "127.0.0.1",
      port: catcher.port,
      tls: "none",
      from: "auth@example.com",
      username: null,
      password: null,
    });
    const clock = { now: Date.now() };
    const relay = new RelayWatch(() => smtp.verify(1000), { now: () => clock.now, okAt: clock.now });
    const h = createHarness({ relay });
    try {
      const ready = await h.call("GET", "/readyz");
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.body.smtp, "ok");
      assert.equal(catcher.connections, 0, "the start-up check counts for a minute");
      clock.now += 61_000;
      assert.equal((await h.call("GET", "/readyz")).status, 200);
      assert.equal(catcher.connections, 1, "one check after a minute");
      await catcher.close();
      clock.now += 61_000;
      const gone = await h.call("GET", "/readyz");
      assert.equal(gone.status, 503, gone.text);
      assert.equal(gone.body.smtp, "unreachable");
      assert.equal(gone.body.store, "ok");
      assert.equal(gone.body.message, "Not ready: the SMTP relay took no connection within the last minute");
      assert.ok(!gone.text.includes(String(catcher.port)), "the relay's address stays in the log");
      const logged = h.logs.find((record) => record.msg === "readiness: the SMTP relay is unreachable");
      assert.match(String(logged?.detail), /refused the connection/);
    } finally {
      await smtp.close();
      await catcher.close();
    }
  },
});

Deno.test("concurrent /healthz and /readyz share one store query at a time; later ones ask again", async () => {
  const store = new MemoryStore();
  const calls = { ping: 0, schema: 0 };
  let release = () => {};
  const gate = () => new Promise<void>((resolve) => release = resolve);
  const counting = new Proxy(store, {
    get(target, name) {
      if (name === "ping") return () => (calls.ping++, gate());
      if (name === "schemaVersion") return () => (calls.schema++, gate().then(() => target.schemaVersion()));
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const h = createHarness({ store: counting });
  const health = Array.from({ length: 20 }, () => h.call("GET", "/healthz"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  release();
  assert.ok((await Promise.all(health)).every((reply) => reply.status === 200));
  assert.equal(calls.ping, 1, "20 concurrent probes, one ping");
  const ready = Array.from({ length: 20 }, () => h.call("GET", "/readyz"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  release();
  assert.ok((await Promise.all(ready)).every((reply) => reply.status === 200));
  assert.equal(calls.schema, 1, "20 concurrent probes, one schema read");
  const later = h.call("GET", "/healthz");
  await new Promise((resolve) => setTimeout(resolve, 10));
  release();
  assert.equal((await later).status, 200);
  assert.equal(calls.ping, 2, "a probe after the answers asks the store again");
});
