// The trust store's transitions (docs/protocol/10 §10.4), one by one, with the input store left
// untouched every time, and its persistence codec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import {
  ClientError,
  EMPTY_TRUST_STORE,
  acceptNewKey,
  currentKey,
  decodeTrustStore,
  encodeTrustStore,
  markVerified,
  observeIdentityKey,
  sendDecision,
  senderStateFor,
  type Contact,
  type TrustStore,
} from '@sotto/client';

const corpus = corpusAt(new URL('corpus/', import.meta.url));
const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);
const K3 = new Uint8Array(32).fill(3);

function snapshot(s: TrustStore): string {
  return new TextDecoder().decode(encodeTrustStore(s));
}

function contact(s: TrustStore, u = 'bob'): Contact {
  const c = s.get(u);
  assert.ok(c !== undefined, `contact ${u} is known`);
  return c;
}

test('first use: the key seen first is trusted, unverified; sending allowed', () => {
  const before = snapshot(EMPTY_TRUST_STORE);
  const r = observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100);
  assert.equal(r.observation, 'first-use');
  assert.deepEqual(r.contact, { username: 'bob', state: 'unverified', identityKey: K1, since: 100 });
  assert.equal(snapshot(EMPTY_TRUST_STORE), before, 'the input store is untouched');
  assert.deepEqual(sendDecision(r.contact), { allowed: true, key: K1 });
  assert.equal(senderStateFor(r.contact, K1), 'unverified');
  assert.equal(senderStateFor(r.contact, K2), undefined, 'another key is not this contact');
});

test('the same key again changes nothing (same store object)', () => {
  const s = observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100).store;
  const r = observeIdentityKey(s, 'bob', K1.slice(), 200);
  assert.equal(r.observation, 'same');
  assert.equal(r.store, s);
});

test('change of an unverified contact: changed, old key kept, sending refused until verified or accepted', () => {
  const s = observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100).store;
  const before = snapshot(s);
  const r = observeIdentityKey(s, 'bob', K2, 200);
  assert.equal(r.observation, 'changed');
  assert.deepEqual(r.contact, { username: 'bob', state: 'changed', wasVerified: false, identityKey: K1, newIdentityKey: K2, since: 200 });
  assert.equal(snapshot(s), before);
  assert.deepEqual(sendDecision(r.contact), { allowed: false, wasVerified: false });
  assert.deepEqual(currentKey(r.contact), K2, 'the key a safety number is about is the new one');
  assert.equal(senderStateFor(r.contact, K2), 'changed');
  assert.equal(senderStateFor(r.contact, K1), 'changed');

  // verify the new key → verified with it, sendable
  const v = markVerified(r.store, 'bob', 'safety-number', 300);
  assert.deepEqual(v.contact, { username: 'bob', state: 'verified', method: 'safety-number', identityKey: K2, since: 300 });
  assert.deepEqual(sendDecision(v.contact), { allowed: true, key: K2 });

  // or accept it → unverified with it, sendable
  const a = acceptNewKey(r.store, 'bob', 300);
  assert.deepEqual(a.contact, { username: 'bob', state: 'unverified', identityKey: K2, since: 300 });
  assert.deepEqual(a.previousKey, K1);
  assert.deepEqual(sendDecision(a.contact), { allowed: true, key: K2 });
});

test('change of a verified contact: changed, sending refused until verified or accepted', () => {
  let s = observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100).store;
  s = markVerified(s, 'bob', 'safety-number', 150).store;
  assert.deepEqual(contact(s), { username: 'bob', state: 'verified', method: 'safety-number', identityKey: K1, since: 150 });
  const r = observeIdentityKey(s, 'bob', K2, 200);
  assert.deepEqual(r.contact, { username: 'bob', state: 'changed', wasVerified: true, identityKey: K1, newIdentityKey: K2, since: 200 });
  assert.deepEqual(sendDecision(r.contact), { allowed: false, wasVerified: true });

  // verify the new key → verified with it
  const v = markVerified(r.store, 'bob', 'qr', 300);
  assert.deepEqual(v.contact, { username: 'bob', state: 'verified', method: 'qr', identityKey: K2, since: 300 });
  assert.deepEqual(v.previousKey, K1);
  assert.deepEqual(sendDecision(v.contact), { allowed: true, key: K2 });

  // or accept it → unverified with it
  const a = acceptNewKey(r.store, 'bob', 300);
  assert.deepEqual(a.contact, { username: 'bob', state: 'unverified', identityKey: K2, since: 300 });
  assert.deepEqual(a.previousKey, K1);
  assert.deepEqual(sendDecision(a.contact), { allowed: true, key: K2 });
});

test('while changed: the old or the new key again change nothing; a third key replaces the new one', () => {
  const s = observeIdentityKey(observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100).store, 'bob', K2, 200).store;
  assert.equal(observeIdentityKey(s, 'bob', K1, 300).store, s);
  assert.equal(observeIdentityKey(s, 'bob', K2, 300).store, s);
  const r = observeIdentityKey(s, 'bob', K3, 300);
  assert.equal(r.observation, 'changed');
  assert.deepEqual(r.contact, { username: 'bob', state: 'changed', wasVerified: false, identityKey: K1, newIdentityKey: K3, since: 300 });
  assert.equal(senderStateFor(r.contact, K2), undefined, 'the replaced new key is no longer this contact');
});

test('refused transitions throw typed errors and change nothing', () => {
  const s = observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100).store;
  const before = snapshot(s);
  assert.throws(() => acceptNewKey(s, 'bob', 200), (e) => e instanceof ClientError && e.code === 'ERR_TRUST_STATE', 'accept without a change');
  assert.throws(() => acceptNewKey(s, 'carol', 200), (e) => e instanceof ClientError && e.code === 'ERR_NOT_FOUND', 'unknown contact');
  assert.throws(() => markVerified(s, 'carol', 'qr', 200), (e) => e instanceof ClientError && e.code === 'ERR_NOT_FOUND', 'verify unknown');
  assert.throws(() => markVerified(s, 'bob', 'telepathy' as 'qr', 200), (e) => e instanceof ClientError && e.code === 'ERR_ARGUMENT', 'unknown method');
  assert.throws(() => observeIdentityKey(s, 'bob', K2, -1), (e) => e instanceof ClientError && e.code === 'ERR_ARGUMENT', 'bad time');
  assert.equal(snapshot(s), before);
});

test('the keys in the store are copies: changing the caller\'s array changes nothing', () => {
  const k = K1.slice();
  const s = observeIdentityKey(EMPTY_TRUST_STORE, 'bob', k, 100).store;
  k.fill(9);
  assert.deepEqual(contact(s).identityKey, K1);
});

const key = fc.constantFrom(K1, K2, K3);
const op = fc.oneof(
  fc.record({ kind: fc.constant('observe' as const), user: fc.constantFrom('bob', 'carol'), key }),
  fc.record({ kind: fc.constant('verify' as const), user: fc.constantFrom('bob', 'carol'), method: fc.constantFrom('safety-number' as const, 'qr' as const, 'sas' as const) }),
  fc.record({ kind: fc.constant('accept' as const), user: fc.constantFrom('bob', 'carol') }),
);

/** Where a send to `user` would go: a hex key, 'refused', or 'unknown'. */
function sendTarget(s: TrustStore, user: string): string {
  const c = s.get(user);
  if (c === undefined) return 'unknown';
  const d = sendDecision(c);
  return d.allowed ? Buffer.from(d.key).toString('hex') : 'refused';
}

test('any sequence of transitions: a known contact never becomes sendable to a new key without verify or accept, and the codec round-trips', async () => {
  await corpus.check('trust-store-schedule', fc.array(op, { maxLength: 30 }), (ops) => {
    let s: TrustStore = EMPTY_TRUST_STORE;
    let t = 0;
    for (const o of ops) {
      t++;
      const before = s;
      try {
        if (o.kind === 'observe') {
          const prior = s.get(o.user);
          const priorTarget = sendTarget(s, o.user);
          s = observeIdentityKey(s, o.user, o.key, t).store;
          const now = contact(s, o.user);
          const target = sendTarget(s, o.user);
          if (prior === undefined) {
            assert.equal(target, Buffer.from(o.key).toString('hex'), 'first use: sends go to the key seen');
          } else {
            // docs/protocol/10 §10.4: observing can only keep the send target or refuse it.
            assert.ok(target === priorTarget || target === 'refused', `observe moved sends from ${priorTarget} to ${target}`);
            if (prior.state !== 'changed' && !Buffer.from(prior.identityKey).equals(o.key)) {
              assert.equal(now.state, 'changed');
              assert.deepEqual(sendDecision(now), { allowed: false, wasVerified: prior.state === 'verified' });
            }
          }
        } else if (o.kind === 'verify') {
          s = markVerified(s, o.user, o.method, t).store;
        } else {
          s = acceptNewKey(s, o.user, t).store;
        }
      } catch (e) {
        assert.ok(e instanceof ClientError, String(e));
        assert.equal(s, before, 'a refused transition changes nothing');
      }
      for (const c of s.values()) {
        const d = sendDecision(c);
        assert.equal(d.allowed, c.state !== 'changed', 'sending is allowed exactly when the contact is not changed');
        if (d.allowed) assert.deepEqual(d.key, c.identityKey, 'and then to the trusted key');
      }
      assert.deepEqual(decodeTrustStore(encodeTrustStore(s)), s);
    }
  }, { numRuns: 300 });
});

test('trust codec: damaged records are ERR_STATE_CORRUPT', () => {
  const good = encodeTrustStore(observeIdentityKey(EMPTY_TRUST_STORE, 'bob', K1, 100).store);
  const text = new TextDecoder().decode(good);
  const bad = [
    'not json',
    text.replace('"v":1', '"v":2'),
    text.replace('"unverified"', '"trusted"'),
    text.replace(/"identityKey":"(01)+"/, '"identityKey":"0101"'),
    text.replace('"unverified"', '"verified"'),
  ];
  for (const b of bad) {
    assert.throws(() => decodeTrustStore(new TextEncoder().encode(b)), (e) => e instanceof ClientError && e.code === 'ERR_STATE_CORRUPT', b);
  }
});
