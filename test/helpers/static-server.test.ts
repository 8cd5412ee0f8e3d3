import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from './static-server.ts';

describe('the static server helper', () => {
  let root: string;
  let outside: string;
  let server: StaticServer;
  beforeAll(async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'twofold-static-'));
    root = path.join(base, 'dist');
    outside = path.join(base, 'secret.txt');
    await mkdir(path.join(root, 'p', 'x7f3'), { recursive: true });
    await mkdir(path.join(root, '_astro'));
    await mkdir(path.join(root, 'empty'));
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>home</title>');
    await writeFile(path.join(root, 'p', 'x7f3', 'index.html'), '<!doctype html><title>portal</title>');
    await writeFile(path.join(root, '_astro', 'unlock.js'), 'export {}');
    await writeFile(path.join(root, '_astro', 'site.css'), 'body{}');
    await writeFile(path.join(root, 'logo.svg'), '<svg/>');
    await writeFile(path.join(root, 'data.bin'), Buffer.from([1, 2, 3]));
    await writeFile(outside, 'must not be served');
    server = await startStaticServer(root);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(path.dirname(root), { recursive: true, force: true });
  });

  it.each([
    { name: 'the root', url: '/', status: 200, type: 'text/html; charset=utf-8', body: 'home' },
    { name: 'a directory with a trailing slash', url: '/p/x7f3/', status: 200, type: 'text/html; charset=utf-8', body: 'portal' },
    { name: 'a directory without a trailing slash', url: '/p/x7f3', status: 200, type: 'text/html; charset=utf-8', body: 'portal' },
    { name: 'a script', url: '/_astro/unlock.js', status: 200, type: 'text/javascript; charset=utf-8', body: 'export' },
    { name: 'a stylesheet', url: '/_astro/site.css?v=1', status: 200, type: 'text/css; charset=utf-8', body: 'body' },
    { name: 'an SVG', url: '/logo.svg', status: 200, type: 'image/svg+xml', body: '<svg' },
    { name: 'an unknown extension', url: '/data.bin', status: 200, type: 'application/octet-stream', body: '' },
    { name: 'a directory without index (no listing)', url: '/empty/', status: 404 },
    { name: 'a directory listing of assets', url: '/_astro/', status: 404 },
    { name: 'a missing file', url: '/nope.html', status: 404 },
    { name: 'a traversal', url: '/../secret.txt', status: 404 },
    { name: 'an encoded traversal', url: '/%2e%2e/secret.txt', status: 404 },
    { name: 'an encoded slash traversal', url: '/..%2fsecret.txt', status: 404 },
    { name: 'a NUL byte', url: '/index.html%00.js', status: 404 },
    { name: 'broken percent-encoding', url: '/%E0%A4%A', status: 404 },
  ])('answers $name with $status', async ({ url, status, type, body }) => {
    const response = await rawGet(server.port, url);
    expect(response.status).toBe(status);
    if (type) expect(response.type).toBe(type);
    if (body) expect(response.body).toContain(body);
    expect(response.body).not.toContain('must not be served');
  });

  it('refuses methods other than GET and HEAD', async () => {
    const response = await fetch(`${server.url}/`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
  });

  it('records requests, without the fragment a browser never sends', async () => {
    await fetch(`${server.url}/p/x7f3/#k=fragtoken`);
    expect(server.requests.at(-1)).toEqual({ method: 'GET', url: '/p/x7f3/', status: 200 });
    expect(server.requests.some((r) => r.url.includes('fragtoken'))).toBe(false);
  });
});

/** A GET with the path sent exactly as written (fetch() would normalise `..` away). */
async function rawGet(port: number, url: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const type = /^content-type: (.*)$/im.exec(head)?.[1]?.trim();
      resolve({ status, type, body: rest.join('\r\n\r\n') });
    });
  });
}
