/**
 * A loopback TCP proxy that can go silent: while frozen it forwards nothing
 * in either direction and closes nothing, as a network path that drops
 * packets does (no FIN, no RST). For tests of what notices a silent peer,
 * and of how many round trips a client makes (it counts the client's reads).
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy {
  /** Port on 127.0.0.1 that forwards to the target. */
  readonly port: number;
  /** Stops forwarding; bytes that arrive meanwhile wait. */
  freeze(): void;
  /** Forwards again, the waiting bytes first. */
  thaw(): void;
  /**
   * Reads from clients so far. A client that waits for each answer before it
   * writes again makes one read a round trip: on loopback a small write
   * arrives whole.
   */
  readonly clientReads: number;
  close(): Promise<void>;
}

/** Starts a proxy from a free loopback port to `127.0.0.1:targetPort`. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  let thawed: Promise<void> = Promise.resolve();
  let release: () => void = () => {};

  let clientReads = 0;
  const pump = async (from: Deno.Conn, to: Deno.Conn, fromClient: boolean) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const read = await from.read(buffer);
        if (read === null) break;
        if (fromClient) clientReads++;
        await thawed;
        let written = 0;
        while (written < read) written += await to.write(buffer.subarray(written, read));
      }
    } catch {
      // either side closed
    }
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch {
        // already closed
      }
      open.delete(conn);
    }
  };

  const accepting = (async () => {
    for await (const client of listener) {
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      } catch {
        client.close();
        continue;
      }
      open.add(client).add(server);
      pumps.push(pump(client, server, true), pump(server, client, false));
    }
  })().catch(() => {});

  return {
    port: (listener.addr as Deno.NetAddr).port,
    freeze() {
      thawed = new Promise((resolve) => release = resolve);
    },
    thaw() {
      release();
      thawed = Promise.resolve();
    },
    get clientReads() {
      return clientReads;
    },
    async close() {
      release();
      listener.close();
      const closeOpen = () => {
        for (const conn of open) {
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      };
      closeOpen();
      await accepting;
      // A connection accepted while the listener was closing is in `open` only now.
      closeOpen();
      await Promise.allSettled(pumps);
    },
  };
}
