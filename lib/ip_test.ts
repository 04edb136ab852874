import assert from "node:assert/strict";
import { cidrContains, parseCidr, parseIp, resolveClientIp } from "./ip.ts";

Deno.test("parseIp() reads IPv4, IPv6 and IPv4-mapped IPv6, and refuses junk", () => {
  assert.deepEqual(parseIp("192.0.2.1"), new Uint8Array([192, 0, 2, 1]));
  assert.deepEqual(parseIp("::ffff:192.0.2.1"), new Uint8Array([192, 0, 2, 1]));
  assert.deepEqual(parseIp("[::1]"), new Uint8Array([...new Array(15).fill(0), 1]));
  assert.equal(parseIp("2001:db8::1")?.length, 16);
  for (const bad of ["256.0.0.1", "1.2.3", "01.2.3.4", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "host", ""]) {
    assert.equal(parseIp(bad), null, bad);
  }
});

Deno.test("cidrContains() matches prefixes bit by bit", () => {
  const range = parseCidr("10.0.0.0/9")!;
  assert.equal(cidrContains(range, parseIp("10.127.255.255")!), true);
  assert.equal(cidrContains(range, parseIp("10.128.0.0")!), false);
  assert.equal(cidrContains(parseCidr("2001:db8::/32")!, parseIp("2001:db8:ffff::1")!), true);
  assert.equal(cidrContains(parseCidr("2001:db8::/32")!, parseIp("192.0.2.1")!), false);
  assert.equal(parseCidr("10.0.0.0/33"), null);
  assert.equal(parseCidr("10.0.0.0/8/1"), null);
});

Deno.test("resolveClientIp() believes X-Forwarded-For only from trusted proxies", () => {
  const trusted = [parseCidr("10.0.0.0/8")!];
  assert.equal(resolveClientIp("198.51.100.1", "203.0.113.9", trusted), "198.51.100.1");
  assert.equal(resolveClientIp("10.0.0.2", "203.0.113.9", trusted), "203.0.113.9");
  assert.equal(resolveClientIp("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.5", trusted), "203.0.113.9");
  assert.equal(resolveClientIp("10.0.0.2", null, trusted), "10.0.0.2");
  assert.equal(resolveClientIp("10.0.0.2", "junk", trusted), "10.0.0.2");
});
