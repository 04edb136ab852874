/**
 * A loopback port that was free a moment ago, for servers that must be
 * told their port before they start.
 *
 * @module
 */

/** Binds 127.0.0.1:0, reads the port the system chose, and frees it. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
