// Identity keys: the Ed25519 → X25519 map agrees on both halves, keys validate strictly, and the
// secret seed never prints (STYLE.md §10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { seededRng } from '@sotto/test-support';
import { IdentityKeyPair, identityDhPublicKey, isProtocolError, nobleProvider, parseIdentityPublicKey } from '@sotto/protocol';
import { toHex, utf8 } from '../src/internal/bytes.ts';
import { IDENTITY_SIGNATURE_LABELS } from '../src/keys/identity.ts';

const crypto = nobleProvider;

test('the X25519 form of the public key matches the X25519 form of the seed (RFC 7748 §4.1)', async () => {
  const rng = seededRng('identity-map');
  for (let i = 0; i < 8; i++) {
    const id = await IdentityKeyPair.generate(crypto, rng);
    const fromPublic = identityDhPublicKey(id.publicKey);
    const fromSecret = await crypto.x25519PublicKey(id.dhPrivateKey(crypto));
    assert.equal(toHex(fromPublic), toHex(fromSecret), `case ${i}`);
  }
});

test('two identities agree on their X25519 shared secret', async () => {
  const rng = seededRng('identity-dh');
  const a = await IdentityKeyPair.generate(crypto, rng);
  const b = await IdentityKeyPair.generate(crypto, rng);
  const ab = await crypto.x25519(a.dhPrivateKey(crypto), identityDhPublicKey(b.publicKey));
  const ba = await crypto.x25519(b.dhPrivateKey(crypto), identityDhPublicKey(a.publicKey));
  assert.equal(toHex(ab), toHex(ba));
});

test('invalid identity keys are typed errors', async () => {
  assert.throws(() => parseIdentityPublicKey(new Uint8Array(31)), (e) => isProtocolError(e, 'ERR_KEY_INVALID'));
  // the identity point (0, 1) encodes as 0x01 followed by zeros: small order, refused
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  assert.throws(() => parseIdentityPublicKey(identityPoint), (e) => isProtocolError(e, 'ERR_KEY_INVALID'));
  // A + T (T of order 8) is a valid point but not in the prime-order subgroup: refused
  const valid = (await IdentityKeyPair.generate(crypto, seededRng('identity-torsion'))).publicKey;
  const { ed25519, ED25519_TORSION_SUBGROUP } = await import('@noble/curves/ed25519.js');
  for (const t of ED25519_TORSION_SUBGROUP.slice(1)) {
    const shifted = ed25519.Point.fromBytes(valid).add(ed25519.Point.fromHex(t)).toBytes();
    assert.throws(() => parseIdentityPublicKey(shifted), (e) => isProtocolError(e, 'ERR_KEY_INVALID'), `A + T for T = ${t}`);
  }
  // y = 2 is not on the curve
  const offCurve = new Uint8Array(32);
  offCurve[0] = 2;
  assert.throws(() => parseIdentityPublicKey(offCurve), (e) => isProtocolError(e, 'ERR_KEY_INVALID'));
});

test('an identity key pair never prints its seed', async () => {
  const id = await IdentityKeyPair.fromSeed(crypto, new Uint8Array(32).fill(0xab));
  const seedHex = 'ab'.repeat(32);
  for (const shown of [String(id), JSON.stringify(id), inspect(id, { showHidden: true, depth: 5 }), JSON.stringify({ id })]) {
    assert.ok(!shown.includes(seedHex), `seed leaked in: ${shown}`);
    assert.ok(shown.includes('[IdentityKeyPair: redacted]'), `expected the redaction marker, got: ${shown}`);
  }
  // the public half is still reachable on purpose
  assert.equal(id.publicKey.length, 32);
});

test('a signature by the identity verifies, and fails for another message', async () => {
  const id = await IdentityKeyPair.generate(crypto, seededRng('identity-sign'));
  const msg = new Uint8Array([...IDENTITY_SIGNATURE_LABELS.senderCertificate, 1, 2, 3]);
  const sig = await id.sign(crypto, msg);
  assert.equal(await crypto.ed25519Verify(id.publicKey, msg, sig), true);
  const other = msg.slice();
  other[other.length - 1] = 4;
  assert.equal(await crypto.ed25519Verify(id.publicKey, other, sig), false);
});

test('an identity signs only messages that start with a registered label (a "challenge" cannot double as a prekey)', async () => {
  const id = await IdentityKeyPair.generate(crypto, seededRng('identity-sign-labels'));
  for (const challenge of [new Uint8Array([1, 2, 3]), utf8('Sotto_v1_Signed'), new Uint8Array(0), utf8('sotto_v1_SignedPrekey\0')]) {
    await assert.rejects(id.sign(crypto, challenge), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  }
  const labels = Object.values(IDENTITY_SIGNATURE_LABELS);
  for (const a of labels) {
    for (const b of labels) {
      if (a === b) continue;
      const aIsPrefixOfB = a.length <= b.length && a.every((x, i) => b[i] === x);
      assert.equal(aIsPrefixOfB, false, 'the labels are prefix-free');
    }
  }
});

test('the direct u = (1 + y) / (1 − y) map equals noble\'s point-based conversion for many keys', async () => {
  const { ed25519 } = await import('@noble/curves/ed25519.js');
  const rng = seededRng('identity-map-direct');
  for (let i = 0; i < 64; i++) {
    const pub = ed25519.getPublicKey(rng(32));
    // parse twice: once computing, once from the memo; both must equal the reference
    for (let round = 0; round < 2; round++) {
      const key = parseIdentityPublicKey(pub);
      assert.equal(toHex(identityDhPublicKey(key)), toHex(ed25519.utils.toMontgomery(pub)), `case ${i} round ${round}`);
    }
  }
});

test('identity.dh equals X25519 with the exported scalar, and the exported scalar is a copy', async () => {
  const rng = seededRng('identity-dh-method');
  const a = await IdentityKeyPair.generate(crypto, rng);
  const peer = await crypto.x25519PublicKey(rng(32));
  const viaMethod = await a.dh(crypto, peer);
  const scalar = a.dhPrivateKey(crypto);
  assert.equal(toHex(viaMethod), toHex(await crypto.x25519(scalar, peer)));
  scalar.fill(0); // wiping the copy must not touch the identity
  assert.equal(toHex(await a.dh(crypto, peer)), toHex(viaMethod));
});
