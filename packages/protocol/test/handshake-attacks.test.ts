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
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { fromUtf8, toHex, utf8 } from '../src/internal/bytes.ts';
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

/** u(P + T): the X25519 key EK_A shifted by the torsion point T (RFC 7748 §4.1 maps both ways). */
function addTorsion(uBytes: Uint8Array, t: InstanceType<typeof ed25519.Point>): Uint8Array {
  const Fp = ed25519.Point.Fp;
  const u = bytesToNumberLE(uBytes);
  const y = Fp.mul(Fp.sub(u, Fp.ONE), Fp.inv(Fp.add(u, Fp.ONE)));
  const q = ed25519.Point.fromBytes(numberToBytesLE(y, 32), false).add(t).toAffine();
  return numberToBytesLE(Fp.mul(Fp.add(Fp.ONE, q.y), Fp.inv(Fp.sub(Fp.ONE, q.y))), 32);
}

test('attack: replaying a last-resort first message with EK_A + T for each torsion point T → ERR_HANDSHAKE_FAILED', async () => {
  // X25519 clamps scalars to multiples of 8, so EK_A + T gives the same DH2..DH4 and the same SK. Found
  // in review: without EK_A in AD these 7 encodings each authenticated and slipped past the replay
  // record (keyed by EK_A). AD now ends with EncodeEC(EK_A) (docs/protocol/04 §4.5).
  const rng = seededRng('attack torsion base key');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const bundle = await verifyPrekeyBundle(crypto, bundleOf(bob, { kem: 'last-resort' }));
  const { message } = await sessionEncrypt(crypto, rng, await initiateSession(crypto, rng, alice, bundle), utf8('transfer 100 EUR'));
  await acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, message.bytes);
  const before = bob.store.snapshot();
  const ek = message.bytes.slice(34, 66); // docs/protocol/04 §4.6: EK_A at offset 34
  const variants = new Set<string>();
  for (const hex of ED25519_TORSION_SUBGROUP) {
    const shifted = addTorsion(ek, ed25519.Point.fromHex(hex));
    if (toHex(shifted) === toHex(ek) || variants.has(toHex(shifted))) continue;
    variants.add(toHex(shifted));
    const forged = message.bytes.slice();
    forged.set(shifted, 34);
    await assert.rejects(acceptPrekeyMessage(crypto, rng, bob.identity, bob.store, forged), (e: unknown) => isProtocolError(e, 'ERR_HANDSHAKE_FAILED') || isProtocolError(e, 'ERR_KEY_INVALID'), `EK_A + T (${hex})`);
  }
  assert.equal(variants.size, 7, 'seven distinct shifted encodings of EK_A');
  assert.equal(bob.store.snapshot(), before, 'the prekey store is unchanged');
});
