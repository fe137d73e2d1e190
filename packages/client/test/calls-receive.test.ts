// The receive pipeline's handling of call bodies (src/messaging/receive.ts, docs/protocol/11 §11.6),
// against a real sender built from @sotto/protocol: call bodies go to the call manager and never to
// the inbox, get no receipt, and are de-duplicated; an offer rings only when it is fresh, from a key
// sends go to, and something can ring — otherwise it is a missed call; a voicemail is a message. Also
// the inbox codec for the two new message kinds (a crash between persisting and hand-over keeps them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastProvider as crypto } from '@sotto/crypto';
import { chromiumOffer, fingerprintOf, seededRng } from '@sotto/test-support';
import { IdentityKeyPair, encodeBase64url } from '@sotto/protocol';
import { CALL_OFFER_MAX_AGE_MS, ClientError, type ContentBody } from '@sotto/client';
import { processBatch, type DirectoryEntry, type ReceiveContext } from '../src/messaging/receive.ts';
import { decodeInbox, encodeInbox, type ClientState } from '../src/messaging/state.ts';
import { bobState, NOW, Sender } from './receive-support.ts';

const rng = seededRng('client-calls-receive');

function context(bob: IdentityKeyPair, alice: IdentityKeyPair, ringable: boolean): ReceiveContext {
  const directory = new Map<string, DirectoryEntry>([['alice', { identityKey: alice.publicKey, devices: [1] }]]);
  return {
    crypto,
    rng,
    identity: bob,
    now: NOW,
    ringable,
    lookup: (u) => {
      const e = directory.get(u);
      return e === undefined ? Promise.reject(new ClientError('ERR_NOT_FOUND', 'no such account')) : Promise.resolve(e);
    },
  };
}

const SDP = chromiumOffer({ fingerprint: fingerprintOf(rng(32)) });
const offer = (call: Uint8Array): ContentBody => ({ type: 'call-offer', call, kem: rng(1568), commit: rng(32), sdp: SDP });
const file = { attachment: rng(16), key: rng(32), digest: rng(32), size: 100, name: 'voicemail.ogg', mime: 'audio/ogg' };

test('call bodies go to the call manager: not in the inbox, no receipt, de-duplicated; a voicemail is a message', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const aliceId = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, aliceId, 'alice');
  let state = await bobState(rng, bob);
  const ctx = context(bob, aliceId, true);
  const call = rng(16);
  const batch = [
    await alice.envelope(bob, state, offer(call)),
    await alice.envelope(bob, state, { type: 'call-confirm', call, dh: rng(32) }),
    await alice.envelope(bob, state, { type: 'call-end', call, reason: 'timeout' }),
    await alice.envelope(bob, state, { type: 'voicemail', call, file, durationMs: 3000 }),
  ];
  const r = await processBatch(state, batch, ctx);
  assert.deepEqual(r.rejected, []);
  assert.deepEqual(r.handled, batch.map((m) => m.id), 'every one acknowledged');
  assert.deepEqual(r.calls.map((c) => c.body.type), ['call-offer', 'call-confirm', 'call-end']);
  for (const c of r.calls) {
    assert.equal(c.from, 'alice');
    assert.deepEqual(c.identityKey, aliceId.publicKey);
    assert.equal(c.deviceId, 1);
    assert.equal(c.senderState, 'unverified');
    assert.equal(c.sentAt, NOW - 5);
  }
  assert.deepEqual(r.messages.map((m) => m.kind), ['voicemail']);
  const vm = r.messages[0];
  assert.ok(vm?.kind === 'voicemail');
  assert.equal(vm.call, encodeBase64url(call));
  assert.equal(vm.durationMs, 3000);
  assert.equal(vm.file.name, 'voicemail.ogg');
  assert.deepEqual(r.state.inbox, r.messages, 'only the voicemail is in the inbox');
  assert.deepEqual(r.receipts.map((p) => p.ids), [[batch[3]?.id]], 'only the voicemail gets a receipt');
  assert.deepEqual(r.state.profiles.get('alice'), alice.profileKey, 'the profile key still comes with call bodies');
  state = r.state;

  // At-least-once delivery: the same entries again are dropped before decryption, also the call bodies.
  const again = await processBatch({ ...state, inbox: [] }, batch, ctx);
  assert.deepEqual(again.calls, []);
  assert.deepEqual(again.messages, []);
  assert.deepEqual(again.handled.length, batch.length);
});

test('an offer rings only when fresh, trusted and ringable; otherwise it is a missed call in the inbox', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const aliceId = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, aliceId, 'alice');
  const state = await bobState(rng, bob);
  const cases: [string, number, boolean, 'ring' | 'missed'][] = [
    ['fresh, ringable', NOW - 5, true, 'ring'],
    ['exactly CALL_OFFER_MAX_AGE_MS old', NOW - CALL_OFFER_MAX_AGE_MS, true, 'ring'],
    ['one ms older', NOW - CALL_OFFER_MAX_AGE_MS - 1, true, 'missed'],
    ['from more than CALL_OFFER_MAX_AGE_MS in the future', NOW + CALL_OFFER_MAX_AGE_MS + 1, true, 'missed'],
    ['fresh, but no handler to ring', NOW - 5, false, 'missed'],
  ];
  let s = state;
  for (const [name, sentAt, ringable, want] of cases) {
    const call = rng(16);
    const m = await alice.envelope(bob, s, offer(call), { sentAt });
    const r = await processBatch(s, [m], context(bob, aliceId, ringable));
    s = { ...r.state, inbox: [] };
    if (want === 'ring') {
      assert.equal(r.calls.length, 1, name);
      assert.deepEqual(r.messages, [], name);
    } else {
      assert.deepEqual(r.calls, [], name);
      assert.deepEqual(r.messages, [{ kind: 'missed-call', id: encodeBase64url(m.id), from: 'alice', sentAt, receivedAt: NOW - 1, call: encodeBase64url(call), senderState: 'unverified' }], name);
      assert.deepEqual(r.state.inbox, r.messages, `${name}: a missed call is kept like a message`);
      assert.deepEqual(r.receipts, [], `${name}: and gets no receipt`);
    }
  }

  // From a contact whose key changed (§10.4): never rung, a missed call marked `changed`.
  const contact = s.trust.get('alice');
  assert.ok(contact !== undefined);
  const changed: ClientState = { ...s, trust: new Map([['alice', { ...contact, state: 'changed', wasVerified: false, newIdentityKey: rng(32) }]]) };
  const call = rng(16);
  const r = await processBatch(changed, [await alice.envelope(bob, changed, offer(call))], context(bob, aliceId, true));
  assert.deepEqual(r.calls, []);
  assert.equal(r.messages[0]?.kind, 'missed-call');
  assert.equal(r.messages[0].senderState, 'changed');
});

test('the inbox keeps voicemail and missed-call messages across a restart (codec round trip)', () => {
  const items = [
    { kind: 'voicemail', id: 'AAAAAAAAAAAAAAAAAAAAAA', from: 'alice', sentAt: 1, receivedAt: 2, call: 'BBBBBBBBBBBBBBBBBBBBBA', file: { attachment: 'a', key: 'k', digest: 'd', size: 3, name: 'voicemail.ogg', mime: 'audio/ogg' }, durationMs: 4200, senderState: 'verified' },
    { kind: 'missed-call', id: 'CCCCCCCCCCCCCCCCCCCCCA', from: 'carol', sentAt: 5, receivedAt: 6, call: 'DDDDDDDDDDDDDDDDDDDDDA', senderState: 'changed' },
  ] as const;
  assert.deepEqual(decodeInbox(encodeInbox(items)), items);
  const bad = new TextEncoder().encode(JSON.stringify({ v: 1, items: [{ ...items[1], senderState: 'trusted' }] }));
  assert.throws(() => decodeInbox(bad), (e) => e instanceof ClientError && e.code === 'ERR_STATE_CORRUPT');
});
