// Prekeys (docs/protocol/09 §9.5): uploads verified against the account's identity key and applied
// whole or not at all; bundles built atomically (concurrent fetches never share a one-time key, also
// on SQLite), with the last-resort KEM key as fallback; bundle fetches authorised like sealed sends.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeKeyCountsResponse, decodeKeyStatusResponse, decodePrekeyBundle, decodePrekeyUpload, encodePrekeyUpload, verifyPrekeyBundle } from '@sotto/protocol';
import { createMemoryStore, openSqliteStore, type Store } from '@sotto/store';
import { createApp } from '@sotto/server';
import {
  accessKeyHeader,
  authenticate,
  bearer,
  binary,
  Clock,
  crypto,
  expectError,
  expectOk,
  prekeyUpload,
  registeredPair,
  rng,
  snapshot,
  viaApp,
  type Http,
} from './support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sotto-server-keys-'));
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function setup(store: Store = createMemoryStore()) {
  const clock = new Clock();
  const app = createApp({ store, crypto, now: clock.now, limits: { sweepIntervalMs: 0 } });
  const http = viaApp(app);
  const { alice, bob } = await registeredPair(http);
  return { app, http, store, alice, bob, aliceToken: await authenticate(http, alice), bobToken: await authenticate(http, bob) };
}

async function bundleOf(http: Http, headers: Record<string, string>, path = '/v1/keys/bob/1') {
  const res = await http('GET', path, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  return decodePrekeyBundle(new Uint8Array(await res.arrayBuffer()));
}

test('upload: counts come back; GET /v1/keys reports them and the low-water flag', async () => {
  const { http, bob, bobToken } = await setup();
  const up = await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 3 }), bearer(bobToken)));
  assert.deepEqual(decodeKeyCountsResponse(await expectOk(up)), { x25519: 3, kem: 3 });
  assert.deepEqual(decodeKeyStatusResponse(await expectOk(await http('GET', '/v1/keys', { headers: bearer(bobToken) }))), { x25519: 3, kem: 3, lowWater: true });
  const more = await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 20, firstId: 10, signedId: 2 }), bearer(bobToken)));
  assert.deepEqual(decodeKeyCountsResponse(await expectOk(more)), { x25519: 23, kem: 23 });
  assert.equal(decodeKeyStatusResponse(await expectOk(await http('GET', '/v1/keys', { headers: bearer(bobToken) }))).lowWater, false);
});

test('upload: a key signed by another identity, a flipped signature, a clashing id or a bad body changes nothing', async () => {
  const { http, store, bob, alice, bobToken } = await setup();
  await expectOk(await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 2, signedId: 7 }), bearer(bobToken))));
  const before = await snapshot(store, ['alice', 'bob']);

  // Alice's keys in an upload that claims Bob's identity (the signatures are Alice's).
  await expectError(await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 1, firstId: 50, signer: alice.identity }), bearer(bobToken))), 400, 'ERR_API_BAD_REQUEST', 'foreign signatures');
  // Alice's own valid upload, sent with Bob's token: the identity key is not the account's.
  await expectError(await http('PUT', '/v1/keys', binary(await prekeyUpload(alice, { oneTime: 1, firstId: 50 }), bearer(bobToken))), 400, 'ERR_API_BAD_REQUEST', 'another identity');
  const good = decodePrekeyUpload(await prekeyUpload(bob, { oneTime: 2, firstId: 60, signedId: 8 }));
  const sig = (good.oneTimePrekeys[1]?.signature ?? new Uint8Array(64)).slice();
  sig[5] = (sig[5] ?? 0) ^ 0x20;
  const tampered = encodePrekeyUpload({ ...good, oneTimePrekeys: [good.oneTimePrekeys[0], { ...good.oneTimePrekeys[1], signature: sig }].filter((p) => p !== undefined) as typeof good.oneTimePrekeys });
  await expectError(await http('PUT', '/v1/keys', binary(tampered, bearer(bobToken))), 400, 'ERR_API_BAD_REQUEST', 'one flipped signature bit');
  // Ids 1 and 2 are still held: 409, and the new signed prekey in the same upload is not applied.
  await expectError(await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 2, firstId: 2, signedId: 9 }), bearer(bobToken))), 409, 'ERR_API_CONFLICT', 'held one-time id');
  await expectError(await http('PUT', '/v1/keys', binary(rng(200), bearer(bobToken))), 400, 'ERR_API_BAD_REQUEST', 'random bytes');
  await expectError(await http('PUT', '/v1/keys', { body: await prekeyUpload(bob), headers: { ...bearer(bobToken), 'content-type': 'application/json' } }), 415, 'ERR_API_UNSUPPORTED_MEDIA_TYPE', 'json type');
  await expectError(await http('PUT', '/v1/keys', binary(await prekeyUpload(bob))), 401, 'ERR_API_UNAUTHORIZED', 'no token');

  assert.deepEqual(await snapshot(store, ['alice', 'bob']), before);
  const bundle = await bundleOf(http, bearer(bobToken));
  assert.equal(bundle.signedPrekey.id, 7, 'the signed prekey of the refused uploads was never served');
});

test('bundles: verified, one-time keys handed out once, then the last-resort KEM key; authorised by token or access key', async () => {
  const { http, alice, bob, aliceToken, bobToken } = await setup();
  await expectOk(await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 2, lastResortId: 777 }), bearer(bobToken))));
  const first = await bundleOf(http, bearer(aliceToken));
  const second = await bundleOf(http, accessKeyHeader(bob.accessKey), '/v1/keys/BOB/1');
  const third = await bundleOf(http, bearer(aliceToken));
  for (const b of [first, second, third]) await verifyPrekeyBundle(crypto, b, bob.identity.publicKey);
  assert.deepEqual([first.oneTimePrekey?.id, second.oneTimePrekey?.id, third.oneTimePrekey?.id], [1, 2, undefined]);
  assert.deepEqual([first.kemPrekey.lastResort, second.kemPrekey.lastResort, third.kemPrekey.lastResort], [false, false, true]);
  assert.equal(third.kemPrekey.id, 777);

  await expectError(await http('GET', '/v1/keys/bob/1', { headers: accessKeyHeader(alice.accessKey) }), 401, 'ERR_API_UNAUTHORIZED', "alice's access key for bob");
  await expectError(await http('GET', '/v1/keys/nobody/1', { headers: accessKeyHeader(bob.accessKey) }), 401, 'ERR_API_UNAUTHORIZED', 'access key for an unknown account');
  await expectError(await http('GET', '/v1/keys/bob/1'), 401, 'ERR_API_UNAUTHORIZED', 'no credential');
  await expectError(await http('GET', '/v1/keys/nobody/1', { headers: bearer(aliceToken) }), 404, 'ERR_API_NOT_FOUND', 'unknown account with a token');
  await expectError(await http('GET', '/v1/keys/bob/2', { headers: accessKeyHeader(bob.accessKey) }), 404, 'ERR_API_NOT_FOUND', 'unknown device');
  await expectError(await http('GET', '/v1/keys/alice/1', { headers: bearer(bobToken) }), 404, 'ERR_API_NOT_FOUND', 'no prekeys uploaded');
  await expectError(await http('GET', '/v1/keys/bob/01', { headers: bearer(aliceToken) }), 400, 'ERR_API_BAD_REQUEST', 'non-canonical device id');
  await expectError(await http('GET', '/v1/keys/bob/4294967296', { headers: bearer(aliceToken) }), 400, 'ERR_API_BAD_REQUEST', 'device id beyond u32');
});

test('bundles: 20 concurrent fetches against SQLite get 20 distinct one-time keys of each kind', async () => {
  const store = await openSqliteStore(join(tmp, 'concurrent.db'));
  const { http, bob, aliceToken, bobToken, app } = await setup(store);
  await expectOk(await http('PUT', '/v1/keys', binary(await prekeyUpload(bob, { oneTime: 20 }), bearer(bobToken))));
  const bundles = await Promise.all(Array.from({ length: 20 }, () => bundleOf(http, bearer(aliceToken))));
  const x = bundles.map((b) => b.oneTimePrekey?.id);
  const k = bundles.map((b) => b.kemPrekey.id);
  assert.equal(new Set(x).size, 20, `distinct one-time X25519 ids: ${x.join(',')}`);
  assert.equal(new Set(k).size, 20, `distinct one-time KEM ids: ${k.join(',')}`);
  assert.ok(bundles.every((b) => !b.kemPrekey.lastResort && b.oneTimePrekey !== undefined));
  const after21 = await bundleOf(http, bearer(aliceToken));
  assert.equal(after21.oneTimePrekey, undefined);
  assert.equal(after21.kemPrekey.lastResort, true);
  await app.close();
  await store.close();
});
