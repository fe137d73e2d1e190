// Named attacks on session start by a malicious server or network (STYLE.md §14). Each asserts the
// rejection and that the victim's state is unchanged. Replay attacks are in session-replay.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '@sotto/test-support';
import {
  IdentityKeyPair,
  OneTimePrekeyPrivate,
  SignedPrekeyPrivate,
  KemPrekeyPrivate,
  acceptPrekeyMessage,
  initiateSession,
  isProtocolError,
  sessionEncrypt,
  verifyPrekeyBundle,
  type PrekeyBundle,
  type ProtocolErrorCode,
} from '@sotto/protocol';
import { fromUtf8, utf8 } from '../src/internal/bytes.ts';
import { bundleOf, crypto, makeDevice } from './handshake-fixtures.ts';

const rejectsWith = (code: ProtocolErrorCode) => (e: unknown) => isProtocolError(e, code);

test('attack: server substitutes its own signed prekey ("weak forward secrecy", PQXDH §4.5) → ERR_SIGNATURE_INVALID', async () => {
  const rng = seededRng('attack spk');
  const bob = await makeDevice(crypto, rng);
  const mallory = await IdentityKeyPair.generate(crypto, rng);
  const forged = await SignedPrekeyPrivate.generate(crypto, rng, mallory, bob.signedPrekey.id);
  const b: PrekeyBundle = { ...bundleOf(bob), signedPrekey: forged.public };
  await assert.rejects(verifyPrekeyBundle(crypto, b), rejectsWith('ERR_SIGNATURE_INVALID'));
});

test('attack: server substitutes its own one-time prekey (to undo DH4\'s forward secrecy) → ERR_SIGNATURE_INVALID', async () => {
  // PQXDH leaves OPK unsigned; Sotto signs it (docs/protocol/03 §3.3), so this is caught.
  const rng = seededRng('attack opk');
  const bob = await makeDevice(crypto, rng);
  const mallory = await IdentityKeyPair.generate(crypto, rng);
  const forged = await OneTimePrekeyPrivate.generate(crypto, rng, mallory, 100);
  const b: PrekeyBundle = { ...bundleOf(bob), oneTimePrekey: { ...forged.public, signature: bundleOf(bob, { oneTime: 0 }).oneTimePrekey?.signature ?? new Uint8Array(64) } };
  await assert.rejects(verifyPrekeyBundle(crypto, b), rejectsWith('ERR_SIGNATURE_INVALID'));
});

test('attack: server substitutes a KEM prekey it can decapsulate ("harvest now, decrypt later" enabler) → ERR_SIGNATURE_INVALID', async () => {
  const rng = seededRng('attack kem');
  const bob = await makeDevice(crypto, rng);
  const mallory = await IdentityKeyPair.generate(crypto, rng);
  const forged = await KemPrekeyPrivate.generate(crypto, rng, mallory, 200, false);
  const b: PrekeyBundle = { ...bundleOf(bob), kemPrekey: { ...forged.public, signature: bob.kemPrekeys[0]?.public.signature ?? new Uint8Array(64) } };
  await assert.rejects(verifyPrekeyBundle(crypto, b), rejectsWith('ERR_SIGNATURE_INVALID'));
});

test('attack: server hands out another user\'s bundle under Bob\'s name → ERR_BUNDLE_INVALID when Bob\'s key is known', async () => {
  const rng = seededRng('attack swap');
  const bob = await makeDevice(crypto, rng);
  const carol = await makeDevice(crypto, rng);
  await assert.rejects(verifyPrekeyBundle(crypto, bundleOf(carol), bob.identity.publicKey), rejectsWith('ERR_BUNDLE_INVALID'));
});

test('attack: network flips the sign bit of IK_A (same X25519 key, other Ed25519 identity) → ERR_HANDSHAKE_FAILED, nothing consumed', async () => {
  const rng = seededRng('attack sign bit');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const s = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundleOf(bob, { oneTime: 0 })));
  const { message } = await sessionEncrypt(crypto, rng, s, utf8('hi'));
  const bad = message.bytes.slice();
  bad[2 + 31] = (bad[2 + 31] ?? 0) ^ 0x80; // IK_A is bytes 2..34; bit 255 is the sign of x
  const before = bob.store.snapshot();
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bad), rejectsWith('ERR_HANDSHAKE_FAILED'));
  assert.equal(bob.store.snapshot(), before);
  const ok = await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, message.bytes);
  assert.equal(fromUtf8(ok.plaintext), 'hi');
});

test('attack: Mallory re-sends Alice\'s initial message under her own identity key → ERR_HANDSHAKE_FAILED', async () => {
  const rng = seededRng('attack identity swap');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const mallory = await IdentityKeyPair.generate(crypto, rng);
  const s = await initiateSession(crypto, rng, alice, await verifyPrekeyBundle(crypto, bundleOf(bob, { oneTime: 0 })));
  const { message } = await sessionEncrypt(crypto, rng, s, utf8('from alice'));
  const bad = message.bytes.slice();
  bad.set(mallory.publicKey, 2);
  await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, bad), rejectsWith('ERR_HANDSHAKE_FAILED'));
});
