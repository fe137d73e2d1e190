// Registration (docs/protocol/09 §9.2, §9.3), the account directory (§9.6) and device authentication
// (§9.4), through app.fetch with the memory store: every refusal is an error body, and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAccountResponse, decodeRegistrationResponse, encodeTokenRequest, buildRegistrationMessage, encodeRegistrationRequest } from '@sotto/protocol';
import { createMemoryStore } from '@sotto/store';
import { createApp, limits } from '@sotto/server';
import {
  Clock,
  accessKeyHeader,
  authenticate,
  bearer,
  challenge,
  crypto,
  expectError,
  expectOk,
  json,
  newUser,
  recording,
  register,
  registrationBody,
  rng,
  snapshot,
  tokenBody,
  viaApp,
} from './support.ts';

function setup() {
  const clock = new Clock();
  const rec = recording(createMemoryStore());
  const app = createApp({ store: rec.store, crypto, now: clock.now, limits: { sweepIntervalMs: 0 } });
  return { clock, app, http: viaApp(app), store: rec.store, mutations: rec.mutations };
}

test('registration: 201 with the folded name; the directory shows the identity key and device 1', async () => {
  const { http } = setup();
  const alice = await newUser('Alice_1');
  const res = await http('POST', '/v1/accounts', json(await registrationBody(alice)));
  assert.deepEqual(decodeRegistrationResponse(await expectOk(res, 201)), { username: 'alice_1' });
  const token = await authenticate(http, alice);
  const lookup = decodeAccountResponse(await expectOk(await http('GET', '/v1/accounts/ALICE_1', { headers: bearer(token) })));
  assert.deepEqual(lookup, { username: 'alice_1', identityKey: alice.identity.publicKey, devices: [1] });
  await expectError(await http('GET', '/v1/accounts/nobody', { headers: bearer(token) }), 404, 'ERR_API_NOT_FOUND', 'unknown account');
  await expectError(await http('GET', '/v1/accounts/alice_1'), 401, 'ERR_API_UNAUTHORIZED', 'lookup without a token');
});

test('directory lookup with the account\'s access key: names no caller; a wrong key, another account\'s key or both credentials are refused', async () => {
  const { http } = setup();
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  await expectOk(await http('POST', '/v1/accounts', json(await registrationBody(alice))), 201);
  await expectOk(await http('POST', '/v1/accounts', json(await registrationBody(bob))), 201);
  const lookup = decodeAccountResponse(await expectOk(await http('GET', '/v1/accounts/bob', { headers: accessKeyHeader(bob.accessKey) })));
  assert.deepEqual(lookup, { username: 'bob', identityKey: bob.identity.publicKey, devices: [1] });
  await expectError(await http('GET', '/v1/accounts/bob', { headers: accessKeyHeader(alice.accessKey) }), 401, 'ERR_API_UNAUTHORIZED', "alice's key for bob");
  await expectError(await http('GET', '/v1/accounts/bob', { headers: accessKeyHeader(rng(16)) }), 401, 'ERR_API_UNAUTHORIZED', 'a random key');
  // An unknown account with an access key is the same 401 as a wrong key: no existence oracle.
  await expectError(await http('GET', '/v1/accounts/nobody', { headers: accessKeyHeader(bob.accessKey) }), 401, 'ERR_API_UNAUTHORIZED', 'unknown account');
  const token = await authenticate(http, alice);
  await expectError(await http('GET', '/v1/accounts/bob', { headers: { ...accessKeyHeader(bob.accessKey), ...bearer(token) } }), 400, 'ERR_API_BAD_REQUEST', 'both credentials');
});

test('registration: a bad signature, a foreign key, an invalid name or device id is 400 and stores nothing', async () => {
  const { http, store, mutations } = setup();
  const alice = await newUser('alice');
  const mallory = await newUser('mallory');
  const goodSig = await alice.identity.sign(crypto, buildRegistrationMessage('alice', 1, alice.accessKey));
  const flipped = goodSig.slice();
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  const cases: [string, string][] = [
    ['flipped signature bit', encodeRegistrationRequest({ username: 'alice', identityKey: alice.identity.publicKey, deviceId: 1, accessKey: alice.accessKey, signature: flipped })],
    // Mallory registers "alice" under Alice's public key, signing with his own: he cannot.
    ['signed by another key', await registrationBody(alice, mallory.identity)],
    ['signature over another access key', encodeRegistrationRequest({ username: 'alice', identityKey: alice.identity.publicKey, deviceId: 1, accessKey: rng(16), signature: goodSig })],
    ['device id 2', await registrationBody({ ...alice }, alice.identity, 2)],
    ['identity key not a point', encodeRegistrationRequest({ username: 'alice', identityKey: new Uint8Array(32).fill(0), deviceId: 1, accessKey: alice.accessKey, signature: goodSig })],
  ];
  for (const [what, body] of cases) await expectError(await http('POST', '/v1/accounts', json(body)), 400, 'ERR_API_BAD_REQUEST', what);
  for (const name of ['al', '1alice', '\u0430lice', 'alice!', 'a'.repeat(33)]) {
    const body = JSON.stringify({ ...(JSON.parse(await registrationBody(alice)) as object), username: name });
    await expectError(await http('POST', '/v1/accounts', json(body)), 400, 'ERR_API_BAD_REQUEST', `username ${JSON.stringify(name)}`);
  }
  await expectError(await http('POST', '/v1/accounts', { body: await registrationBody(alice), headers: { 'content-type': 'text/plain' } }), 415, 'ERR_API_UNSUPPORTED_MEDIA_TYPE', 'text/plain');
  assert.equal(await store.getAccount('alice'), null);
  assert.deepEqual(mutations, [], 'no state-changing store call was made');
});

test('registration: a taken name is 409 whatever the key and case, and the first account stands', async () => {
  const { http, store } = setup();
  const alice = await newUser('alice');
  await register(http, alice);
  const before = await snapshot(store, ['alice']);
  for (const name of ['alice', 'ALICE', 'Alice']) {
    const impostor = await newUser(name);
    await expectError(await http('POST', '/v1/accounts', json(await registrationBody(impostor))), 409, 'ERR_API_CONFLICT', name);
  }
  assert.deepEqual(await snapshot(store, ['alice']), before);
  assert.deepEqual((await store.getAccount('alice'))?.accessKeyHash, crypto.sha256(alice.accessKey), 'only SHA-256(accessKey) is stored');
});

test('auth: a challenge works once; reuse, expiry, a wrong signature, an unknown account or device are all the same 401', async () => {
  const { http, clock, store } = setup();
  const alice = await newUser('alice');
  const mallory = await newUser('mallory');
  await register(http, alice);
  const token = async (body: string) => http('POST', '/v1/auth/token', json(body));

  const c1 = await challenge(http);
  await expectOk(await token(await tokenBody(alice, c1)), 200, 'first use');
  const messages = new Set<string>();
  const refuse = async (body: string, what: string): Promise<void> => {
    messages.add((await expectError(await token(body), 401, 'ERR_API_UNAUTHORIZED', what)).message);
  };
  await refuse(await tokenBody(alice, c1), 'reused challenge');

  const c2 = await challenge(http);
  clock.advance(60_000);
  await refuse(await tokenBody(alice, c2), 'expired challenge (60 s)');

  const c3 = await challenge(http);
  await refuse(await tokenBody(alice, c3, 1, mallory.identity), 'signed by another key');
  await refuse(await tokenBody(alice, c3), 'the challenge was consumed by the failed attempt');

  await refuse(await tokenBody(mallory, await challenge(http)), 'unknown account');
  await refuse(await tokenBody(alice, await challenge(http), 2), 'unknown device');
  await refuse(await tokenBody(alice, rng(32)), 'a challenge the server never issued');
  // A registration signature is no authentication signature (different labels, docs/protocol/03 §3.3).
  const c4 = await challenge(http);
  const regSig = await alice.identity.sign(crypto, buildRegistrationMessage('alice', 1, alice.accessKey));
  await refuse(encodeTokenRequest({ username: 'alice', deviceId: 1, challenge: c4, signature: regSig }), 'registration signature');
  assert.equal(messages.size, 1, 'every refusal says the same thing');

  await expectError(await http('POST', '/v1/auth/challenge', { body: 'x' }), 400, 'ERR_API_BAD_REQUEST', 'challenge with a body');
  assert.notEqual(await store.getAccount('alice'), null);
});

test('auth: a token lasts one hour; a wrong or malformed one is refused', async () => {
  const { http, clock } = setup();
  const alice = await newUser('alice');
  await register(http, alice);
  const token = await authenticate(http, alice);
  await expectOk(await http('GET', '/v1/keys', { headers: bearer(token) }));
  await expectError(await http('GET', '/v1/keys', { headers: bearer(rng(32)) }), 401, 'ERR_API_UNAUTHORIZED', 'unknown token');
  await expectError(await http('GET', '/v1/keys', { headers: { authorization: 'Bearer abc' } }), 400, 'ERR_API_BAD_REQUEST', 'malformed token');
  await expectError(await http('GET', '/v1/keys', { headers: { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` } }), 400, 'ERR_API_BAD_REQUEST', 'basic auth');
  clock.advance(60 * 60 * 1000 - 1);
  await expectOk(await http('GET', '/v1/keys', { headers: bearer(token) }));
  clock.advance(1);
  await expectError(await http('GET', '/v1/keys', { headers: bearer(token) }), 401, 'ERR_API_UNAUTHORIZED', 'expired token');
});

test('auth: a restarted server (a new app on the same store) knows no token', async () => {
  const clock = new Clock();
  const store = createMemoryStore();
  const first = createApp({ store, crypto, now: clock.now, limits: { sweepIntervalMs: 0 } });
  const alice = await newUser('alice');
  await register(viaApp(first), alice);
  const token = await authenticate(viaApp(first), alice);
  await first.close();
  await expectError(await viaApp(first)('GET', '/v1/keys', { headers: bearer(token) }), 503, 'ERR_API_UNAVAILABLE', 'closed app');
  const second = createApp({ store, crypto, now: clock.now, limits: { sweepIntervalMs: 0 } });
  await expectError(await viaApp(second)('GET', '/v1/keys', { headers: bearer(token) }), 401, 'ERR_API_UNAUTHORIZED', 'token of the old process');
  await authenticate(viaApp(second), alice);
  await second.close();
});

test('stored times: created-at and last-seen-at are written to the UTC day, never to the moment (docs/server-data.md)', async () => {
  const { http, clock, store } = setup();
  const DAY = limits.STORED_TIME_GRANULARITY_MS;
  assert.equal(DAY, 86_400_000);
  const dayOf = (ms: number): number => Math.floor(ms / DAY) * DAY;
  // The clock is mid-day (22:13:20 UTC), so a store that kept the moment fails every check below.
  assert.notEqual(clock.t % DAY, 0);
  const registeredAt = clock.t;
  const alice = await newUser('alice');
  await register(http, alice);
  assert.equal((await store.getAccount('alice'))?.createdAt, dayOf(registeredAt), 'account created-at');
  assert.deepEqual(await store.listDevices('alice'), [{ deviceId: 1, createdAt: dayOf(registeredAt), lastSeenAt: dayOf(registeredAt) }]);

  clock.advance(90 * 60 * 1000); // 23:43, the same day: nothing finer to learn from the row
  await authenticate(http, alice);
  assert.deepEqual(await store.listDevices('alice'), [{ deviceId: 1, createdAt: dayOf(registeredAt), lastSeenAt: dayOf(registeredAt) }]);
  clock.advance(36 * 60 * 60 * 1000); // a day and a half later
  await authenticate(http, alice);
  assert.notEqual(dayOf(clock.t), dayOf(registeredAt));
  assert.deepEqual(await store.listDevices('alice'), [{ deviceId: 1, createdAt: dayOf(registeredAt), lastSeenAt: dayOf(clock.t) }], 'last-seen moved to the new day');
});
