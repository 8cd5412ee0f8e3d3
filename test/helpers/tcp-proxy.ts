/**
 * A TCP proxy for fault injection between a client under test and a real server:
 *
 *   cutAll()            — reset every open connection (a network drop, a killed NAT entry)
 *   cutAfterBytes(n)    — reset a connection once n more bytes went to the client (mid-FETCH)
 *   stallExisting()     — open connections stop forwarding in both directions but stay open
 *                         (a silently dead peer); new connections work normally
 *   setRefusing(true)   — new connections are closed at once (the server looks down)
 */
import net from 'node:net';

export interface TcpProxy {
  host: string;
  port: number;
  /** Connections currently open. */
  readonly openConnections: number;
  /** Connections accepted since start (refused ones included). */
  readonly acceptedConnections: number;
  /** Bytes forwarded from the server to clients since start. */
  readonly bytesToClient: number;
  cutAll(): number;
  /** Resolves when the cut happened; reports how many bytes reached the client before it. */
  cutAfterBytes(bytes: number): Promise<{ forwarded: number }>;
  stallExisting(): number;
  setRefusing(refusing: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
  stalled: boolean;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  let bytesToClient = 0;
  let refusing = false;
  let cutRule: { remaining: number; forwarded: number; resolve: (r: { forwarded: number }) => void } | undefined;

  const cut = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.server.destroy();
  };

  const forward = (pair: Pair, from: net.Socket, to: net.Socket, toClient: boolean) => {
    from.on('data', (chunk: Buffer) => {
      if (toClient && cutRule) {
        const rule = cutRule;
        if (chunk.length >= rule.remaining) {
          cutRule = undefined;
          const part = chunk.subarray(0, rule.remaining);
          bytesToClient += part.length;
          to.write(part, () => {
            cut(pair);
            rule.resolve({ forwarded: rule.forwarded + part.length });
          });
          from.pause();
          return;
        }
        rule.remaining -= chunk.length;
        rule.forwarded += chunk.length;
      }
      if (toClient) bytesToClient += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!pair.stalled) from.resume();
        });
      }
    });
  };

  const server = net.createServer((client) => {
    accepted++;
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, server: upstream, stalled: false };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    forward(pair, client, upstream, false);
    forward(pair, upstream, client, true);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  return {
    host: '127.0.0.1',
    port: address.port,
    get openConnections() {
      return pairs.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    get bytesToClient() {
      return bytesToClient;
    },
    cutAll() {
      const count = pairs.size;
      for (const pair of [...pairs]) cut(pair);
      return count;
    },
    cutAfterBytes(bytes) {
      return new Promise((resolve) => {
        cutRule = { remaining: Math.max(1, bytes), forwarded: 0, resolve };
      });
    },
    stallExisting() {
      let count = 0;
      for (const pair of pairs) {
        if (pair.stalled) continue;
        pair.stalled = true;
        pair.client.pause();
        pair.server.pause();
        count++;
      }
      return count;
    },
    setRefusing(value) {
      refusing = value;
    },
    close() {
      for (const pair of [...pairs]) cut(pair);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
