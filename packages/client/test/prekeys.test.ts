// The device's prekeys (src/messaging/prekeys.ts): uploads split to the server's bounds, and the
// ResponderPrekeyStore over the client state with the protocol's consume contract (docs/protocol/08 §8.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastProvider as crypto } from '@sotto/crypto';
import { seededRng } from '@sotto/test-support';
import { IdentityKeyPair, decodePrekeyUpload, limits, verifyPrekeyUpload } from '@sotto/protocol';
import { splitPrekeyUpload } from '@sotto/client';
import { StatePrekeyStore, addOneTimePrekeys, currentPublicPrekeys, generateInitialPrekeys, oneTimePublicPrekeys } from '../src/messaging/prekeys.ts';
import { decodePrekeys, encodePrekeys } from '../src/messaging/state.ts';

const rng = seededRng('client-prekeys');

test('initial prekeys: a signed prekey, a last-resort KEM prekey and n one-time keys of each kind, persisted losslessly', async () => {
  const id = await IdentityKeyPair.generate(crypto, rng);
  const p = await generateInitialPrekeys(crypto, rng, id, 5);
  assert.equal(p.oneTime.size, 5);
  assert.equal(p.kem.size, 5);
  assert.equal(p.lastResort.lastResort, true);
  assert.ok(![...p.kem.keys()].includes(p.lastResort.id), 'KEM ids are one space');
  assert.deepEqual(decodePrekeys(encodePrekeys(p)), p);
  const more = await addOneTimePrekeys(crypto, rng, id, p, 2, 3);
  assert.deepEqual([...more.state.oneTime.keys()], [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(more.kem.length, 3);
  assert.ok(more.kem.every((k) => !p.kem.has(k.id) && k.id !== p.lastResort.id), 'fresh ids');
});

test('uploads: split by MAX_PREKEYS_PER_UPLOAD per kind and the 1 MiB body bound; every body verifies', async () => {
  const id = await IdentityKeyPair.generate(crypto, rng);
  const p = await generateInitialPrekeys(crypto, rng, id, 1);
  const big = await addOneTimePrekeys(crypto, rng, id, p, 250, 700);
  const fixed = await currentPublicPrekeys(crypto, big.state);
  const all = await oneTimePublicPrekeys(crypto, big.state);
  const bodies = splitPrekeyUpload({ identityKey: id.publicKey, ...fixed, oneTimePrekeys: all.oneTime, kemPrekeys: all.kem });
  let x = 0;
  let k = 0;
  for (const [i, b] of bodies.entries()) {
    assert.ok(b.length <= 1024 * 1024, `body ${i}: ${b.length} bytes`);
    const u = decodePrekeyUpload(b);
    await verifyPrekeyUpload(crypto, u);
    assert.ok(u.oneTimePrekeys.length <= limits.MAX_PREKEYS_PER_UPLOAD && u.kemPrekeys.length <= limits.MAX_PREKEYS_PER_UPLOAD);
    assert.equal(u.signedPrekey !== undefined, i === 0, 'the signed prekey rides in the first body only');
    x += u.oneTimePrekeys.length;
    k += u.kemPrekeys.length;
  }
  assert.equal(x, 251);
  assert.equal(k, 701);
  assert.equal(bodies.length, 8, 'seven full KEM bodies and one more');
});

test('StatePrekeyStore: consume is all or nothing; one-time keys go, last-resort uses are recorded once', async () => {
  const id = await IdentityKeyPair.generate(crypto, rng);
  const p = await generateInitialPrekeys(crypto, rng, id, 2);
  const store = new StatePrekeyStore(crypto, p);
  const oneTimeId = [...p.oneTime.keys()][0] ?? assert.fail();
  const kemId = [...p.kem.keys()][0] ?? assert.fail();
  assert.equal((await store.oneTimePrekey(oneTimeId))?.id, oneTimeId);
  assert.equal((await store.kemPrekey(p.lastResort.id))?.lastResort, true);
  assert.equal(await store.signedPrekey(p.signed.id + 1), undefined);
  const base = rng(32);
  assert.equal(store.consume({ signedPrekeyId: p.signed.id, oneTimePrekeyId: oneTimeId, kemPrekeyId: kemId, kemPrekeyLastResort: false, baseKey: base }), true);
  assert.equal(store.state.oneTime.has(oneTimeId), false);
  assert.equal(store.state.kem.has(kemId), false);
  assert.equal(p.oneTime.has(oneTimeId), true, 'the original state is untouched (rollback = keep it)');
  const after = store.state;
  assert.equal(store.consume({ signedPrekeyId: p.signed.id, oneTimePrekeyId: oneTimeId, kemPrekeyId: p.lastResort.id, kemPrekeyLastResort: true, baseKey: base }), false, 'a used one-time key');
  assert.equal(store.state, after, 'nothing changed');
  const lr = { signedPrekeyId: p.signed.id, oneTimePrekeyId: undefined, kemPrekeyId: p.lastResort.id, kemPrekeyLastResort: true, baseKey: base };
  assert.equal(store.consume(lr), true);
  assert.equal(store.consume(lr), false, 'the same last-resort use again is a replay');
  assert.equal(store.consume({ ...lr, kemPrekeyLastResort: false }), false, 'the flag must match the key');
});
