// The real server (startServer on 127.0.0.1, port 0, a real SQLite file in a temporary directory) and
// its WebSocket (docs/protocol/09 §9.8): authentication, catch-up of a backlog then live pushes in
// arrival order, acks that delete, re-delivery of whatever was not acknowledged, the in-flight window,
// prekeysLow, replacement of a second connection, and a malformed frame closing 4400 without harm.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  decodeFetchResponse,
  decodeServerFrame,
  encodeClientFrame,
  WS_CLOSE_MALFORMED,
  WS_CLOSE_REPLACED,
  WS_CLOSE_UNAUTHORIZED,
  type ServerFrame,
} from '@sotto/protocol';
import { startServer, SQLITE_FILE, type RunningServer, type ServerLimits } from '@sotto/server';
import { accessKeyHeader, authenticate, bearer, binary, expectError, expectOk, json, prekeyUpload, registeredPair, rng, sendBody, viaNetwork, type Http, type TestUser } from './support.ts';

const root = mkdtempSync(join(tmpdir(), 'sotto-server-ws-'));
after(() => {
  for (const c of Client.all) c.ws.terminate();
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;

interface World {
  server: RunningServer;
  http: Http;
  dataDir: string;
  alice: TestUser;
  bob: TestUser;
  bobToken: Uint8Array;
}

/** A server for one test, closed (with every client socket) when the test ends, pass or fail. */
async function world(t: TestContext, limits: Partial<ServerLimits> = {}): Promise<World> {
  const dataDir = join(root, String(++dirs));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, limits });
  t.after(() => server.close());
  const http = viaNetwork(server.url);
  const { alice, bob } = await registeredPair(http);
  return { server, http, dataDir, alice, bob, bobToken: await authenticate(http, bob) };
}

/** A WebSocket client that queues frames and remembers how it was closed. */
class Client {
  readonly ws: WebSocket;
  readonly #frames: ServerFrame[] = [];
  readonly #waiting: ((f: ServerFrame) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  /** Every client ever made, terminated by the after hook of its test. */
  static readonly all = new Set<Client>();

  constructor(url: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`);
    Client.all.add(this);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        resolve();
      });
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
      });
    });
    this.ws.on('message', (data: Buffer) => {
      const frame = decodeServerFrame(new Uint8Array(data));
      const w = this.#waiting.shift();
      if (w !== undefined) w(frame);
      else this.#frames.push(frame);
    });
  }

  static async connect(url: string, token?: Uint8Array): Promise<Client> {
    const c = new Client(url);
    await c.opened;
    if (token !== undefined) {
      c.send(encodeClientFrame({ type: 'auth', token }));
      assert.deepEqual(await c.next(), { type: 'ready' });
    }
    return c;
  }

  send(text: string | Buffer): void {
    this.ws.send(text);
  }

  next(): Promise<ServerFrame> {
    const f = this.#frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async messages(n: number): Promise<Extract<ServerFrame, { type: 'message' }>[]> {
    const out: Extract<ServerFrame, { type: 'message' }>[] = [];
    while (out.length < n) {
      const f = await this.next();
      if (f.type !== 'message') assert.fail(`expected a message frame, got ${JSON.stringify(f)}`);
      out.push(f);
    }
    return out;
  }

  ack(ids: readonly Uint8Array[]): void {
    this.send(encodeClientFrame({ type: 'ack', ids }));
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000);
    return this.closed;
  }
}

async function sendTo(w: World, from: TestUser, to: TestUser, n: number): Promise<Uint8Array[]> {
  const ids: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const id = rng(16);
    ids.push(id);
    await expectOk(await w.http('PUT', `/v1/messages/${to.name}/1`, json(await sendBody(from, to, Date.now(), id), accessKeyHeader(to.accessKey))));
  }
  return ids;
}


test('websocket: backlog first, then live pushes, in arrival order; acks delete; reconnect re-delivers the rest', { timeout: 60_000 }, async (t) => {
  t.after(() => {
    for (const c of Client.all) c.ws.terminate();
  });
  const w = await world(t);
  assert.ok(existsSync(join(w.dataDir, SQLITE_FILE)), 'the SQLite file is under dataDir');
  const backlog = await sendTo(w, w.alice, w.bob, 3);
  const c = await Client.connect(w.server.url, w.bobToken);
  const caughtUp = await c.messages(3);
  assert.deepEqual(caughtUp.map((m) => m.id), backlog);
  assert.ok(caughtUp[0] !== undefined && caughtUp[1] !== undefined && caughtUp[0].seq < caughtUp[1].seq);

  const live = await sendTo(w, w.alice, w.bob, 2);
  const pushed = await c.messages(2);
  assert.deepEqual(pushed.map((m) => m.id), live);

  // Ack the first three; wait until the server has deleted them (visible through HTTP).
  c.ack(backlog);
  for (;;) {
    const page = decodeFetchResponse(await expectOk(await w.http('GET', '/v1/messages?after=0&limit=100', { headers: bearer(w.bobToken) })));
    if (page.messages.length === 2) {
      assert.deepEqual(page.messages.map((m) => m.id), live);
      break;
    }
  }
  await c.close();

  const again = await Client.connect(w.server.url, w.bobToken);
  assert.deepEqual((await again.messages(2)).map((m) => m.id), live, 'the unacknowledged ones, again');
  await again.close();
  await w.server.close();
});

test('websocket: at most maxInflight unacknowledged pushes; an ack opens the window', { timeout: 60_000 }, async (t) => {
  t.after(() => {
    for (const c of Client.all) c.ws.terminate();
  });
  const w = await world(t, { maxInflight: 2 });
  const ids = await sendTo(w, w.alice, w.bob, 5);
  const c = await Client.connect(w.server.url, w.bobToken);
  const first = await c.messages(2);
  assert.deepEqual(first.map((m) => m.id), ids.slice(0, 2));
  // The window holds, also against a new live message: the next frame is the prekeysLow that a
  // bundle fetch makes the server send after that message was enqueued — no third message before it.
  await sendTo(w, w.alice, w.bob, 1);
  await expectOk(await w.http('PUT', '/v1/keys', binary(await prekeyUpload(w.bob, { oneTime: 3 }), bearer(w.bobToken))));
  await expectOk(await w.http('GET', '/v1/keys/bob/1', { headers: accessKeyHeader(w.bob.accessKey) }));
  assert.deepEqual(await c.next(), { type: 'prekeysLow', x25519: 2, kem: 2 });
  c.ack([ids[0] ?? rng(16)]);
  const third = await c.messages(1);
  assert.deepEqual(third.map((m) => m.id), ids.slice(2, 3), 'exactly one slot opened');
  c.ack([ids[1] ?? rng(16), ids[2] ?? rng(16)]);
  assert.deepEqual((await c.messages(2)).map((m) => m.id), ids.slice(3, 5));
  await c.close();
  await w.server.close();
});

test('websocket: concurrent live sends to a connected device arrive once each, in seq order, through a small window', { timeout: 60_000 }, async (t) => {
  t.after(() => {
    for (const c of Client.all) c.ws.terminate();
  });
  // Live pushes go straight from the send's wake while the connection is caught up, and through the
  // store whenever the window was full; either way: every message once, in seq order, acks delete.
  const w = await world(t, { maxInflight: 3 });
  const c = await Client.connect(w.server.url, w.bobToken);
  const N = 40;
  const sending = Promise.all(
    Array.from({ length: N }, async () => {
      const id = rng(16);
      await expectOk(await w.http('PUT', '/v1/messages/bob/1', json(await sendBody(w.alice, w.bob, Date.now(), id), accessKeyHeader(w.bob.accessKey))));
      return id;
    }),
  );
  const received: Extract<ServerFrame, { type: 'message' }>[] = [];
  let unacked: Uint8Array[] = [];
  while (received.length < N) {
    const [m] = await c.messages(1);
    assert.ok(m !== undefined);
    received.push(m);
    unacked.push(m.id);
    // Acks only once the window is full, and then all but the newest (which stays in flight while
    // the server reads the store again); everything at the end.
    if (received.length === N) {
      c.ack(unacked);
    } else if (unacked.length === 3) {
      c.ack(unacked.slice(0, 2));
      unacked = unacked.slice(2);
    }
  }
  const sent = await sending;
  const hexes = (ids: readonly Uint8Array[]): string[] => ids.map((id) => Buffer.from(id).toString('hex')).sort();
  assert.deepEqual(hexes(received.map((m) => m.id)), hexes(sent), 'every message exactly once');
  received.forEach((m, i) => {
    if (i > 0) assert.ok(m.seq > (received[i - 1]?.seq ?? 0), 'pushed in seq order');
  });
  // Every ack was applied; nothing is left to re-deliver.
  for (;;) {
    const page = decodeFetchResponse(await expectOk(await w.http('GET', '/v1/messages?after=0&limit=100', { headers: bearer(w.bobToken) })));
    if (page.messages.length === 0) break;
  }
  await c.close();
  await w.server.close();
});

test('websocket: auth must come first and be valid (4401); a malformed frame is 4400 and the server carries on', { timeout: 60_000 }, async (t) => {
  t.after(() => {
    for (const c of Client.all) c.ws.terminate();
  });
  const w = await world(t, { wsAuthTimeoutMs: 200 });
  const ackFirst = await Client.connect(w.server.url);
  ackFirst.ack([]);
  assert.equal((await ackFirst.closed).code, WS_CLOSE_UNAUTHORIZED, 'ack before auth');

  const badToken = await Client.connect(w.server.url);
  badToken.send(encodeClientFrame({ type: 'auth', token: rng(32) }));
  assert.equal((await badToken.closed).code, WS_CLOSE_UNAUTHORIZED, 'unknown token');

  const silent = await Client.connect(w.server.url);
  assert.equal((await silent.closed).code, WS_CLOSE_UNAUTHORIZED, 'no auth frame in time');

  for (const junk of ['{"type":"auth"', '{"type":"auth","token":"x"}', 'null', '{"type":"ack","ids":[],"x":1}', Buffer.from([0xff, 0xfe])]) {
    const c = await Client.connect(w.server.url, w.bobToken);
    c.send(junk);
    assert.equal((await c.closed).code, WS_CLOSE_MALFORMED, `malformed: ${junk.toString()}`);
  }
  const binary = await Client.connect(w.server.url, w.bobToken);
  binary.ws.send(Buffer.from(encodeClientFrame({ type: 'ack', ids: [] })), { binary: true });
  assert.equal((await binary.closed).code, WS_CLOSE_MALFORMED, 'binary frame');

  // Nothing was deleted by any of that, and the server still answers.
  await sendTo(w, w.alice, w.bob, 1);
  await expectOk(await w.http('GET', '/health'));
  const c = await Client.connect(w.server.url, w.bobToken);
  assert.equal((await c.messages(1)).length, 1);
  await c.close();
  await w.server.close();
});

test('websocket: a second connection of the device replaces the first (4409); prekeysLow reaches the device', { timeout: 60_000 }, async (t) => {
  t.after(() => {
    for (const c of Client.all) c.ws.terminate();
  });
  const w = await world(t);
  const first = await Client.connect(w.server.url, w.bobToken);
  const second = await Client.connect(w.server.url, w.bobToken);
  assert.equal((await first.closed).code, WS_CLOSE_REPLACED);
  await expectOk(await w.http('PUT', '/v1/keys', binary(await prekeyUpload(w.bob, { oneTime: 3 }), bearer(w.bobToken))));
  const bundle = await w.http('GET', '/v1/keys/bob/1', { headers: accessKeyHeader(w.bob.accessKey) });
  assert.equal(bundle.status, 200);
  assert.deepEqual(await second.next(), { type: 'prekeysLow', x25519: 2, kem: 2 });
  const [m] = await Promise.all([second.messages(1), sendTo(w, w.alice, w.bob, 1)]);
  assert.equal(m.length, 1, 'live pushes go to the connection that replaced the first');
  await second.close();
  await w.server.close();
});

test('real server: 413 for an oversized attachment, wrong upgrade paths refused, close() shuts sockets and the store', { timeout: 60_000 }, async (t) => {
  t.after(() => {
    for (const c of Client.all) c.ws.terminate();
  });
  const w = await world(t, { maxAttachmentBytes: 1024 });
  await expectError(await w.http('POST', '/v1/attachments', binary(rng(2048), bearer(w.bobToken))), 413, 'ERR_API_TOO_LARGE', 'over the limit');
  await expectOk(await w.http('POST', '/v1/attachments', binary(rng(1024), bearer(w.bobToken))), 201, 'at the limit');
  const wrong = new WebSocket(`${w.server.url.replace(/^http/, 'ws')}/v1/elsewhere`);
  const refused = await new Promise<number>((resolve) => {
    wrong.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
    });
    wrong.once('error', () => {
      resolve(-1);
    });
  });
  assert.equal(refused, 404);
  const c = await Client.connect(w.server.url, w.bobToken);
  await w.server.close();
  assert.equal((await c.closed).code, 1001, 'going away');
  await w.server.close(); // idempotent
  await assert.rejects(fetch(`${w.server.url}/health`), 'no longer listening');
  // The store was closed: the SQLite file can be opened again by a new server.
  const again = await startServer({ host: '127.0.0.1', port: 0, dataDir: w.dataDir });
  const token = await authenticate(viaNetwork(again.url), w.bob);
  assert.equal(token.length, 32, 'accounts survived the restart; tokens did not need to');
  await again.close();
});

/** Sends raw bytes on a fresh TCP connection and resolves to whatever comes back before it closes. */
function raw(url: string, bytes: string | Buffer, abortAfterWrite = false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('latin1');
    });
    socket.on('error', () => {
      resolve(got);
    });
    socket.on('close', () => {
      resolve(got);
    });
    socket.write(bytes, () => {
      if (abortAfterWrite) socket.destroy();
    });
  });
}

test('real server: garbage on the wire, a client that vanishes mid-body, and odd URLs never take it down', { timeout: 60_000 }, async (t) => {
  const w = await world(t);
  assert.match(await raw(w.server.url, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await raw(w.server.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  await raw(w.server.url, 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\npartial', true);
  await raw(w.server.url, 'GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', true);
  assert.match(await raw(w.server.url, 'GET http://evil.example/health?x=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/);
  assert.match(await raw(w.server.url, 'GET /v1/accounts/%00%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
  await expectOk(await w.http('GET', '/health'), 200, 'still serving');
});
