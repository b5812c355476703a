// The registry's HTTP client against a real loopback server: headers sent twice come as arrays,
// the body helpers read what was sent, a dumped, empty or HEAD body gives its connection back (one
// connection serves many requests), and dropped connections fail with the codes the retries know.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { HttpClient } from '../../src/registry/http.js';
import { isRetryableNetworkError } from '../../src/registry/retry.js';

let server: Server;
let base = '';
const connections = new Set<number>();

before(async () => {
  server = createServer((request, response) => {
    connections.add(request.socket.remotePort ?? 0);
    const path = request.url ?? '/';
    if (path === '/challenge') {
      response.setHeader('www-authenticate', ['Bearer realm="https://auth.example/token"', 'Basic realm="x"']);
      response.writeHead(401).end('{"errors":[]}');
    } else if (path === '/echo') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: request.method, body: Buffer.concat(chunks).toString(), length: request.headers['content-length'] ?? null })));
    } else if (path === '/big') {
      response.writeHead(200, { 'content-length': String(1 << 20) }).end(Buffer.alloc(1 << 20, 7));
    } else if (path === '/cut') {
      response.writeHead(200, { 'content-length': '1000' });
      response.write(Buffer.alloc(10));
      setTimeout(() => request.socket.destroy(), 20);
    } else {
      response.writeHead(path === '/empty' ? 201 : 404, path === '/empty' ? { 'content-length': '0', location: '/next' } : {}).end(path === '/empty' || request.method === 'HEAD' ? undefined : 'not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('headers sent twice are an array; text, json and arrayBuffer read the body', async () => {
  const client = new HttpClient({ connections: 2 });
  try {
    const challenged = await client.request(new URL('/challenge', base), { method: 'GET' });
    assert.equal(challenged.statusCode, 401);
    assert.deepEqual(challenged.headers['www-authenticate'], ['Bearer realm="https://auth.example/token"', 'Basic realm="x"']);
    assert.equal(await challenged.body.text(), '{"errors":[]}');
    const echoed = await client.request(new URL('/echo', base), { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: Buffer.from('bytes') });
    assert.deepEqual(await echoed.body.json(), { method: 'PUT', body: 'bytes', length: '5' });
    const big = await client.request(new URL('/big', base), { method: 'GET' });
    assert.equal((await big.body.arrayBuffer()).byteLength, 1 << 20);
  } finally {
    client.close();
  }
});

test('one connection serves every request whose body was dumped or empty; HEADs never hold one', async () => {
  connections.clear();
  const client = new HttpClient({ connections: 1 });
  try {
    for (let i = 0; i < 20; i += 1) {
      const missing = await client.request(new URL('/nothing', base), { method: 'GET' });
      assert.equal(missing.statusCode, 404);
      await missing.body.dump();
      const empty = await client.request(new URL('/empty', base), { method: 'POST' });
      assert.equal(empty.headers['location'], '/next');
    }
    assert.equal(connections.size, 1, 'a single kept-alive connection');
    // Bodies nobody reads: with one connection allowed, a held one would stop the next request.
    for (let i = 0; i < 20; i += 1) assert.equal((await client.request(new URL('/nothing', base), { method: 'HEAD' })).statusCode, 404);
  } finally {
    client.close();
  }
});

test('a refused connection and a body cut short fail with codes the retries know', async () => {
  const client = new HttpClient({ connections: 1 });
  try {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await client.request(new URL(`http://127.0.0.1:${port}/v2/`), { method: 'GET' }).then(() => undefined, (error: unknown) => error);
    assert.equal((refused as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(isRetryableNetworkError(refused), true);
    const cut = await client.request(new URL('/cut', base), { method: 'GET' });
    const error = await cut.body.text().then(() => undefined, (failure: unknown) => failure);
    assert.ok(error instanceof Error, 'reading a body cut short fails');
    assert.equal(isRetryableNetworkError(error), true, `${(error as { code?: string }).code}`);
  } finally {
    client.close();
  }
});
