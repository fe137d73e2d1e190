// Safety numbers for Sotto identities (docs/protocol/07-safety-numbers.md §7.5–7.6): both sides see
// the same 60 digits, each side's QR code matches the other's, a substituted key or username is a
// mismatch, a Signal payload is a version mismatch, and the scannable decoder is strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt, seededRng, loadVectors } from '@sotto/test-support';
import { IdentityKeyPair, isProtocolError, nobleProvider, ProtocolError } from '@sotto/protocol';
import { concatBytes, fromHex, toHex, utf8 } from '../src/internal/bytes.ts';
import { computeSafetyNumber, compareScannable, SOTTO_FINGERPRINT_KEY_TYPE, SOTTO_SCANNABLE_VERSION, sottoSafetyNumber } from '../src/fingerprint/safety-number.ts';
import { decodeScannableFingerprint, encodeScannableFingerprint, type ScannableFingerprint } from '../src/fingerprint/scannable.ts';

const crypto = nobleProvider;
const rng = seededRng('fingerprint-sotto');
const corpus = corpusAt(new URL('corpus/', import.meta.url));
const alice = { username: 'alice', identityKey: (await IdentityKeyPair.generate(crypto, rng)).publicKey };
const bob = { username: 'bob', identityKey: (await IdentityKeyPair.generate(crypto, rng)).publicKey };
const mallory = { username: 'bob', identityKey: (await IdentityKeyPair.generate(crypto, rng)).publicKey };

test('both sides compute the same 60 digits, and each QR code matches the other side', () => {
  const a = sottoSafetyNumber(crypto, alice, bob);
  const b = sottoSafetyNumber(crypto, bob, alice);
  assert.match(a.displayable, /^[0-9]{60}$/);
  assert.equal(a.displayable, b.displayable);
  assert.equal(compareScannable(a.scannable, b.scannable), 'match');
  assert.equal(compareScannable(b.scannable, a.scannable), 'match');
  assert.equal(decodeScannableFingerprint(a.scannable).version, SOTTO_SCANNABLE_VERSION);
});

test('the Sotto inputs are the key-type byte || Ed25519 key and the UTF-8 username', () => {
  const a = sottoSafetyNumber(crypto, alice, bob);
  const generic = computeSafetyNumber(
    crypto,
    SOTTO_SCANNABLE_VERSION,
    { identityKey: concatBytes(Uint8Array.of(SOTTO_FINGERPRINT_KEY_TYPE), alice.identityKey), stableId: utf8('alice') },
    { identityKey: concatBytes(Uint8Array.of(SOTTO_FINGERPRINT_KEY_TYPE), bob.identityKey), stableId: utf8('bob') },
  );
  assert.equal(a.displayable, generic.displayable);
  assert.equal(toHex(a.scannable), toHex(generic.scannable));
});

test('a substituted key (same username) changes the digits and the QR comparison is a mismatch', () => {
  const real = sottoSafetyNumber(crypto, alice, bob);
  const mitm = sottoSafetyNumber(crypto, mallory, alice); // what Mallory-as-Bob's device shows
  const aliceSeesMallory = sottoSafetyNumber(crypto, alice, mallory);
  assert.notEqual(real.displayable, aliceSeesMallory.displayable);
  assert.equal(compareScannable(real.scannable, mitm.scannable), 'mismatch');
  // the same key under another username is another safety number too
  const renamed = sottoSafetyNumber(crypto, alice, { username: 'b0b', identityKey: bob.identityKey });
  assert.notEqual(renamed.displayable, real.displayable);
});

test('a Signal (libsignal v2) payload scanned by Sotto is a version mismatch', () => {
  const v = loadVectors<{ fingerprint_numeric_safety_number: { vectors: { bob_scannable_v2: string } } }>('signal/libsignal-test-vectors.json');
  const ours = sottoSafetyNumber(crypto, alice, bob).scannable;
  assert.throws(() => compareScannable(ours, fromHex(v.fingerprint_numeric_safety_number.vectors.bob_scannable_v2)), (e) => isProtocolError(e, 'ERR_FINGERPRINT_VERSION'));
});

test('username bounds: empty or longer than MAX_USERNAME_BYTES is a caller error', () => {
  assert.throws(() => sottoSafetyNumber(crypto, { ...alice, username: '' }, bob), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
  assert.throws(() => sottoSafetyNumber(crypto, { ...alice, username: 'x'.repeat(65) }, bob), (e) => isProtocolError(e, 'ERR_ARGUMENT'));
});

const scannable: fc.Arbitrary<ScannableFingerprint> = fc.record(
  {
    version: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 0xffffffff })),
    local: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    remote: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  },
  { noNullPrototype: true },
);

test('property: scannable payload decode(encode(x)) = x', async () => {
  await corpus.check(
    'fingerprint-scannable-roundtrip',
    scannable,
    (f) => {
      assert.deepEqual(decodeScannableFingerprint(encodeScannableFingerprint(f)), f);
    },
    { numRuns: 500 },
  );
});

test('property: arbitrary or mutated payloads give ERR_FINGERPRINT_INVALID or the canonical value', async () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 90 }),
    fc.tuple(scannable.map(encodeScannableFingerprint), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      const out = b.slice();
      out[i % out.length] = (out[i % out.length] ?? 0) ^ x;
      return out;
    }),
    fc.tuple(scannable.map(encodeScannableFingerprint), fc.nat()).map(([b, n]) => b.slice(0, n % b.length)),
  );
  await corpus.check(
    'fingerprint-scannable-random-bytes',
    bytes,
    (b) => {
      let f: ScannableFingerprint;
      try {
        f = decodeScannableFingerprint(b);
      } catch (e) {
        assert.ok(e instanceof ProtocolError && e.code === 'ERR_FINGERPRINT_INVALID', `unexpected error ${String(e)}`);
        return;
      }
      assert.deepEqual(encodeScannableFingerprint(f), b);
    },
    { numRuns: 3000 },
  );
});

test('scannable decoder: named non-canonical encodings are refused', () => {
  const good = encodeScannableFingerprint({ version: 3, local: new Uint8Array(32).fill(1), remote: new Uint8Array(32).fill(2) });
  const cases: [string, Uint8Array][] = [
    ['non-minimal varint', concatBytes(Uint8Array.of(0x08, 0x83, 0x00), good.subarray(2))],
    ['fields out of order', concatBytes(good.subarray(0, 2), good.subarray(38), good.subarray(2, 38))],
    ['version field missing', good.subarray(2)],
    ['31-byte content', concatBytes(Uint8Array.of(0x08, 0x03, 0x12, 0x21, 0x0a, 0x1f), new Uint8Array(31), good.subarray(38))],
    ['unknown trailing field', concatBytes(good, Uint8Array.of(0x20, 0x01))],
    ['version above u32', concatBytes(Uint8Array.of(0x08, 0x80, 0x80, 0x80, 0x80, 0x10), good.subarray(2))],
    ['six-byte varint', concatBytes(Uint8Array.of(0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), good.subarray(2))],
    ['empty', new Uint8Array(0)],
  ];
  for (const [name, b] of cases) {
    assert.throws(() => decodeScannableFingerprint(b), (e) => isProtocolError(e, 'ERR_FINGERPRINT_INVALID'), name);
  }
  // comparison propagates a malformed scan as ERR_FINGERPRINT_INVALID, never as a mismatch
  assert.throws(() => compareScannable(good, good.subarray(1)), (e) => isProtocolError(e, 'ERR_FINGERPRINT_INVALID'));
});
