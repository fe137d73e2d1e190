// PQXDH rev 3 §3.3/§3.4 (src/handshake/pqxdh.ts). There are NO published PQXDH test vectors: the spec
// contains none (see signal/signal-kdf-constants-and-spec-notes.json, "published_test_data_in_specs"),
// and libsignal's PQXDH uses a different info string, XEdDSA identities and a different AD. So we
// cross-check in two ways: (1) both sides, computed by the code under test, agree; (2) SK and AD are
// recomputed here independently, straight from the spec formulas with @noble primitives called
// directly (not through a CryptoProvider), from the responder's secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { x25519, ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { seededRng } from '@sotto/test-support';
import { IdentityKeyPair, nobleProvider, verifyPrekeyBundle, type CryptoProvider } from '@sotto/protocol';
import { PQXDH_INFO, pqxdhAssociatedData, pqxdhInitiate, pqxdhRespond } from '../src/handshake/pqxdh.ts';
import { parseX25519PublicKey, type KemPrekeyPrivate, type MlKemPublicKey } from '../src/keys/prekeys.ts';
import { concatBytes, toHex } from '../src/internal/bytes.ts';
import { bundleOf, crypto, makeDevice, type Device } from './handshake-fixtures.ts';

/** The spec formula, computed independently from Bob's exported secrets:
 *  SK = HKDF-SHA-256(ikm = F || DH1 || DH2 || DH3 [|| DH4] || SS, salt = 0^32, info, L = 32). */
function independentSk(bob: Device, aliceIdentity: Uint8Array, ek: Uint8Array, ct: Uint8Array, oneTime: number | undefined, kem: KemPrekeyPrivate): Uint8Array {
  const ikBScalar = sha512(bob.identity.exportSeed()).slice(0, 32); // RFC 8032 §5.1.5 step 1 (X25519 clamps it)
  const ikA = ed25519.utils.toMontgomery(aliceIdentity); // RFC 7748 §4.1
  const spk = bob.signedPrekey.exportSecret();
  const parts = [
    x25519.getSharedSecret(spk, ikA), //       DH1 = DH(IK_A, SPK_B)
    x25519.getSharedSecret(ikBScalar, ek), //  DH2 = DH(EK_A, IK_B)
    x25519.getSharedSecret(spk, ek), //        DH3 = DH(EK_A, SPK_B)
  ];
  if (oneTime !== undefined) {
    const opk = bob.oneTimePrekeys[oneTime];
    assert.ok(opk);
    parts.push(x25519.getSharedSecret(opk.exportSecret(), ek)); // DH4 = DH(EK_A, OPK_B)
  }
  const { secretKey } = ml_kem1024.keygen(kem.exportSecret());
  parts.push(ml_kem1024.decapsulate(ct, secretKey)); // SS = PQKEM-DEC(PQPK_B, CT)
  const f = new Uint8Array(32).fill(0xff);
  return hkdf(sha256, concatBytes(f, ...parts), new Uint8Array(32), new TextEncoder().encode('Sotto_v1_CURVE25519_SHA-256_ML-KEM-1024'), 32);
}

test('the info string follows PQXDH §2.2 (info_curve_hash_pqkem, at least 8 bytes)', () => {
  assert.equal(new TextDecoder().decode(PQXDH_INFO), 'Sotto_v1_CURVE25519_SHA-256_ML-KEM-1024');
  assert.ok(PQXDH_INFO.length >= 8);
});

for (const oneTime of [0, undefined]) {
  for (const kem of [0, 'last-resort'] as const) {
    test(`both sides derive the same SK and AD, equal to the spec formula (OPK ${oneTime === undefined ? 'absent' : 'present'}, KEM ${kem === 0 ? 'one-time' : 'last-resort'})`, async () => {
      const rng = seededRng(`pqxdh ${String(oneTime)} ${kem}`);
      const bob = await makeDevice(crypto, rng, { oneTime: 1, kemOneTime: 1 });
      const bobIdentity = bob.identity;
      const alice = await IdentityKeyPair.generate(crypto, rng);
      const kemKey = kem === 0 ? bob.kemPrekeys[0] : bob.lastResort;
      const otp = bob.oneTimePrekeys[0];
      assert.ok(kemKey && otp);
      const bundle = await verifyPrekeyBundle(crypto, bundleOf(bob, { oneTime, kem }));
      const a = await pqxdhInitiate(crypto, rng, alice, bundle);
      const b = await pqxdhRespond(
        crypto,
        bobIdentity,
        { signedPrekey: bob.signedPrekey, oneTimePrekey: oneTime === undefined ? undefined : otp, kemPrekey: kemKey },
        alice.publicKey,
        parseX25519PublicKey(a.header.baseKey),
        a.header.kemCiphertext,
      );
      assert.equal(toHex(a.sharedSecret), toHex(b.sharedSecret), 'initiator and responder SK');
      assert.equal(toHex(a.associatedData), toHex(b.associatedData), 'initiator and responder AD');
      const expected = independentSk(bob, alice.publicKey, a.header.baseKey, a.header.kemCiphertext, oneTime, kemKey);
      assert.equal(toHex(a.sharedSecret), toHex(expected), 'SK from the spec formula');
      // AD = EncodeEC(IK_A) || EncodeEC(IK_B) || 0x06 || IK_A(Ed25519) || 0x06 || IK_B(Ed25519) || EncodeEC(EK_A)
      const ad = concatBytes(
        Uint8Array.of(0x05), ed25519.utils.toMontgomery(alice.publicKey),
        Uint8Array.of(0x05), ed25519.utils.toMontgomery(bobIdentity.publicKey),
        Uint8Array.of(0x06), alice.publicKey,
        Uint8Array.of(0x06), bobIdentity.publicKey,
        Uint8Array.of(0x05), a.header.baseKey,
      );
      assert.equal(toHex(a.associatedData), toHex(ad), 'AD layout');
      assert.equal(a.header.oneTimePrekeyId, oneTime === undefined ? undefined : 100);
      assert.equal(a.header.kemPrekeyId, kem === 0 ? 200 : 999);
      assert.equal(a.header.signedPrekeyId, 7);
    });
  }
}

test('initiator on the portable provider and responder on the fast one agree', async () => {
  const rng = seededRng('cross-provider');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(nobleProvider, rng);
  const bundle = await verifyPrekeyBundle(nobleProvider, bundleOf(bob, { oneTime: 0 }));
  const a = await pqxdhInitiate(nobleProvider, rng, alice, bundle);
  const opk = bob.oneTimePrekeys[0];
  const kem = bob.kemPrekeys[0];
  assert.ok(opk && kem);
  const b = await pqxdhRespond(crypto, bob.identity, { signedPrekey: bob.signedPrekey, oneTimePrekey: opk, kemPrekey: kem }, alice.publicKey, parseX25519PublicKey(a.header.baseKey), a.header.kemCiphertext);
  assert.equal(toHex(a.sharedSecret), toHex(b.sharedSecret));
});

test('the responder derives a different SK from a wrong key: wrong one-time prekey, tampered CT, other identity', async () => {
  const rng = seededRng('wrong keys');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const mallory = await IdentityKeyPair.generate(crypto, rng);
  const bundle = await verifyPrekeyBundle(crypto, bundleOf(bob, { oneTime: 0 }));
  const a = await pqxdhInitiate(crypto, rng, alice, bundle);
  const [opk0, opk1] = bob.oneTimePrekeys;
  const kem = bob.kemPrekeys[0];
  assert.ok(opk0 && opk1 && kem);
  const ek = parseX25519PublicKey(a.header.baseKey);
  const respond = (c: CryptoProvider, keys: Parameters<typeof pqxdhRespond>[2], ik = alice.publicKey, ct = a.header.kemCiphertext) => pqxdhRespond(c, bob.identity, keys, ik, ek, ct);
  const right = await respond(crypto, { signedPrekey: bob.signedPrekey, oneTimePrekey: opk0, kemPrekey: kem });
  assert.equal(toHex(right.sharedSecret), toHex(a.sharedSecret));
  const wrongOpk = await respond(crypto, { signedPrekey: bob.signedPrekey, oneTimePrekey: opk1, kemPrekey: kem });
  assert.notEqual(toHex(wrongOpk.sharedSecret), toHex(a.sharedSecret));
  const noOpk = await respond(crypto, { signedPrekey: bob.signedPrekey, oneTimePrekey: undefined, kemPrekey: kem });
  assert.notEqual(toHex(noOpk.sharedSecret), toHex(a.sharedSecret));
  const ct = a.header.kemCiphertext.slice();
  ct[100] = (ct[100] ?? 0) ^ 1;
  const tampered = await respond(crypto, { signedPrekey: bob.signedPrekey, oneTimePrekey: opk0, kemPrekey: kem }, alice.publicKey, ct);
  assert.notEqual(toHex(tampered.sharedSecret), toHex(a.sharedSecret), 'ML-KEM implicit rejection gives another SS');
  const other = await respond(crypto, { signedPrekey: bob.signedPrekey, oneTimePrekey: opk0, kemPrekey: kem }, mallory.publicKey);
  assert.notEqual(toHex(other.sharedSecret), toHex(a.sharedSecret));
  assert.notEqual(toHex(other.associatedData), toHex(a.associatedData));
});

test('AD distinguishes identity keys that share an X25519 form (Ed25519 sign bit)', async () => {
  const rng = seededRng('sign bit');
  const a = await IdentityKeyPair.generate(crypto, rng);
  const b = await IdentityKeyPair.generate(crypto, rng);
  const flipped = a.publicKey.slice();
  flipped[31] = (flipped[31] ?? 0) ^ 0x80; // -A: same Montgomery u
  assert.equal(toHex(ed25519.utils.toMontgomery(flipped)), toHex(ed25519.utils.toMontgomery(a.publicKey)));
  const ek = parseX25519PublicKey(await crypto.x25519PublicKey(rng(32)));
  const ad1 = pqxdhAssociatedData(a.publicKey, b.publicKey, ek);
  const ad2 = pqxdhAssociatedData(flipped as typeof a.publicKey, b.publicKey, ek);
  assert.notEqual(toHex(ad1), toHex(ad2));
});

test('pqxdhInitiate refuses a bundle that did not come from verifyPrekeyBundle', async () => {
  const rng = seededRng('unverified');
  const bob = await makeDevice(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const raw = bundleOf(bob);
  const fake = { identityKey: raw.identityKey, signedPrekey: raw.signedPrekey, oneTimePrekey: undefined, kemPrekey: { ...raw.kemPrekey, publicKey: raw.kemPrekey.publicKey as MlKemPublicKey } };
  await assert.rejects(pqxdhInitiate(crypto, rng, alice, fake as never), (e: Error) => (e as { code?: string }).code === 'ERR_ARGUMENT');
});
