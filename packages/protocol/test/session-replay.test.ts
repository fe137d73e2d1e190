// Attacks on session start (PQXDH rev 3 §4.2 protocol replay, §4.3 replay and key reuse; §3.4 "a
// prekey is consumed only when the initial ciphertext decrypts"): replays, tampering, wrong recipient.
// Every rejection must leave all state as it was: the responder's prekey store (its snapshot) and any
// session (its encoding); and the honest run must still work afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  acceptPrekeyMessage,
  decodePrekeyMessage,
  encodePrekeyMessage,
  encodeSession,
  initiateSession,
  isProtocolError,
  sessionDecrypt,
  sessionEncrypt,
  verifyPrekeyBundle,
  type ProtocolErrorCode,
} from '@sotto/protocol';
import { fromUtf8, toHex, utf8 } from '../src/internal/bytes.ts';
import { bundleOf, crypto, makeDevice } from './handshake-fixtures.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

const rejectsWith = (codes: readonly ProtocolErrorCode[]) => (e: unknown) => {
  assert.ok(isProtocolError(e), `expected a ProtocolError, got ${String(e)}`);
  assert.ok(codes.includes(e.code), `expected one of ${codes.join(', ')}, got ${e.code}`);
  return true;
};

async function firstMessage(label: string, opts: { oneTime?: number; kem?: number | 'last-resort' }) {
  const rng = seededRng(label);
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const session = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundleOf(bob, opts)));
  const sent = await sessionEncrypt(crypto, rng, session, utf8('first'));
  return { rng, bob, alice, alice_session: sent.session, bytes: sent.message.bytes };
}

test('a one-time prekey is used once: replaying its prekey message is ERR_PREKEY_UNKNOWN, store unchanged', async () => {
  const { rng, bob, bytes } = await firstMessage('one-time replay', { oneTime: 0, kem: 0 });
  const before = bob.store.snapshot();
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  assert.equal(fromUtf8(acc.plaintext), 'first');
  assert.deepEqual({ ...acc.consumed, baseKey: undefined }, { signedPrekeyId: 7, oneTimePrekeyId: 100, kemPrekeyId: 200, kemPrekeyLastResort: false, baseKey: undefined });
  const after = bob.store.snapshot();
  assert.notEqual(after, before);
  assert.equal(bob.store.oneTimePrekey(100), undefined, 'the one-time X25519 prekey is deleted');
  assert.equal(bob.store.kemPrekey(200), undefined, 'the one-time KEM prekey is deleted');
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes), rejectsWith(['ERR_PREKEY_UNKNOWN']));
  assert.equal(bob.store.snapshot(), after);
});

test('a one-time KEM prekey without a one-time X25519 prekey is also used once', async () => {
  const { rng, bob, bytes } = await firstMessage('kem one-time replay', { kem: 1 });
  await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  const after = bob.store.snapshot();
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes), rejectsWith(['ERR_PREKEY_UNKNOWN']));
  assert.equal(bob.store.snapshot(), after);
});

test('last-resort KEM prekey only: replaying the same (KEM prekey id, EK_A) is ERR_PREKEY_REUSED, store unchanged', async () => {
  const { rng, bob, alice, bytes } = await firstMessage('last-resort replay', { kem: 'last-resort' });
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  assert.equal(acc.consumed.kemPrekeyLastResort, true);
  assert.equal(acc.consumed.oneTimePrekeyId, undefined);
  assert.equal(bob.store.replayRecordSize, 1);
  assert.ok(bob.store.kemPrekey(999), 'the last-resort key stays');
  const after = bob.store.snapshot();
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes), rejectsWith(['ERR_PREKEY_REUSED']));
  assert.equal(bob.store.snapshot(), after);
  // A fresh run against the same last-resort key (new EK_A) is accepted.
  const again = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundleOf(bob, { kem: 'last-resort' })));
  const m = await sessionEncrypt(crypto, rng, again, utf8('second run'));
  const acc2 = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, m.message.bytes);
  assert.equal(fromUtf8(acc2.plaintext), 'second run');
  assert.equal(bob.store.replayRecordSize, 2);
});

test('last-resort KEM prekey with a one-time X25519 prekey: the replay is ERR_PREKEY_UNKNOWN', async () => {
  const { rng, bob, bytes } = await firstMessage('last-resort + otp replay', { oneTime: 1, kem: 'last-resort' });
  await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes), rejectsWith(['ERR_PREKEY_UNKNOWN']));
});

test('a prekey message delivered again to the session it created is a duplicate', async () => {
  const { rng, bob, bytes } = await firstMessage('rewrap', { kem: 'last-resort' });
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  // Delivered again to the session it created, it is a duplicate for the ratchet.
  await assert.rejects(sessionDecrypt(crypto, rng, acc.session, bytes), rejectsWith(['ERR_DUPLICATE_MESSAGE', 'ERR_DECRYPT_FAILED']));
});

test('two concurrent accepts of one message: exactly one wins, the other is ERR_PREKEY_REUSED', async () => {
  for (const opts of [{ oneTime: 0, kem: 0 }, { kem: 'last-resort' as const }]) {
    const { rng, bob, bytes } = await firstMessage(`concurrent ${JSON.stringify(opts)}`, opts);
    const results = await Promise.allSettled([
      acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes),
      acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1, JSON.stringify(opts));
    assert.equal(lost.length, 1);
    assert.ok(isProtocolError(lost[0]?.reason, 'ERR_PREKEY_REUSED'), String(lost[0]?.reason));
  }
});

test('a prekey message for someone else (same prekey ids, other keys) is ERR_HANDSHAKE_FAILED, nothing consumed', async () => {
  const { rng, bob, bytes } = await firstMessage('wrong recipient', { oneTime: 0, kem: 0 });
  const carol = await makeDevice(crypto, seededRng('carol'));
  const before = carol.store.snapshot();
  await assert.rejects(acceptPrekeyMessage(crypto, rng, carol.identity, carol.store, bytes), rejectsWith(['ERR_HANDSHAKE_FAILED']));
  assert.equal(carol.store.snapshot(), before);
  // Bob can still accept it.
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  assert.equal(fromUtf8(acc.plaintext), 'first');
});

test('naming prekeys that do not exist is ERR_PREKEY_UNKNOWN, nothing consumed', async () => {
  const { rng, bob, bytes } = await firstMessage('unknown ids', { oneTime: 0, kem: 0 });
  const m = decodePrekeyMessage(bytes);
  const before = bob.store.snapshot();
  for (const change of [{ signedPrekeyId: 8 }, { oneTimePrekeyId: 5000 }, { kemPrekeyId: 5000 }]) {
    await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, encodePrekeyMessage({ ...m, ...change })), rejectsWith(['ERR_PREKEY_UNKNOWN']), JSON.stringify(change));
  }
  assert.equal(bob.store.snapshot(), before);
});

test('a tampered first message is rejected at every byte, nothing consumed, and the genuine one still works', async () => {
  const { rng, bob, alice_session, bytes } = await firstMessage('tamper first', { oneTime: 0, kem: 0 });
  const before = bob.store.snapshot();
  const aliceBefore = toHex(encodeSession(alice_session));
  // Every byte of the header and the inner message, one rotating bit each.
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice();
    bad[i] = (bad[i] ?? 0) ^ (1 << (i % 8));
    await assert.rejects(
      acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bad),
      (e) => isProtocolError(e) && e.code !== 'ERR_ARGUMENT',
      `byte ${i}`,
    );
  }
  // The top bit of EK_A, which X25519 itself would ignore (RFC 7748 §5), is rejected as non-canonical.
  const top = bytes.slice();
  top[34 + 31] = (top[34 + 31] ?? 0) ^ 0x80;
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, top), rejectsWith(['ERR_KEY_INVALID']));
  // The sign bit of IK_A (same X25519 form) changes AD: the handshake fails.
  const sign = bytes.slice();
  sign[2 + 31] = (sign[2 + 31] ?? 0) ^ 0x80;
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, sign), rejectsWith(['ERR_HANDSHAKE_FAILED']));
  assert.equal(bob.store.snapshot(), before);
  assert.equal(toHex(encodeSession(alice_session)), aliceBefore);
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  assert.equal(fromUtf8(acc.plaintext), 'first');
  const reply = await sessionEncrypt(crypto, rng, acc.session, utf8('ok'));
  assert.equal(fromUtf8((await sessionDecrypt(crypto, rng, alice_session, reply.message.bytes)).plaintext), 'ok');
});

test('bit flips in any later message (prekey or ratchet, either direction) are rejected and leave the session unchanged', async () => {
  const { rng, bob, alice_session, bytes } = await firstMessage('tamper later', { oneTime: 0, kem: 0 });
  const acc = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bytes);
  const second = await sessionEncrypt(crypto, rng, alice_session, utf8('second, still a prekey message'));
  const reply = await sessionEncrypt(crypto, rng, acc.session, utf8('reply'));
  const cases = [
    { name: 'prekey message to the responder', corpus: 'session-bit-flip-prekey-to-responder', receiver: acc.session, message: second.message.bytes },
    { name: 'ratchet message to the initiator', corpus: 'session-bit-flip-ratchet-to-initiator', receiver: second.session, message: reply.message.bytes },
  ];
  for (const c of cases) {
    const state = toHex(encodeSession(c.receiver));
    await corpus.check(
      c.corpus,
      fc.tuple(fc.nat({ max: c.message.length - 1 }), fc.integer({ min: 0, max: 7 })),
      async ([i, bit]) => {
        const bad = c.message.slice();
        bad[i] = (bad[i] ?? 0) ^ (1 << bit);
        await assert.rejects(sessionDecrypt(crypto, rng, c.receiver, bad), (e) => isProtocolError(e) && e.code !== 'ERR_ARGUMENT', `${c.name}: byte ${i} bit ${bit}`);
        assert.equal(toHex(encodeSession(c.receiver)), state);
      },
      { numRuns: 150 },
    );
    const ok = await sessionDecrypt(crypto, rng, c.receiver, c.message);
    assert.ok(ok.plaintext.length > 0, `${c.name}: the genuine message still decrypts`);
  }
});

test('prekey message codec: round-trips, and random bytes give a typed error or a canonical message', async () => {
  const { bytes } = await firstMessage('codec', { oneTime: 0, kem: 0 });
  assert.equal(toHex(encodePrekeyMessage(decodePrekeyMessage(bytes))), toHex(bytes));
  const m = decodePrekeyMessage(bytes);
  assert.equal(bytes.length, 1647 + 4 + m.message.length, 'header of 1647 bytes with a one-time prekey id (docs/protocol/04 §4.6)');
  const withoutOtp = { ...m, oneTimePrekeyId: undefined };
  assert.equal(encodePrekeyMessage(withoutOtp).length, 1643 + 4 + m.message.length, 'header of 1643 bytes without');
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const arb = fc
    .record(
      {
        identityKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        baseKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        signedPrekeyId: u32,
        oneTimePrekeyId: fc.option(u32, { nil: undefined }),
        kemPrekeyId: u32,
        kemCiphertext: fc.uint8Array({ minLength: 1568, maxLength: 1568 }),
        message: fc.uint8Array({ minLength: 1, maxLength: 200 }),
      },
      { noNullPrototype: true },
    )
    .map(({ oneTimePrekeyId, ...rest }) => (oneTimePrekeyId === undefined ? rest : { ...rest, oneTimePrekeyId }));
  await corpus.check('session-prekey-message-roundtrip', arb, (m) => { assert.deepEqual(decodePrekeyMessage(encodePrekeyMessage(m)), m); }, { numRuns: 100 });
  await corpus.check(
    'session-prekey-message-random-bytes',
    fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.nat({ max: bytes.length }).map((n) => bytes.slice(0, n))),
    (b) => {
      try {
        assert.equal(toHex(encodePrekeyMessage(decodePrekeyMessage(b))), toHex(b));
      } catch (e) {
        assert.ok(isProtocolError(e), String(e));
      }
    },
    { numRuns: 300 },
  );
});

test('MemoryPrekeyStore asks for last-resort rotation once its replay record reaches the bound', async () => {
  const { limits } = await import('@sotto/protocol');
  const rng = seededRng('rotation bound');
  const bob = await makeDevice(crypto, rng, { oneTime: 0, kemOneTime: 0 });
  const use = (i: number) => ({ signedPrekeyId: 7, oneTimePrekeyId: undefined, kemPrekeyId: 999, kemPrekeyLastResort: true, baseKey: Uint8Array.from([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff]) });
  for (let i = 0; i < limits.LAST_RESORT_MAX_RECORDED_USES - 1; i++) assert.equal(bob.store.consume(use(i)), true);
  assert.equal(bob.store.lastResortNeedsRotation, false, 'one below the bound');
  assert.equal(bob.store.consume(use(limits.LAST_RESORT_MAX_RECORDED_USES - 1)), true);
  assert.equal(bob.store.lastResortNeedsRotation, true, 'at the bound');
  assert.equal(bob.store.consume(use(0)), false, 'a recorded use is still refused');
  bob.store.removeKemPrekey(999);
  assert.equal(bob.store.replayRecordSize, 0, 'rotating the key drops its record');
});
