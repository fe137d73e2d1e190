// Property tests for the sealed-envelope codecs (STYLE.md §12): decode(encode(x)) = x, and any byte
// string — random, or a valid encoding with bytes changed, cut or appended — decodes to the one
// value that re-encodes to it, or fails with a typed ProtocolError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import { IdentityKeyPair, isProtocolError, nobleProvider, ProtocolError } from '@sotto/protocol';
import { utf8 } from '../src/internal/bytes.ts';
import { MAX_USERNAME_BYTES } from '../src/limits.ts';
import { WIRE_VERSION, WireType } from '../src/wire/version.ts';
import { decodeSenderCertificate, encodeSenderCertificate, type SenderCertificate } from '../src/wire/sender-certificate.ts';
import { decodeSealedContent, encodeSealedContent, type SealedContent } from '../src/wire/sealed-content.ts';
import { SEALED_INNER_AAD_BYTES, decodeSealedEnvelope, encodeSealedEnvelope, type SealedEnvelope } from '../src/wire/sealed-envelope.ts';

const crypto = nobleProvider;
const rng = seededRng('sealed-codecs');
const corpus = corpusAt(new URL('corpus/', import.meta.url));
const keys = await Promise.all([0, 1, 2, 3].map(() => IdentityKeyPair.generate(crypto, rng).then((k) => k.publicKey)));

const key0 = keys[0];
if (key0 === undefined) throw new Error('no key generated');

const username = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((s) => utf8(s).length >= 1 && utf8(s).length <= MAX_USERNAME_BYTES && !s.startsWith('\uFEFF'));
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const certificate: fc.Arbitrary<SenderCertificate> = fc.record({
  username,
  deviceId: u32,
  identityKey: fc.constantFrom(...keys),
  expiresAt: fc.oneof(fc.integer({ min: 0, max: 2 ** 41 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(0)),
  signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
}, { noNullPrototype: true });

const content: fc.Arbitrary<SealedContent> = fc.record({
  certificate,
  contentType: fc.constantFrom(WireType.PrekeyMessage, WireType.RatchetMessage),
  content: fc.uint8Array({ minLength: 1, maxLength: 300 }),
}, { noNullPrototype: true });

const envelope: fc.Arbitrary<SealedEnvelope> = fc.record({
  outerEnc: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  outerCiphertext: fc.uint8Array({ minLength: 48, maxLength: 48 }),
  innerEnc: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  innerCiphertext: fc.constantFrom(512, 1024, 4096).chain((n) => fc.uint8Array({ minLength: n - SEALED_INNER_AAD_BYTES, maxLength: n - SEALED_INNER_AAD_BYTES })),
}, { noNullPrototype: true });

/** Byte strings derived from a valid encoding: a changed byte, a cut, an extension, or pure noise. */
function mutations(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      const out = b.slice();
      if (out.length > 0) out[i % out.length] = (out[i % out.length] ?? 0) ^ x;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.slice(0, n % (b.length + 1))),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([b, tail]) => Uint8Array.from([...b, ...tail])),
  );
}

function typedOrCanonical<T>(decode: (b: Uint8Array) => T, encode: (x: T) => Uint8Array) {
  return (bytes: Uint8Array): void => {
    let value: T;
    try {
      value = decode(bytes);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `untyped error: ${String(e)}`);
      return;
    }
    assert.deepEqual(encode(value), bytes, 'a decoded value re-encodes to exactly its input');
  };
}

test('SenderCertificate: decode(encode(x)) = x', async () => {
  await corpus.check(
    'sealed-sender-certificate-roundtrip',
    certificate,
    (c) => {
      assert.deepEqual(decodeSenderCertificate(encodeSenderCertificate(c)), c);
    },
    { numRuns: 300 },
  );
});

test('SenderCertificate: arbitrary and mutated bytes give a typed error or a canonical value', async () => {
  await corpus.check('sealed-sender-certificate-mutated-bytes', mutations(certificate.map(encodeSenderCertificate)), typedOrCanonical(decodeSenderCertificate, encodeSenderCertificate), { numRuns: 1500 });
});

test('SenderCertificate: named malformed cases', () => {
  const good = encodeSenderCertificate({ username: 'alice', deviceId: 1, identityKey: key0, expiresAt: 5, signature: new Uint8Array(64) });
  const at = (i: number, v: number): Uint8Array => {
    const b = good.slice();
    b[i] = v;
    return b;
  };
  const cases: [string, Uint8Array, string][] = [
    ['version 2', at(0, 2), 'ERR_WIRE_UNKNOWN_VERSION'],
    ['another type', at(1, WireType.SealedContent), 'ERR_WIRE_UNKNOWN_TYPE'],
    ['empty username', Uint8Array.from([WIRE_VERSION, WireType.SenderCertificate, 0, 0]), 'ERR_WIRE_BAD_LENGTH'],
    ['invalid UTF-8', at(4, 0xff), 'ERR_WIRE_NON_CANONICAL'],
    ['expiry beyond 2^53 - 1', at(4 + 5 + 4 + 32, 0x01), 'ERR_WIRE_NON_CANONICAL'],
    ['identity key not a point', (() => { const b = good.slice(); b.fill(0, 13, 45); b[13] = 2; return b; })(), 'ERR_KEY_INVALID'],
    ['trailing byte', Uint8Array.from([...good, 0]), 'ERR_WIRE_TRAILING_BYTES'],
    ['truncated', good.subarray(0, good.length - 1), 'ERR_WIRE_TRUNCATED'],
  ];
  for (const [name, bytes, code] of cases) {
    assert.throws(() => decodeSenderCertificate(bytes), (e) => isProtocolError(e) && e.code === code, name);
  }
  const bom = encodeSenderCertificate({ username: '\uFEFFalice', deviceId: 1, identityKey: key0, expiresAt: 5, signature: new Uint8Array(64) });
  // A leading U+FEFF is content, not a marker that UTF-8 decoding may drop: it must survive the round
  // trip, so that one byte string has exactly one decoding (username rules belong to the server).
  assert.equal(decodeSenderCertificate(bom).username, '\uFEFFalice', 'a leading byte-order mark is kept');
});

test('SealedContent: decode(encode(x)) = x', async () => {
  await corpus.check(
    'sealed-content-roundtrip',
    content,
    (c) => {
      assert.deepEqual(decodeSealedContent(encodeSealedContent(c)), c);
    },
    { numRuns: 300 },
  );
});

test('SealedContent: arbitrary and mutated bytes give a typed error or a canonical value', async () => {
  await corpus.check('sealed-content-mutated-bytes', mutations(content.map(encodeSealedContent)), typedOrCanonical(decodeSealedContent, encodeSealedContent), { numRuns: 1500 });
});

test('SealedEnvelope: decode(encode(x)) = x', async () => {
  await corpus.check(
    'sealed-envelope-roundtrip',
    envelope,
    (e) => {
      assert.deepEqual(decodeSealedEnvelope(encodeSealedEnvelope(e)), e);
    },
    { numRuns: 200 },
  );
});

test('SealedEnvelope: arbitrary and mutated bytes give a typed error or a canonical value', async () => {
  await corpus.check('sealed-envelope-mutated-bytes', mutations(envelope.map(encodeSealedEnvelope)), typedOrCanonical(decodeSealedEnvelope, encodeSealedEnvelope), { numRuns: 1500 });
});
