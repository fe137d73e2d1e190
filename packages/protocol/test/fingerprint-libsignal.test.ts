// libsignal's numeric fingerprint vectors (rust/protocol/src/fingerprint.rs fingerprint_test_v1 /
// fingerprint_test_v2 and the protobuf encoding unit test), loaded from the shared vector file:
// the 60-digit display string, the scannable payloads v1 and v2 of both sides, their comparison,
// and the encoding test (STYLE.md §11: data, named cases, a missing file fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors } from '@sotto/test-support';
import { isProtocolError, nobleProvider } from '@sotto/protocol';
import { fromHex, toHex, utf8 } from '../src/internal/bytes.ts';
import { computeSafetyNumber, compareScannable } from '../src/fingerprint/safety-number.ts';
import { FINGERPRINT_ITERATIONS } from '../src/fingerprint/numeric-fingerprint.ts';
import { decodeScannableFingerprint, encodeScannableFingerprint } from '../src/fingerprint/scannable.ts';

interface FingerprintVectors {
  readonly fingerprint_numeric_safety_number: {
    readonly vectors: {
      readonly alice_identity_key: string;
      readonly bob_identity_key: string;
      readonly alice_stable_id_utf8: string;
      readonly bob_stable_id_utf8: string;
      readonly iterations: number;
      readonly displayable_fingerprint: string;
      readonly alice_scannable_v1: string;
      readonly bob_scannable_v1: string;
      readonly alice_scannable_v2: string;
      readonly bob_scannable_v2: string;
      readonly encoding_unit_test: {
        readonly local_32_bytes: string;
        readonly remote_32_bytes: string;
        readonly version: number;
        readonly expected_protobuf: string;
      };
    };
  };
}

const v = loadVectors<FingerprintVectors>('signal/libsignal-test-vectors.json').fingerprint_numeric_safety_number.vectors;
const crypto = nobleProvider;
const alice = { identityKey: fromHex(v.alice_identity_key), stableId: utf8(v.alice_stable_id_utf8) };
const bob = { identityKey: fromHex(v.bob_identity_key), stableId: utf8(v.bob_stable_id_utf8) };

test('the vectors use our iteration count', () => {
  assert.equal(v.iterations, FINGERPRINT_ITERATIONS);
});

const scannableVectors = [
  { version: 1, alice: v.alice_scannable_v1, bob: v.bob_scannable_v1 },
  { version: 2, alice: v.alice_scannable_v2, bob: v.bob_scannable_v2 },
] as const;

for (const sv of scannableVectors) {
  test(`libsignal fingerprint_test_v${sv.version}: display string and scannable payloads of both sides`, () => {
    const a = computeSafetyNumber(crypto, sv.version, alice, bob);
    const b = computeSafetyNumber(crypto, sv.version, bob, alice);
    assert.equal(a.displayable, v.displayable_fingerprint, `v${sv.version}: Alice's display string`);
    assert.equal(b.displayable, v.displayable_fingerprint, `v${sv.version}: Bob's display string`);
    assert.equal(a.displayable.length, 60, `v${sv.version}: 60 digits`);
    assert.equal(toHex(a.scannable), sv.alice, `v${sv.version}: Alice's scannable payload`);
    assert.equal(toHex(b.scannable), sv.bob, `v${sv.version}: Bob's scannable payload`);
    // each side scans the other's code
    assert.equal(compareScannable(a.scannable, fromHex(sv.bob)), 'match', `v${sv.version}: Alice scans Bob`);
    assert.equal(compareScannable(b.scannable, fromHex(sv.alice)), 'match', `v${sv.version}: Bob scans Alice`);
    // scanning one's own code is not a match (libsignal: the halves are swapped)
    assert.equal(compareScannable(a.scannable, a.scannable), 'mismatch', `v${sv.version}: Alice scans herself`);
  });
}

test('libsignal: a v1 payload compared with a v2 one is a version mismatch (both directions)', () => {
  assert.throws(() => compareScannable(fromHex(v.alice_scannable_v2), fromHex(v.bob_scannable_v1)), (e) => isProtocolError(e, 'ERR_FINGERPRINT_VERSION'));
  assert.throws(() => compareScannable(fromHex(v.alice_scannable_v1), fromHex(v.bob_scannable_v2)), (e) => isProtocolError(e, 'ERR_FINGERPRINT_VERSION'));
});

test('libsignal: a different identity key for Bob gives a mismatch and a different display string', () => {
  const mallory = { identityKey: fromHex(v.alice_identity_key), stableId: bob.stableId };
  const withMallory = computeSafetyNumber(crypto, 2, alice, mallory);
  assert.notEqual(withMallory.displayable, v.displayable_fingerprint);
  assert.equal(compareScannable(withMallory.scannable, fromHex(v.bob_scannable_v2)), 'mismatch');
});

test('libsignal: the CombinedFingerprints protobuf encoding unit test', () => {
  const t = v.encoding_unit_test;
  const encoded = encodeScannableFingerprint({ version: t.version, local: fromHex(t.local_32_bytes), remote: fromHex(t.remote_32_bytes) });
  assert.equal(toHex(encoded), t.expected_protobuf, 'encoding');
  const decoded = decodeScannableFingerprint(fromHex(t.expected_protobuf));
  assert.equal(decoded.version, t.version, 'decoded version');
  assert.equal(toHex(decoded.local), t.local_32_bytes, 'decoded local');
  assert.equal(toHex(decoded.remote), t.remote_32_bytes, 'decoded remote');
});
