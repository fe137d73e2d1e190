// receiveSealed: the envelope layer and the session layer in one call, with docs/protocol/06 §6.9's
// cross-check enforced before any prekey is touched. Named attack: Mallory re-seals Alice's first
// message in an envelope of her own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  createSenderCertificate,
  initiateSession,
  isProtocolError,
  receiveSealed,
  sealEnvelope,
  sessionEncrypt,
  verifyPrekeyBundle,
  type IdentityPublicKey,
  type Session,
  type SenderCertificate,
} from '@sotto/protocol';
import { fromUtf8, toHex, utf8 } from '../src/internal/bytes.ts';
import { bundleOf, crypto, makeDevice } from './handshake-fixtures.ts';

const NOW = 1_800_000_000_000;

async function setup(seed: string) {
  const rng = seededRng(seed);
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const mallory = await IdentityKeyPair.generate(crypto, rng);
  const cert = (id: IdentityKeyPair, username: string): Promise<SenderCertificate> => createSenderCertificate(crypto, id, { username, deviceId: 1, expiresAt: NOW + 60_000 });
  const aliceSession = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundleOf(bob, { oneTime: 0 })));
  const bobSessions = new Map<string, Session>();
  const bobCtx = { identity: bob.identity, now: NOW, prekeys: bob.store, session: (k: IdentityPublicKey) => bobSessions.get(toHex(k)) };
  return { rng, bob, alice, mallory, cert, aliceSession, bobSessions, bobCtx };
}

test('receiveSealed: a first message, a later prekey message of the same run, and the reply', async () => {
  const { rng, bob, alice, cert, bobSessions, bobCtx, ...s } = await setup('receive sealed happy');
  let aliceSession = s.aliceSession;
  const aliceCert = await cert(alice, 'alice');
  const m1 = await sessionEncrypt(crypto, rng, aliceSession, utf8('first'));
  aliceSession = m1.session;
  const m2 = await sessionEncrypt(crypto, rng, aliceSession, utf8('second'));
  aliceSession = m2.session;
  const seal = (content: Uint8Array, kind: 'prekey' | 'ratchet', from: IdentityKeyPair, c: SenderCertificate, to: IdentityPublicKey) =>
    sealEnvelope(crypto, rng, { sender: from, certificate: c, recipient: to, contentType: kind, content });

  const r1 = await receiveSealed(crypto, rng, bobCtx, await seal(m1.message.bytes, m1.message.kind, alice, aliceCert, bob.identity.publicKey));
  assert.equal(fromUtf8(r1.plaintext), 'first');
  assert.equal(r1.sender.username, 'alice');
  assert.ok(r1.consumed !== undefined, 'the first message consumed prekeys');
  bobSessions.set(toHex(alice.publicKey), r1.session);

  const r2 = await receiveSealed(crypto, rng, bobCtx, await seal(m2.message.bytes, m2.message.kind, alice, aliceCert, bob.identity.publicKey));
  assert.equal(fromUtf8(r2.plaintext), 'second');
  assert.equal(r2.consumed, undefined, 'a later prekey message of the same run goes through the existing session');
  bobSessions.set(toHex(alice.publicKey), r2.session);

  const reply = await sessionEncrypt(crypto, rng, r2.session, utf8('reply'));
  const aliceCtx = { identity: alice, now: NOW, prekeys: bob.store, session: (k: IdentityPublicKey) => (toHex(k) === toHex(bob.identity.publicKey) ? aliceSession : undefined) };
  const back = await receiveSealed(crypto, rng, aliceCtx, await seal(reply.message.bytes, 'ratchet', bob.identity, await cert(bob.identity, 'bob'), alice.publicKey));
  assert.equal(fromUtf8(back.plaintext), 'reply');
  assert.equal(back.sender.username, 'bob');
});

test('attack: Mallory re-seals Alice\'s first message as her own → ERR_SEALED_SENDER_MISMATCH, no prekey consumed', async () => {
  const { rng, bob, alice, mallory, cert, bobCtx, aliceSession } = await setup('receive sealed resealed');
  const m1 = await sessionEncrypt(crypto, rng, aliceSession, utf8('from alice'));
  const before = bob.store.snapshot();
  const forged = await sealEnvelope(crypto, rng, { sender: mallory, certificate: await cert(mallory, 'alice'), recipient: bob.identity.publicKey, contentType: 'prekey', content: m1.message.bytes });
  await assert.rejects(receiveSealed(crypto, rng, bobCtx, forged), (e) => isProtocolError(e, 'ERR_SEALED_SENDER_MISMATCH'));
  assert.equal(bob.store.snapshot(), before, 'the prekey store is unchanged');
  // Alice's genuine envelope still starts the session.
  const genuine = await sealEnvelope(crypto, rng, { sender: alice, certificate: await cert(alice, 'alice'), recipient: bob.identity.publicKey, contentType: 'prekey', content: m1.message.bytes });
  assert.equal(fromUtf8((await receiveSealed(crypto, rng, bobCtx, genuine)).plaintext), 'from alice');
});

test('a ratchet message from a sender without a session, or with another peer\'s session, is refused', async () => {
  const { rng, bob, alice, mallory, cert, bobCtx, aliceSession } = await setup('receive sealed no session');
  const m1 = await sessionEncrypt(crypto, rng, aliceSession, utf8('x'));
  const accepted = await receiveSealed(crypto, rng, bobCtx, await sealEnvelope(crypto, rng, { sender: alice, certificate: await cert(alice, 'alice'), recipient: bob.identity.publicKey, contentType: 'prekey', content: m1.message.bytes }));
  const reply = await sessionEncrypt(crypto, rng, accepted.session, utf8('y'));
  // Mallory has no session with Bob: a ratchet message "from" her is ERR_SESSION_MISMATCH.
  const fromMallory = await sealEnvelope(crypto, rng, { sender: mallory, certificate: await cert(mallory, 'mallory'), recipient: bob.identity.publicKey, contentType: 'ratchet', content: reply.message.bytes });
  await assert.rejects(receiveSealed(crypto, rng, bobCtx, fromMallory), (e) => isProtocolError(e, 'ERR_SESSION_MISMATCH'));
  // A lookup that hands back another peer's session is caught too.
  const confused = { ...bobCtx, session: () => accepted.session };
  await assert.rejects(receiveSealed(crypto, rng, confused, fromMallory), (e) => isProtocolError(e, 'ERR_SEALED_SENDER_MISMATCH'));
});
