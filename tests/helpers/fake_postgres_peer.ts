/**
 * Fake PostgreSQL peers on loopback for tests of connection failures: a TCP
 * listener that hands each connection to a handler, and the handler of a
 * server without TLS.
 *
 * @module
 */

/** Plays a PostgreSQL server without TLS: answers the SSLRequest (8 bytes) with "N", then waits for the close. */
export async function refuseTls(conn: Deno.Conn): Promise<void> {
  try {
    const request = new Uint8Array(8);
    let read = 0;
    while (read < request.length) {
      const n = await conn.read(request.subarray(read));
      if (n === null) return;
      read += n;
    }
    await conn.write(new TextEncoder().encode("N"));
    while (await conn.read(new Uint8Array(1024)) !== null) {
      // Whatever the client sends next is not answered.
    }
  } catch {
    // Closed.
  }
}

/** A TCP listener on 127.0.0.1 that hands each connection to `onConnection`. */
export async function fakePeer(
  onConnection: (conn: Deno.Conn) => void,
): Promise<{ port: number; close(): void; closeConnections(): void }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        onConnection(conn);
      }
    } catch {
      // Closed.
    }
  })();
  await Promise.resolve();
  const closeConnections = () => {
    for (const conn of conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    closeConnections,
    close() {
      listener.close();
      closeConnections();
      void loop;
    },
  };
}
