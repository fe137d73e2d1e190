// The sealed-send WebSocket (docs/protocol/09 §9.7.1) on the real server (startServer on 127.0.0.1, a
// real SQLite file): a send is answered `sent` once stored and reaches the recipient's live /v1/ws;
// a repeated id is a duplicate; the refusals of PUT /v1/messages (401 for a wrong key or an unknown
// account, 404 for an unknown device with the right key, 400 for a bad field, 429) come back for the
// request's rid and change nothing; frames that name no request get rid 0 and close the socket 4400;
// neither socket carries the other's frames; and none of it takes the server down.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  SEALED_WEBSOCKET_PATH,
  WS_CLOSE_MALFORMED,
  decodeFetchResponse,
  decodeSealedServerFrame,
  decodeServerFrame,
  encodeBase64url,
  encodeClientFrame,
  encodeSealedSendFrame,
  type SealedSendFrame,
  type SealedServerFrame,
} from '@sotto/protocol';
import { startServer, type RunningServer, type ServerLimits, type RateLimitSettings } from '@sotto/server';
import { authenticate, bearer, expectOk, newUser, registeredPair, rng, sealed, viaNetwork, type Http, type TestUser } from './support.ts';

const root = mkdtempSync(join(tmpdir(), 'sotto-server-sealed-ws-'));
const sockets = new Set<WebSocket>();
after(() => {
  for (const ws of sockets) ws.terminate();
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;

interface World {
  server: RunningServer;
  http: Http;
  alice: TestUser;
  bob: TestUser;
  bobToken: Uint8Array;
}

async function world(t: TestContext, limits: Partial<ServerLimits> = {}, rateLimits: Partial<RateLimitSettings> = {}): Promise<World> {
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(root, String(++dirs)), limits, rateLimits, webDir: false });
  t.after(() => server.close());
  const http = viaNetwork(server.url);
  const { alice, bob } = await registeredPair(http);
  return { server, http, alice, bob, bobToken: await authenticate(http, bob) };
}

/** An anonymous sealed-send socket that queues the server's frames. */
class Sender {
  readonly ws: WebSocket;
  readonly frames: SealedServerFrame[] = [];
  readonly #waiting: (() => void)[] = [];
  readonly closed: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', (code) => { resolve(code); }));
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeSealedServerFrame(new Uint8Array(data)));
      for (const w of this.#waiting.splice(0)) w();
    });
  }

  static async open(url: string): Promise<Sender> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${SEALED_WEBSOCKET_PATH}`);
    sockets.add(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => { resolve(); });
      ws.once('error', reject);
    });
    return new Sender(ws);
  }

  /** The answer for `rid` (answers may come in any order). */
  async answer(rid: number): Promise<SealedServerFrame> {
    for (;;) {
      const i = this.frames.findIndex((f) => f.rid === rid);
      if (i >= 0) return this.frames.splice(i, 1)[0] as SealedServerFrame;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }
}

async function frame(w: World, to: TestUser, rid: number, overrides: Partial<SealedSendFrame> = {}): Promise<SealedSendFrame> {
  return { type: 'send', rid, username: to.name, deviceId: 1, accessKey: to.accessKey, id: rng(16), envelope: await sealed(w.alice, to, Date.now()), ...overrides };
}

async function queueOf(w: World): Promise<number> {
  return decodeFetchResponse(await expectOk(await w.http('GET', '/v1/messages?after=0&limit=1000', { headers: bearer(w.bobToken) }))).messages.length;
}

function expectError(f: SealedServerFrame, rid: number, code: string, what: string): void {
  assert.equal(f.type, 'error', `${what}: ${JSON.stringify(f)}`);
  assert.equal(f.rid, rid, what);
  assert.equal(f.error.code, code, what);
}

test('sealed socket: sent once stored, pushed live to the recipient; a repeated id is a duplicate and is delivered once', { timeout: 60_000 }, async (t) => {
  const w = await world(t);
  const bobWs = new WebSocket(`${w.server.url.replace(/^http/, 'ws')}/v1/ws`);
  sockets.add(bobWs);
  const pushes: unknown[] = [];
  await new Promise<void>((resolve) => bobWs.once('open', () => { resolve(); }));
  const ready = new Promise<void>((resolve) => {
    bobWs.on('message', (data: Buffer) => {
      const f = decodeServerFrame(new Uint8Array(data));
      if (f.type === 'ready') resolve();
      else pushes.push(f);
    });
  });
  bobWs.send(encodeClientFrame({ type: 'auth', token: w.bobToken }));
  await ready;

  const s = await Sender.open(w.server.url);
  const f = await frame(w, w.bob, 1, { username: 'BOB' }); // any case, as in a request path
  s.ws.send(encodeSealedSendFrame(f));
  const sent = await s.answer(1);
  assert.equal(sent.type, 'sent');
  assert.ok(!sent.duplicate && sent.seq > 0);
  // On disk: the queue has it before any push was acknowledged.
  assert.equal(await queueOf(w), 1);
  s.ws.send(encodeSealedSendFrame({ ...f, rid: 2 }));
  const again = await s.answer(2);
  assert.deepEqual(again, { type: 'sent', rid: 2, seq: sent.seq, duplicate: true });
  while (pushes.length < 1) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(pushes.length, 1, 'one push for two sends of one id');
  assert.deepEqual((pushes[0] as { id: Uint8Array }).id, f.id);

  // Counted like requests, by route and status only.
  const metrics = await expectOk(await w.http('GET', '/metrics'));
  assert.match(metrics, /sotto_http_requests_total\{route="SEND \/v1\/ws\/sealed",status="200"\} 2/);
  assert.match(metrics, /sotto_http_requests_total\{route="GET \/v1\/ws\/sealed",status="101"\} 1/);
});

test('sealed socket: the refusals of PUT /v1/messages, for their rid, change nothing and keep the socket', { timeout: 60_000 }, async (t) => {
  const w = await world(t);
  const s = await Sender.open(w.server.url);
  const stranger = await newUser('carol'); // not registered
  const cases: [Partial<SealedSendFrame>, string, string][] = [
    [{ accessKey: w.alice.accessKey }, 'ERR_API_UNAUTHORIZED', "another account's key"],
    [{ accessKey: rng(16) }, 'ERR_API_UNAUTHORIZED', 'a random key'],
    [{ username: 'carol', accessKey: stranger.accessKey }, 'ERR_API_UNAUTHORIZED', 'an unknown account (same 401 as a wrong key)'],
    [{ deviceId: 2 }, 'ERR_API_NOT_FOUND', 'an unknown device, with the right key'],
  ];
  let rid = 10;
  for (const [overrides, code, what] of cases) {
    rid++;
    s.ws.send(encodeSealedSendFrame(await frame(w, w.bob, rid, overrides)));
    expectError(await s.answer(rid), rid, code, what);
  }
  // Fields that break a rule: 400 for that rid; the socket stays open.
  const good = JSON.parse(encodeSealedSendFrame(await frame(w, w.bob, 1))) as Record<string, unknown>;
  const bad: [Record<string, unknown>, string][] = [
    [{ ...good, envelope: encodeBase64url(new Uint8Array(513)) }, 'an envelope that is not a bucket'],
    [{ ...good, accessKey: 'AAAA' }, 'a short access key'],
    [{ ...good, extra: true }, 'an unknown field'],
    [{ ...good, username: 'x' }, 'an invalid username'],
    [{ ...good, id: undefined }, 'no message id'],
  ];
  for (const [f, what] of bad) {
    rid++;
    s.ws.send(JSON.stringify({ ...f, rid }));
    expectError(await s.answer(rid), rid, 'ERR_API_BAD_REQUEST', what);
  }
  assert.equal(await queueOf(w), 0, 'nothing stored');
  // The socket still works.
  s.ws.send(encodeSealedSendFrame(await frame(w, w.bob, 99)));
  assert.equal((await s.answer(99)).type, 'sent');
  assert.equal(await queueOf(w), 1);
});

test('sealed socket: frames that name no request get rid 0 and close 4400; neither socket takes the other frames; the server carries on', { timeout: 60_000 }, async (t) => {
  const w = await world(t);
  const valid = await frame(w, w.bob, 5);
  const junk: (string | Buffer)[] = [
    'not json',
    'null',
    '{"type":"send"',
    JSON.stringify({ ...JSON.parse(encodeSealedSendFrame(valid)), rid: 0 }),
    JSON.stringify({ ...JSON.parse(encodeSealedSendFrame(valid)), rid: '5' }),
    encodeClientFrame({ type: 'auth', token: w.bobToken }), // the authenticated socket's frame
    encodeClientFrame({ type: 'ack', ids: [] }),
    Buffer.from([0xff, 0xfe]),
  ];
  for (const j of junk) {
    const s = await Sender.open(w.server.url);
    s.ws.send(j);
    const code = await s.closed;
    assert.equal(code, WS_CLOSE_MALFORMED, `closed for ${j.toString()}`);
    assert.equal(s.frames.length, 1);
    expectError(s.frames[0] as SealedServerFrame, 0, 'ERR_API_BAD_REQUEST', j.toString());
  }
  const binary = await Sender.open(w.server.url);
  binary.ws.send(Buffer.from(encodeSealedSendFrame(valid)), { binary: true });
  assert.equal(await binary.closed, WS_CLOSE_MALFORMED, 'a binary frame');
  expectError(binary.frames[0] as SealedServerFrame, 0, 'ERR_API_BAD_REQUEST', 'binary');

  // A frame over the JSON body bound closes the socket (1009, message too big), nothing stored.
  const big = await Sender.open(w.server.url);
  big.ws.send('x'.repeat(513 * 1024));
  assert.equal(await big.closed, 1009);

  // A sealed send on the authenticated device socket is a malformed frame there (4400): that socket
  // names its device, so it must never carry a send.
  const device = new WebSocket(`${w.server.url.replace(/^http/, 'ws')}/v1/ws`);
  sockets.add(device);
  const deviceClosed = new Promise<number>((resolve) => device.once('close', (code) => { resolve(code); }));
  await new Promise<void>((resolve) => device.once('open', () => { resolve(); }));
  const ready = new Promise<void>((resolve) => device.once('message', () => { resolve(); }));
  device.send(encodeClientFrame({ type: 'auth', token: w.bobToken }));
  await ready;
  device.send(encodeSealedSendFrame(valid));
  assert.equal(await deviceClosed, WS_CLOSE_MALFORMED);

  assert.equal(await queueOf(w), 0, 'nothing stored by any of that');
  await expectOk(await w.http('GET', '/health'));
  const s = await Sender.open(w.server.url);
  s.ws.send(encodeSealedSendFrame(valid));
  assert.equal((await s.answer(5)).type, 'sent');
});

test('sealed socket: the per-address rate limit and the in-flight bound answer 429 with retryAfter; shutdown closes 1001', { timeout: 60_000 }, async (t) => {
  const w = await world(t, { maxSealedInflight: 2 });
  const s = await Sender.open(w.server.url);
  // Three sends in one write: the third finds two in flight (the group commit has not run yet).
  const frames = await Promise.all([1, 2, 3].map((rid) => frame(w, w.bob, rid)));
  s.ws.send(encodeSealedSendFrame(frames[0] as SealedSendFrame));
  s.ws.send(encodeSealedSendFrame(frames[1] as SealedSendFrame));
  s.ws.send(encodeSealedSendFrame(frames[2] as SealedSendFrame));
  const third = await s.answer(3);
  expectError(third, 3, 'ERR_API_RATE_LIMITED', 'over the in-flight bound');
  assert.ok(third.type === 'error' && third.retryAfter >= 1);
  assert.equal((await s.answer(1)).type, 'sent');
  assert.equal((await s.answer(2)).type, 'sent');
  assert.equal(await queueOf(w), 2);
  const closed = s.closed;
  await w.server.close();
  assert.equal(await closed, 1001);

  // Every frame is a request for the per-address bucket.
  const limited = await world(t, {}, { perAddress: { capacity: 7, refillPerSecond: 0.01 } });
  // Two registrations, a challenge and a token took 4 requests, the upgrade takes one: 2 sends left.
  const r = await Sender.open(limited.server.url);
  const answers: SealedServerFrame[] = [];
  for (let rid = 1; rid <= 5; rid++) {
    r.ws.send(encodeSealedSendFrame(await frame(limited, limited.bob, rid)));
    answers.push(await r.answer(rid));
  }
  const refused = answers.filter((a) => a.type === 'error');
  assert.deepEqual(answers.map((a) => a.type), ['sent', 'sent', 'error', 'error', 'error']);
  for (const a of refused) {
    expectError(a, a.rid, 'ERR_API_RATE_LIMITED', 'address bucket empty');
    assert.ok(a.retryAfter >= 1);
  }
});
