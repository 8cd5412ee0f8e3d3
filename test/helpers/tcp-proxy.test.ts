import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy } from './tcp-proxy.ts';

/** An echo server stands in for the real one: whatever reaches it comes back. */
describe('the TCP proxy helper', () => {
  let echo: net.Server;
  let port: number;
  beforeAll(async () => {
    echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    port = (echo.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => echo.close(resolve));
  });

  function client(proxyPort: number) {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let received = '';
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => {});
    return { socket, closed, received: () => received };
  }
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    return check();
  };

  it('forwards both ways and counts bytes to the client', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    const c = client(proxy.port);
    c.socket.write('hello');
    expect(await until(() => c.received() === 'hello')).toBe(true);
    expect(proxy.bytesToClient).toBe(5);
    expect(proxy.openConnections).toBe(1);
    await proxy.close();
  });

  it('cuts every open connection', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    const c = client(proxy.port);
    await until(() => proxy.openConnections === 1);
    expect(proxy.cutAll()).toBe(1);
    await c.closed;
    expect(proxy.openConnections).toBe(0);
    await proxy.close();
  });

  it('cuts a connection after a number of bytes went to the client', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    const cut = proxy.cutAfterBytes(1_000);
    const c = client(proxy.port);
    c.socket.write('x'.repeat(5_000));
    expect(await cut).toEqual({ forwarded: 1_000 });
    const received = await c.closed;
    expect(received.length).toBeLessThanOrEqual(1_000);
    await proxy.close();
  });

  it('stalls open connections without closing them, while new ones work', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    const stalled = client(proxy.port);
    await until(() => proxy.openConnections === 1);
    expect(proxy.stallExisting()).toBe(1);
    stalled.socket.write('lost in the void');
    const fresh = client(proxy.port);
    fresh.socket.write('still works');
    expect(await until(() => fresh.received() === 'still works')).toBe(true);
    expect(stalled.received()).toBe('');
    expect(stalled.socket.destroyed).toBe(false);
    await proxy.close();
  });

  it('refuses new connections while refusing', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port });
    proxy.setRefusing(true);
    const c = client(proxy.port);
    c.socket.write('anyone?');
    expect(await c.closed).toBe('');
    expect(proxy.acceptedConnections).toBe(1);
    await proxy.close();
  });
});
