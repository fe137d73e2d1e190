// Sessions (src/session/session.ts, src/wire/session-state.ts): PQXDH + Double Ratchet end to end,
// the prekey phase, identity keys, persistence, purity, redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  nobleProvider,
  acceptPrekeyMessage,
  decodePrekeyMessage,
  decodeSession,
  encodeSession,
  isProtocolError,
  initiateSession,
  sessionDecrypt,
  sessionEncrypt,
  sessionMessageKind,
  verifyPrekeyBundle,
  type ProtocolErrorCode,
  type Session,
} from '@sotto/protocol';
import { toHex, utf8, fromUtf8 } from '../src/internal/bytes.ts';
import { bundleOf, crypto, makeDevice } from './handshake-fixtures.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const rejectsWith = (codes: readonly ProtocolErrorCode[]) => (e: unknown) => {
  assert.ok(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`);
  assert.ok(codes.includes(e.code), `expected one of ${codes.join(', ')}, got ${e.code}`);
  return true;
};

async function setup(label: string, opts: { oneTime?: number | undefined; kem?: number | 'last-resort' } = { oneTime: 0, kem: 0 }) {
  const rng = seededRng(label);
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const bundle = await verifyPrekeyBundle(crypto, bundleOf(bob, opts));
  const aliceSession = await initiateSession(crypto, rng, alice, bundle);
  return { rng, bob, alice, aliceSession };
}

test('a full session: prekey messages until the first reply, then ratchet messages both ways', async () => {
  const { rng, bob, alice, aliceSession } = await setup('full session');
  let a: Session = aliceSession;
  assert.equal(a.role, 'initiator');
  assert.equal(a.awaitingReply, true);

  // Alice sends three messages before Bob answers: all are prekey messages with the same header.
  const sent = [];
  for (const text of ['hello', 'are you there?', 'third']) {
    const r = await sessionEncrypt(crypto, rng, a, utf8(text));
    a = r.session;
    assert.equal(r.message.kind, 'prekey');
    assert.equal(sessionMessageKind(r.message.bytes), 'prekey');
    sent.push(r.message.bytes);
  }
  const [m0, m1, m2] = sent;
  assert.ok(m0 && m1 && m2);
  const h0 = decodePrekeyMessage(m0);
  const h2 = decodePrekeyMessage(m2);
  assert.equal(toHex(h0.baseKey), toHex(h2.baseKey));
  assert.equal(toHex(h0.kemCiphertext), toHex(h2.kemCiphertext));

  // Bob gets the second one first: it starts the session; the others decrypt in it.
  const accepted = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m1);
  assert.equal(fromUtf8(accepted.plaintext), 'are you there?');
  let b = accepted.session;
  assert.equal(b.role, 'responder');
  assert.equal(toHex(b.remoteIdentityKey), toHex(alice.publicKey), 'Bob learns Alice\'s identity key');
  assert.equal(toHex(b.localIdentityKey), toHex(bob.identity.publicKey));
  assert.equal(toHex(a.remoteIdentityKey), toHex(bob.identity.publicKey));
  assert.equal(toHex(a.localIdentityKey), toHex(alice.publicKey));
  for (const [m, text] of [[m2, 'third'], [m0, 'hello']] as const) {
    const r = await sessionDecrypt(crypto, rng, b, m);
    b = r.session;
    assert.equal(fromUtf8(r.plaintext), text);
  }

  // Bob replies; Alice's prekey phase ends when the reply decrypts.
  const reply = await sessionEncrypt(crypto, rng, b, utf8('yes, hi'));
  b = reply.session;
  assert.equal(reply.message.kind, 'ratchet');
  const got = await sessionDecrypt(crypto, rng, a, reply.message.bytes);
  a = got.session;
  assert.equal(fromUtf8(got.plaintext), 'yes, hi');
  assert.equal(a.awaitingReply, false);

  // Ten more round trips, each side sending two.
  for (let i = 0; i < 10; i++) {
    const x1 = await sessionEncrypt(crypto, rng, a, utf8(`a${i}.1`));
    const x2 = await sessionEncrypt(crypto, rng, x1.session, utf8(`a${i}.2`));
    a = x2.session;
    assert.equal(x1.message.kind, 'ratchet');
    const y2 = await sessionDecrypt(crypto, rng, b, x2.message.bytes); // out of order
    const y1 = await sessionDecrypt(crypto, rng, y2.session, x1.message.bytes);
    assert.equal(fromUtf8(y1.plaintext), `a${i}.1`);
    assert.equal(fromUtf8(y2.plaintext), `a${i}.2`);
    const z = await sessionEncrypt(crypto, rng, y1.session, utf8(`b${i}`));
    b = z.session;
    const w = await sessionDecrypt(crypto, rng, a, z.message.bytes);
    a = w.session;
    assert.equal(fromUtf8(w.plaintext), `b${i}`);
  }
});

test('without a one-time prekey, and with the last-resort KEM prekey, a session works the same', async () => {
  for (const opts of [{ kem: 'last-resort' as const }, { oneTime: 1, kem: 'last-resort' as const }, { kem: 1 }]) {
    const { rng, bob, aliceSession } = await setup(`variant ${JSON.stringify(opts)}`, opts);
    const m = await sessionEncrypt(crypto, rng, aliceSession, utf8('x'));
    const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m.message.bytes);
    assert.equal(fromUtf8(acc.plaintext), 'x');
    assert.equal(acc.consumed.oneTimePrekeyId, opts.oneTime === undefined ? undefined : 100 + opts.oneTime);
    assert.equal(acc.consumed.kemPrekeyLastResort, opts.kem === 'last-resort');
    const r = await sessionEncrypt(crypto, rng, acc.session, utf8('y'));
    const back = await sessionDecrypt(crypto, rng, m.session, r.message.bytes);
    assert.equal(fromUtf8(back.plaintext), 'y');
  }
});

test('transitions are pure: the input session encodes the same before and after every call', async () => {
  const { rng, bob, aliceSession } = await setup('purity');
  const before = toHex(encodeSession(aliceSession));
  const m = await sessionEncrypt(crypto, rng, aliceSession, utf8('one'));
  assert.equal(toHex(encodeSession(aliceSession)), before);
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m.message.bytes);
  const bBefore = toHex(encodeSession(acc.session));
  const r = await sessionEncrypt(crypto, rng, acc.session, utf8('two'));
  assert.equal(toHex(encodeSession(acc.session)), bBefore);
  const a1 = toHex(encodeSession(m.session));
  await sessionDecrypt(crypto, rng, m.session, r.message.bytes);
  assert.equal(toHex(encodeSession(m.session)), a1);
});

test('session state codec: round-trips in every phase, and a restored session carries on', async () => {
  const { rng, bob, aliceSession } = await setup('codec');
  const roundTrip = (s: Session): Session => {
    const bytes = encodeSession(s);
    const back = decodeSession(bytes);
    assert.equal(toHex(encodeSession(back)), toHex(bytes));
    assert.equal(back.role, s.role);
    assert.equal(back.awaitingReply, s.awaitingReply);
    assert.equal(toHex(back.remoteIdentityKey), toHex(s.remoteIdentityKey));
    return back;
  };
  let a = roundTrip(aliceSession);
  const m = await sessionEncrypt(crypto, rng, a, utf8('persisted'));
  a = roundTrip(m.session);
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m.message.bytes);
  let b = roundTrip(acc.session);
  const m2 = await sessionEncrypt(crypto, rng, a, utf8('second prekey message'));
  a = roundTrip(m2.session);
  const d2 = await sessionDecrypt(crypto, rng, b, m2.message.bytes); // the restored responder still recognises the header
  assert.equal(fromUtf8(d2.plaintext), 'second prekey message');
  b = roundTrip(d2.session);
  const r = await sessionEncrypt(crypto, rng, b, utf8('reply'));
  const back = await sessionDecrypt(crypto, rng, a, r.message.bytes);
  a = roundTrip(back.session);
  assert.equal(a.awaitingReply, false);
  assert.equal(fromUtf8(back.plaintext), 'reply');
});

test('session state decoder: random bytes and mutations give a typed ProtocolError or a canonical session', async () => {
  const { rng, aliceSession } = await setup('codec fuzz');
  const m = await sessionEncrypt(crypto, rng, aliceSession, utf8('x'));
  const good = encodeSession(m.session);
  await corpus.check(
    'session-state-random-bytes',
    fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = good.slice();
      b[i] = (b[i] ?? 0) ^ x;
      return b;
    }), fc.nat({ max: good.length - 1 }).map((n) => good.slice(0, n))),
    (bytes) => {
      let s: Session;
      try {
        s = decodeSession(bytes);
      } catch (e) {
        assert.ok(isProtocolError(e), String(e));
        return;
      }
      assert.equal(toHex(encodeSession(s)), toHex(bytes));
    },
    { numRuns: 300 },
  );
});

test('sessions never print their secrets', async () => {
  const { aliceSession } = await setup('redaction');
  assert.equal(String(aliceSession), '[Session: redacted]');
  assert.equal(JSON.stringify({ s: aliceSession }), '{"s":"[Session: redacted]"}');
  assert.equal(inspect(aliceSession, { showHidden: true, depth: 10 }), '[Session: redacted]');
});

test('the initiator refuses prekey messages in sessionDecrypt; unknown kinds are typed errors', async () => {
  const { rng, aliceSession } = await setup('kinds');
  const m = await sessionEncrypt(crypto, rng, aliceSession, utf8('x'));
  await assert.rejects(sessionDecrypt(crypto, rng, m.session, m.message.bytes), rejectsWith(['ERR_SESSION_MISMATCH']));
  assert.throws(() => sessionMessageKind(Uint8Array.of(1)), rejectsWith(['ERR_WIRE_TRUNCATED']));
  assert.throws(() => sessionMessageKind(Uint8Array.of(2, 2)), rejectsWith(['ERR_WIRE_UNKNOWN_VERSION']));
  assert.throws(() => sessionMessageKind(Uint8Array.of(1, 1)), rejectsWith(['ERR_WIRE_UNKNOWN_TYPE']));
});

test('a responder session only takes later prekey messages of its own PQXDH run', async () => {
  const { rng, bob, alice, aliceSession } = await setup('other run', { kem: 'last-resort' });
  const m = await sessionEncrypt(crypto, rng, aliceSession, utf8('run 1'));
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m.message.bytes);
  // Alice starts over (e.g. she lost her state): a new run with a new base key.
  const again = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundleOf(bob, { kem: 'last-resort' })));
  const m2 = await sessionEncrypt(crypto, rng, again, utf8('run 2'));
  await assert.rejects(sessionDecrypt(crypto, rng, acc.session, m2.message.bytes), rejectsWith(['ERR_SESSION_MISMATCH']));
  const acc2 = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m2.message.bytes);
  assert.equal(fromUtf8(acc2.plaintext), 'run 2');
});

test('mixed providers: an initiator on the portable provider talks to a responder on the fast one', async () => {
  const rng = seededRng('mixed providers');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(nobleProvider, rng);
  let a = await initiateSession(nobleProvider, rng, alice, await verifyPrekeyBundle(nobleProvider, bundleOf(bob, { oneTime: 0 })));
  const m = await sessionEncrypt(nobleProvider, rng, a, utf8('over noble'));
  a = m.session;
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m.message.bytes);
  assert.equal(fromUtf8(acc.plaintext), 'over noble');
  const r = await sessionEncrypt(crypto, rng, acc.session, utf8('over node:crypto'));
  const back = await sessionDecrypt(nobleProvider, rng, a, r.message.bytes);
  assert.equal(fromUtf8(back.plaintext), 'over node:crypto');
});
