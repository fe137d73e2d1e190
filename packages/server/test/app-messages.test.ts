// Sealed delivery (docs/protocol/09 §9.7), fetch and acknowledgement (§9.8), expiry (§9.10) and
// rate limits (§9.9), through app.fetch with the memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAckResponse, decodeFetchResponse, decodeSendMessageRequest, decodeSendMessageResponse, encodeAckRequest, encodeBase64url, encodeSendMessageRequest } from '@sotto/protocol';
import { createMemoryStore } from '@sotto/store';
import { createApp, type ServerLimits, type RateLimitSettings } from '@sotto/server';
import {
  accessKeyHeader,
  authenticate,
  bearer,
  Clock,
  crypto,
  expectError,
  expectOk,
  json,
  newUser,
  recording,
  register,
  registeredPair,
  rng,
  sealed,
  sendBody,
  snapshot,
  viaApp,
} from './support.ts';

async function setup(options: { limits?: Partial<ServerLimits>; rateLimits?: Partial<RateLimitSettings> } = {}) {
  const clock = new Clock();
  const rec = recording(createMemoryStore());
  const app = createApp({ store: rec.store, crypto, now: clock.now, limits: { sweepIntervalMs: 0, ...options.limits }, ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}) });
  const http = viaApp(app);
  const { alice, bob } = await registeredPair(http);
  const aliceToken = await authenticate(http, alice);
  const bobToken = await authenticate(http, bob);
  rec.mutations.length = 0;
  return { app, http, clock, store: rec.store, mutations: rec.mutations, alice, bob, aliceToken, bobToken };
}

test('sealed send: the right access key is 200 once stored; wrong, missing, foreign or doubled credentials are refused', async () => {
  const { http, clock, store, mutations, alice, bob, aliceToken } = await setup();
  const body = await sendBody(alice, bob, clock.t);
  const ok = decodeSendMessageResponse(await expectOk(await http('PUT', '/v1/messages/bob/1', json(body, accessKeyHeader(bob.accessKey)))));
  assert.equal(ok.duplicate, false);
  const queued = await store.fetch({ username: 'bob', deviceId: 1 }, { after: 0, limit: 10 });
  assert.equal(queued.length, 1, 'the 200 came after the message was stored');
  assert.equal(queued[0]?.seq, ok.seq);

  mutations.length = 0;
  const before = await snapshot(store, ['alice', 'bob']);
  const other = await sendBody(alice, bob, clock.t);
  await expectError(await http('PUT', '/v1/messages/bob/1', json(other, accessKeyHeader(alice.accessKey))), 401, 'ERR_API_UNAUTHORIZED', "alice's own key");
  await expectError(await http('PUT', '/v1/messages/bob/1', json(other, accessKeyHeader(rng(16)))), 401, 'ERR_API_UNAUTHORIZED', 'random key');
  await expectError(await http('PUT', '/v1/messages/bob/1', json(other)), 401, 'ERR_API_UNAUTHORIZED', 'no credential');
  await expectError(await http('PUT', '/v1/messages/bob/1', json(other, { ...accessKeyHeader(bob.accessKey), ...bearer(aliceToken) })), 400, 'ERR_API_BAD_REQUEST', 'both credentials');
  await expectError(await http('PUT', '/v1/messages/bob/1', json(other, { 'sotto-access-key': 'not base64!' })), 400, 'ERR_API_BAD_REQUEST', 'malformed key');
  // Without the right key, an unknown device and an unknown account look the same as a known one: 401.
  await expectError(await http('PUT', '/v1/messages/bob/2', json(other, accessKeyHeader(alice.accessKey))), 401, 'ERR_API_UNAUTHORIZED', 'wrong key, unknown device');
  await expectError(await http('PUT', '/v1/messages/carol/1', json(other, accessKeyHeader(bob.accessKey))), 401, 'ERR_API_UNAUTHORIZED', 'unknown account');
  // With the right key, an unknown device is 404.
  await expectError(await http('PUT', '/v1/messages/bob/2', json(other, accessKeyHeader(bob.accessKey))), 404, 'ERR_API_NOT_FOUND', 'right key, unknown device');
  // Envelopes must be a bucket size.
  const odd = JSON.stringify({ id: encodeBase64url(rng(16)), envelope: encodeBase64url(rng(700)) });
  await expectError(await http('PUT', '/v1/messages/bob/1', json(odd, accessKeyHeader(bob.accessKey))), 400, 'ERR_API_BAD_REQUEST', 'not a bucket');
  assert.deepEqual(await snapshot(store, ['alice', 'bob']), before);
  assert.deepEqual(mutations, ['enqueue'], 'only the right-key, unknown-device send reached enqueue (and was refused there)');
});

test('first message with a bearer token; the same id again is a harmless duplicate', async () => {
  const { http, clock, store, alice, bob, aliceToken } = await setup();
  const id = rng(16);
  const body = await sendBody(alice, bob, clock.t, id);
  const first = decodeSendMessageResponse(await expectOk(await http('PUT', '/v1/messages/bob/1', json(body, bearer(aliceToken)))));
  const again = decodeSendMessageResponse(await expectOk(await http('PUT', '/v1/messages/bob/1', json(body, accessKeyHeader(bob.accessKey)))));
  const otherEnvelope = encodeSendMessageRequest({ id, envelope: await sealed(alice, bob, clock.t) });
  const third = decodeSendMessageResponse(await expectOk(await http('PUT', '/v1/messages/bob/1', json(otherEnvelope, accessKeyHeader(bob.accessKey)))));
  assert.deepEqual([first.duplicate, again.duplicate, third.duplicate], [false, true, true]);
  assert.equal(again.seq, first.seq);
  const queue = await store.fetch({ username: 'bob', deviceId: 1 }, { after: 0, limit: 10 });
  assert.equal(queue.length, 1);
  assert.deepEqual(queue[0]?.envelope, decodeSendMessageRequest(body).envelope, 'the first envelope stands');
});

test('fetch and ack: arrival order, paging with "more", acks delete, unknown ids are ignored', async () => {
  const { http, clock, alice, bob, bobToken, aliceToken } = await setup();
  const ids: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const id = rng(16);
    ids.push(id);
    await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, clock.t, id), accessKeyHeader(bob.accessKey))));
    clock.advance(1);
  }
  const page1 = decodeFetchResponse(await expectOk(await http('GET', '/v1/messages?after=0&limit=3', { headers: bearer(bobToken) })));
  assert.deepEqual(page1.messages.map((m) => m.id), ids.slice(0, 3));
  assert.equal(page1.more, true);
  const last = page1.messages.at(-1)?.seq ?? 0;
  const page2 = decodeFetchResponse(await expectOk(await http('GET', `/v1/messages?after=${last}&limit=3`, { headers: bearer(bobToken) })));
  assert.deepEqual(page2.messages.map((m) => m.id), ids.slice(3));
  assert.equal(page2.more, false);
  assert.ok(page1.messages.every((m, i) => i === 0 || m.seq > (page1.messages[i - 1]?.seq ?? 0)), 'seqs increase');

  const acked = decodeAckResponse(await expectOk(await http('POST', '/v1/messages/ack', json(encodeAckRequest({ ids: [...ids.slice(0, 2), rng(16)] }), bearer(bobToken)))));
  assert.equal(acked.deleted, 2);
  // Alice acking Bob's ids touches only her own (empty) queue.
  assert.equal(decodeAckResponse(await expectOk(await http('POST', '/v1/messages/ack', json(encodeAckRequest({ ids }), bearer(aliceToken))))).deleted, 0);
  const rest = decodeFetchResponse(await expectOk(await http('GET', '/v1/messages?after=0&limit=100', { headers: bearer(bobToken) })));
  assert.deepEqual(rest.messages.map((m) => m.id), ids.slice(2));
  await expectError(await http('GET', '/v1/messages?after=0', { headers: bearer(bobToken) }), 400, 'ERR_API_BAD_REQUEST', 'no limit');
  await expectError(await http('GET', '/v1/messages?after=0&limit=1001', { headers: bearer(bobToken) }), 400, 'ERR_API_BAD_REQUEST', 'limit too big');
  await expectError(await http('GET', '/v1/messages?after=0&limit=5'), 401, 'ERR_API_UNAUTHORIZED', 'no token');
});

test('a fetch page stops at maxFetchPageBytes and says there is more', async () => {
  const { http, clock, alice, bob, bobToken } = await setup({ limits: { maxFetchPageBytes: 1000 } });
  for (let i = 0; i < 3; i++) await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, clock.t), accessKeyHeader(bob.accessKey))));
  const page = decodeFetchResponse(await expectOk(await http('GET', '/v1/messages?after=0&limit=10', { headers: bearer(bobToken) })));
  assert.equal(page.messages.length, 1, 'one 512-byte envelope fits in 1000 bytes, two do not');
  assert.equal(page.more, true);
});

test('expiry: messages older than the retention are never delivered, and the sweep deletes them', async () => {
  const { app, http, clock, alice, bob, bobToken } = await setup({ limits: { messageRetentionMs: 1000 } });
  await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, clock.t), accessKeyHeader(bob.accessKey))));
  clock.advance(500);
  await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, clock.t), accessKeyHeader(bob.accessKey))));
  clock.advance(500);
  const page = decodeFetchResponse(await expectOk(await http('GET', '/v1/messages?after=0&limit=10', { headers: bearer(bobToken) })));
  assert.equal(page.messages.length, 1, 'the first one expired at 1000 ms');
  assert.deepEqual(await app.sweep(), { messages: 1, attachments: 0 });
  clock.advance(500);
  assert.deepEqual(await app.sweep(), { messages: 1, attachments: 0 });
  const metrics = await (await http('GET', '/metrics')).text();
  assert.match(metrics, /^sotto_messages_expired_total 2$/m);
});

test('rate limits: 429 with Retry-After per address, and per account across addresses', async () => {
  const clock = new Clock();
  const app = createApp({ store: createMemoryStore(), crypto, now: clock.now, limits: { sweepIntervalMs: 0 }, rateLimits: { perAddress: { capacity: 3, refillPerSecond: 1 }, perAccount: { capacity: 1000, refillPerSecond: 1000 } } });
  const from = viaApp(app, { remoteAddress: '192.0.2.1' });
  for (let i = 0; i < 3; i++) await expectOk(await from('GET', '/health'));
  const limited = await from('GET', '/health');
  assert.equal(limited.headers.get('retry-after'), '1');
  await expectError(limited, 429, 'ERR_API_RATE_LIMITED', 'fourth request');
  await expectOk(await viaApp(app, { remoteAddress: '192.0.2.2' })('GET', '/health'), 200, 'another address has its own bucket');
  clock.advance(1000);
  await expectOk(await from('GET', '/health'), 200, 'refilled after a second');

  const acct = createApp({ store: createMemoryStore(), crypto, now: clock.now, limits: { sweepIntervalMs: 0 }, rateLimits: { perAccount: { capacity: 2, refillPerSecond: 0.5 } } });
  const alice = await newUser('alice');
  await register(viaApp(acct), alice);
  const token = await authenticate(viaApp(acct), alice);
  await expectOk(await viaApp(acct, { remoteAddress: 'a' })('GET', '/v1/keys', { headers: bearer(token) }));
  await expectOk(await viaApp(acct, { remoteAddress: 'b' })('GET', '/v1/keys', { headers: bearer(token) }));
  const third = await viaApp(acct, { remoteAddress: 'c' })('GET', '/v1/keys', { headers: bearer(token) });
  assert.equal(third.headers.get('retry-after'), '2');
  await expectError(third, 429, 'ERR_API_RATE_LIMITED', 'third request of the account from a third address');
  const metrics = await (await viaApp(acct, { remoteAddress: 'd' })('GET', '/metrics')).text();
  assert.match(metrics, /^sotto_rate_limited_total 1$/m);
  await app.close();
  await acct.close();
});

test('/health is 200 with the store, 503 without; /metrics counts and names nobody', async () => {
  const { app, http, clock, alice, bob, aliceToken, store } = await setup();
  await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, clock.t), bearer(aliceToken))));
  await expectError(await http('GET', '/v1/accounts/alice', { headers: bearer(rng(32)) }), 401, 'ERR_API_UNAUTHORIZED');
  assert.equal(await expectOk(await http('GET', '/health')), '{"status":"ok"}');
  const res = await http('GET', '/metrics');
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^sotto_messages_enqueued_total 1$/m);
  assert.match(text, /^sotto_http_requests_total\{route="PUT \/v1\/messages\/:username\/:deviceId",status="200"\} 1$/m);
  assert.match(text, /^sotto_http_requests_total\{route="GET \/v1\/accounts\/:username",status="401"\} 1$/m);
  for (const secret of ['alice', 'bob', 'local', encodeBase64url(aliceToken), encodeBase64url(bob.accessKey)]) assert.ok(!text.includes(secret), `metrics mention ${secret}`);
  for (const line of text.split('\n')) assert.match(line, /^(#.*|sotto_[a-z_]+(\{route="[A-Z]+ [/:a-zA-Z0-9]*",status="\d{3}"\})? \d+|)$/, `unexpected metrics line: ${line}`);
  await store.close();
  await expectError(await http('GET', '/health'), 503, 'ERR_API_UNAVAILABLE', 'closed store');
  await expectError(await http('GET', '/v1/messages?after=0&limit=1', { headers: bearer(aliceToken) }), 503, 'ERR_API_UNAVAILABLE', 'closed store');
  await app.close();
});
