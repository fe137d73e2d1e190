// startServer's node:http fast path (src/main.ts) against the fetch handler it stands in for: two
// servers over two apps built alike (the same clock, the same seeded randomness, hence the same
// tokens and seqs), one taking the hot routes — sealed send, fetch, ack — through app.fastFetch, the
// other through a WHATWG Request and app.fetch. The same raw HTTP requests go to both, in the same
// order, and the raw answers (status line, every header but Date, body) must be byte for byte the
// same: successes, and each refusal — malformed, oversized, unauthorised, rate-limited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { encodeAckRequest, encodeBase64url, encodeBearerAuthorization, encodeSendMessageRequest } from '@sotto/protocol';
import { createMemoryStore } from '@sotto/store';
import { createApp, type App } from '@sotto/server';
import { seededRng } from '@sotto/test-support';
import { createNodeListener } from '../src/main.ts';
import { Clock, accessKeyHeader, authenticate, crypto, newUser, register, viaApp, type TestUser } from './support.ts';

const LIMIT = 4096;

interface Side {
  readonly app: App;
  readonly server: Server;
  readonly port: number;
  /** How often the listener asked app.fastFetch (the fast side only). */
  fastCalls: number;
}

async function side(fastPath: boolean, clock: Clock): Promise<Side> {
  const app = createApp({
    store: createMemoryStore(),
    crypto,
    now: clock.now,
    rng: seededRng('server-fast-path'),
    limits: { sweepIntervalMs: 0, maxJsonBodyBytes: LIMIT },
    // The per-address bucket runs dry within the test (the clock stands still): the last requests are 429.
    rateLimits: { perAddress: { capacity: 40, refillPerSecond: 1 }, perAccount: { capacity: 1000, refillPerSecond: 1 } },
  });
  const s = { app, server: undefined as unknown as Server, port: 0, fastCalls: 0 };
  const counted: App = {
    ...app,
    fastFetch: (request, info) => {
      s.fastCalls++;
      return app.fastFetch(request, info);
    },
  };
  s.server = createServer(createNodeListener(counted, fastPath));
  await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

/** One raw request on a new connection: the whole answer as text (Date removed), or what arrived
 *  before the server closed the connection ("" when it answered nothing). `hold` leaves the request
 *  unfinished (a body still to come) and waits for the server to answer or close. */
function raw(port: number, request: string, hold = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(data.toString('latin1').replace(/^Date: .*\r\n/im, ''));
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /^content-length: (\d+)$/im.exec(text.slice(0, end));
      if (length !== null && data.length >= end + 4 + Number(length[1])) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(request, 'latin1');
      if (!hold) socket.end();
    });
    socket.setTimeout(20_000, () => {
      reject(new Error(`no answer to ${request.slice(0, 60)}`));
      socket.destroy();
    });
  });
}

function req(method: string, target: string, headers: Readonly<Record<string, string>>, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: sotto.test'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (!('content-length' in headers) && !('transfer-encoding' in headers) && method !== 'GET') lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

test('fast path and fetch handler: the same bytes for every answer of the hot routes', { timeout: 60_000 }, async (t) => {
  const clock = new Clock();
  const fast = await side(true, clock);
  const slow = await side(false, clock);
  t.after(async () => {
    for (const s of [fast, slow]) {
      s.server.closeAllConnections();
      await new Promise((resolve) => s.server.close(resolve));
      await s.app.close();
    }
  });
  // The same users on both sides, set up in process (the bucket of 127.0.0.1 stays full).
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  const tokens: Uint8Array[] = [];
  for (const s of [fast, slow]) {
    const http = viaApp(s.app);
    await register(http, alice);
    await register(http, bob);
    tokens.push(await authenticate(http, bob));
  }
  assert.deepEqual(tokens[0], tokens[1], 'both sides handed out the same token');
  const bobToken = tokens[0] ?? new Uint8Array(0);

  const jsonType = { 'content-type': 'application/json' };
  const key = (u: TestUser): Record<string, string> => ({ ...jsonType, ...accessKeyHeader(u.accessKey) });
  const auth = { authorization: encodeBearerAuthorization(bobToken) };
  const envelope = (n: number): Uint8Array => new Uint8Array(512).fill(n);
  const id = (n: number): Uint8Array => new Uint8Array(16).fill(n);
  const send = (n: number): string => encodeSendMessageRequest({ id: id(n), envelope: envelope(n) });

  const cases: [string, string, boolean?][] = [
    ['sealed send', req('PUT', '/v1/messages/bob/1', key(bob), send(1))],
    ['a second message', req('PUT', '/v1/messages/bob/1', key(bob), send(2))],
    ['the same id again: a duplicate', req('PUT', '/v1/messages/bob/1', key(bob), send(1))],
    ['upper-case name, folded', req('PUT', '/v1/messages/BOB/1', key(bob), send(3))],
    ['malformed JSON', req('PUT', '/v1/messages/bob/1', key(bob), '{"id":')],
    ['not JSON at all', req('PUT', '/v1/messages/bob/1', key(bob), 'hello')],
    ['an envelope of no bucket size', req('PUT', '/v1/messages/bob/1', key(bob), JSON.stringify({ id: encodeBase64url(id(9)), envelope: encodeBase64url(new Uint8Array(700)) }))],
    ['wrong content type', req('PUT', '/v1/messages/bob/1', { 'content-type': 'text/plain', ...accessKeyHeader(bob.accessKey) }, send(4))],
    ['no credential', req('PUT', '/v1/messages/bob/1', jsonType, send(4))],
    ["alice's key for bob", req('PUT', '/v1/messages/bob/1', key(alice), send(4))],
    ['a malformed key', req('PUT', '/v1/messages/bob/1', { ...jsonType, 'sotto-access-key': 'not base64!' }, send(4))],
    ['both credentials', req('PUT', '/v1/messages/bob/1', { ...key(bob), ...auth }, send(4))],
    ['an unknown account', req('PUT', '/v1/messages/carol/1', key(bob), send(4))],
    ['the right key, an unknown device', req('PUT', '/v1/messages/bob/2', key(bob), send(4))],
    ['a non-canonical device id', req('PUT', '/v1/messages/bob/01', key(bob), send(4))],
    ['a device id over u32', req('PUT', '/v1/messages/bob/4294967296', key(bob), send(4))],
    ['an invalid username', req('PUT', '/v1/messages/b-o-b/1', key(bob), send(4))],
    ['a repeated access-key header', `PUT /v1/messages/bob/1 HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nSotto-Access-Key: ${accessKeyHeader(bob.accessKey)['sotto-access-key'] ?? ''}\r\nsotto-access-key: x\r\ncontent-length: ${send(5).length}\r\n\r\n${send(5)}`],
    ['oversized by Content-Length (the body never sent)', req('PUT', '/v1/messages/bob/1', { ...key(bob), 'content-length': String(LIMIT + 1) }), true],
    ['oversized while streaming (chunked)', req('PUT', '/v1/messages/bob/1', { ...key(bob), 'transfer-encoding': 'chunked' }, `${(LIMIT + 10).toString(16)}\r\n${'x'.repeat(LIMIT + 10)}\r\n`), true],
    ['a body that fits, chunked', req('PUT', '/v1/messages/bob/1', { ...key(bob), 'transfer-encoding': 'chunked' }, `${send(6).length.toString(16)}\r\n${send(6)}\r\n0\r\n\r\n`)],
    ['fetch', req('GET', '/v1/messages?after=0&limit=10', auth)],
    ['fetch after a cursor', req('GET', '/v1/messages?after=1&limit=1', auth)],
    ['fetch without limit', req('GET', '/v1/messages?after=0', auth)],
    ['fetch with an empty query', req('GET', '/v1/messages?', auth)],
    ['fetch without a query', req('GET', '/v1/messages', auth)],
    ['fetch without a token', req('GET', '/v1/messages?after=0&limit=10', {})],
    ['fetch with an unknown token', req('GET', '/v1/messages?after=0&limit=10', { authorization: encodeBearerAuthorization(new Uint8Array(32)) })],
    ['fetch with a malformed token', req('GET', '/v1/messages?after=0&limit=10', { authorization: 'Bearer !' })],
    ['ack', req('POST', '/v1/messages/ack', { ...jsonType, ...auth }, encodeAckRequest({ ids: [id(1), id(7)] }))],
    ['ack, malformed', req('POST', '/v1/messages/ack', { ...jsonType, ...auth }, '{"ids":[1]}')],
    ['ack without a token', req('POST', '/v1/messages/ack', jsonType, encodeAckRequest({ ids: [id(2)] }))],
    ['ack with the wrong content type', req('POST', '/v1/messages/ack', { 'content-type': 'application/octet-stream', ...auth }, encodeAckRequest({ ids: [id(2)] }))],
    ['a wrong method on a hot path (405, fetch path on both)', req('DELETE', '/v1/messages/bob/1', key(bob))],
    ['a target the fast path leaves alone', req('PUT', '/v1/messages/bob/./1', key(bob), send(8))],
  ];
  // Until the per-address bucket is dry: the rest are 429 with Retry-After.
  for (let i = 0; cases.length < 44; i++) cases.push([`rate-limited ${i}`, req('PUT', '/v1/messages/bob/1', key(bob), send(20 + i))]);

  const answers: string[] = [];
  for (const [what, request, hold] of cases) {
    const a = await raw(fast.port, request, hold);
    const b = await raw(slow.port, request, hold);
    assert.equal(a, b, `${what}: the fast path answered differently`);
    answers.push(`${what}: ${a.split('\r\n')[0] ?? ''}`);
  }
  // What the cases must have covered (the answers themselves were compared above).
  const statusOf = (what: string): string => answers.find((x) => x.startsWith(`${what}: `))?.split(': ')[1] ?? '';
  assert.equal(statusOf('sealed send'), 'HTTP/1.1 200 OK');
  assert.equal(statusOf('malformed JSON'), 'HTTP/1.1 400 Bad Request');
  assert.equal(statusOf('oversized by Content-Length (the body never sent)'), 'HTTP/1.1 413 Payload Too Large');
  assert.equal(statusOf('no credential'), 'HTTP/1.1 401 Unauthorized');
  assert.equal(statusOf('fetch'), 'HTTP/1.1 200 OK');
  assert.equal(statusOf('ack'), 'HTTP/1.1 200 OK');
  assert.equal(statusOf('rate-limited 7'), 'HTTP/1.1 429 Too Many Requests');
  assert.ok(fast.fastCalls >= cases.length - 2, `the fast side took the fast path (${fast.fastCalls} of ${cases.length})`);
  assert.equal(slow.fastCalls, 0);
  // Both apps saw the same requests the same way.
  const metrics = async (s: Side): Promise<string> => (await viaApp(s.app)('GET', '/metrics')).text();
  assert.equal(await metrics(fast), await metrics(slow));
});
