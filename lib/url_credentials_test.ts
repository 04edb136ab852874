import assert from "node:assert/strict";
import { hasUrlCredentials, maskUrlCredentials } from "./url_credentials.ts";

Deno.test("maskUrlCredentials() hides user and password of every URL in a text", () => {
  assert.equal(
    maskUrlCredentials('Cannot use "https://alice:s3cret@auth.example/api/v1/auth" and http://bob@h:8080/x'),
    'Cannot use "https://***@auth.example/api/v1/auth" and http://***@h:8080/x',
  );
  assert.equal(maskUrlCredentials("http://127.0.0.1:8080/healthz"), "http://127.0.0.1:8080/healthz");
  assert.equal(maskUrlCredentials("postgres://u:p%40ss@db/auth"), "postgres://***@db/auth");
});

Deno.test("hasUrlCredentials() finds a user name or password, parsed or not", () => {
  assert.equal(hasUrlCredentials("https://alice:s3cret@auth.example/"), true);
  assert.equal(hasUrlCredentials("https://alice@auth.example/"), true);
  assert.equal(hasUrlCredentials("https://auth.example/a@b"), false);
  assert.equal(hasUrlCredentials("http://u:p@[bad"), true);
});
