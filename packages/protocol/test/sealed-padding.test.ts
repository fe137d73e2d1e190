// Size buckets and ISO/IEC 7816-4 padding of sealed envelopes (docs/protocol/06-sealed-envelope.md
// §6.7): the bucket list, that every envelope length is a bucket, plaintext sizes on both sides of
// bucket edges (including the largest bucket), and the strict unpadding rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt, seededRng } from '@sotto/test-support';
import { IdentityKeyPair, isProtocolError, nobleProvider } from '@sotto/protocol';
import { MAX_SEALED_ENVELOPE_BYTES, SEALED_BUCKET_DOUBLING_MAX, SEALED_BUCKET_MIN, SEALED_BUCKET_STEP } from '../src/limits.ts';
import { SEALED_CONTENT_FIXED_BYTES } from '../src/wire/sealed-content.ts';
import { SEALED_ENVELOPE_OVERHEAD } from '../src/wire/sealed-envelope.ts';
import { encodeSenderCertificate } from '../src/wire/sender-certificate.ts';
import { createSenderCertificate } from '../src/sealed/sender-certificate.ts';
import { isSealedBucket, padIso7816, sealedBucketFor, sealedBuckets, unpadIso7816 } from '../src/sealed/padding.ts';
import { openEnvelope, sealEnvelope } from '../src/sealed/sealed-sender.ts';

const crypto = nobleProvider;
const NOW = 1_790_000_000_000;
const rng = seededRng('sealed-padding');
const corpus = corpusAt(new URL('corpus/', import.meta.url));
const alice = await IdentityKeyPair.generate(crypto, rng);
const bob = await IdentityKeyPair.generate(crypto, rng);
const cert = await createSenderCertificate(crypto, alice, { username: 'alice', deviceId: 1, expiresAt: NOW + 1000 });
/** Envelope bytes besides the content: HPKE overhead, padding marker, SealedContent fields, certificate. */
const FIXED = SEALED_ENVELOPE_OVERHEAD + 1 + SEALED_CONTENT_FIXED_BYTES + encodeSenderCertificate(cert).length;

function seal(content: Uint8Array): Promise<Uint8Array> {
  return sealEnvelope(crypto, rng, { sender: alice, certificate: cert, recipient: bob.publicKey, contentType: 'ratchet', content });
}

test('the bucket list: 512 B doubling to 64 KiB, then 64 KiB steps up to MAX_SEALED_ENVELOPE_BYTES', () => {
  const buckets = sealedBuckets();
  assert.deepEqual(buckets.slice(0, 8), [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
  assert.equal(buckets[8], 2 * SEALED_BUCKET_STEP);
  assert.equal(buckets.at(-1), MAX_SEALED_ENVELOPE_BYTES);
  assert.equal(MAX_SEALED_ENVELOPE_BYTES % SEALED_BUCKET_STEP, 0, 'the largest bucket is a step multiple');
  assert.equal(buckets.length, 8 + (MAX_SEALED_ENVELOPE_BYTES - SEALED_BUCKET_DOUBLING_MAX) / SEALED_BUCKET_STEP);
  for (let i = 1; i < buckets.length; i++) assert.ok((buckets[i] ?? 0) > (buckets[i - 1] ?? 0), `increasing at ${i}`);
  const set = new Set(buckets);
  for (const b of buckets) {
    for (const n of [b - 1, b, b + 1]) assert.equal(isSealedBucket(n), set.has(n), `isSealedBucket(${n})`);
    assert.equal(sealedBucketFor(b), b, `sealedBucketFor(${b})`);
  }
  assert.equal(sealedBucketFor(0), SEALED_BUCKET_MIN);
  assert.throws(() => sealedBucketFor(MAX_SEALED_ENVELOPE_BYTES + 1), (e) => isProtocolError(e, 'ERR_WIRE_TOO_LARGE'));
});

test('property: sealedBucketFor(n) is the smallest bucket >= n', async () => {
  const buckets = sealedBuckets();
  await corpus.check(
    'sealed-bucket-smallest-fit',
    fc.integer({ min: 0, max: MAX_SEALED_ENVELOPE_BYTES }),
    (n) => {
      const b = sealedBucketFor(n);
      assert.ok(isSealedBucket(b) && b >= n, `bucket ${b} for ${n}`);
      const i = buckets.indexOf(b);
      assert.ok(i === 0 || (buckets[i - 1] ?? 0) < n, `a smaller bucket fits ${n}`);
    },
    { numRuns: 2000 },
  );
});

test('property: every sealed envelope is exactly the bucket its content needs, and opens', async () => {
  await corpus.check(
    'sealed-envelope-bucket-size',
    fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 200_000 })),
    async (len) => {
      const env = await seal(new Uint8Array(len).fill(0xa5));
      assert.ok(isSealedBucket(env.length), `envelope length ${env.length} is a bucket`);
      assert.equal(env.length, sealedBucketFor(FIXED + len), `content ${len}`);
      assert.equal((await openEnvelope(crypto, bob, env, NOW)).content.length, len);
    },
    { numRuns: 30 },
  );
});

test('content sizes on both sides of bucket edges', async () => {
  for (const bucket of [512, 1024, 2048, 65536, 2 * 65536]) {
    for (const [len, expected] of [
      [bucket - FIXED - 1, bucket],
      [bucket - FIXED, bucket], // the padding is the 0x80 byte alone
      [bucket - FIXED + 1, sealedBucketFor(bucket + 1)],
    ] as const) {
      const env = await seal(new Uint8Array(len).fill(7));
      assert.equal(env.length, expected, `content ${len} near bucket ${bucket}`);
      const opened = await openEnvelope(crypto, bob, env, NOW);
      assert.equal(opened.content.length, len, `content ${len} round trip`);
    }
  }
});

test('the largest bucket: the biggest content that fits seals to it, one byte more is refused', async () => {
  const fits = MAX_SEALED_ENVELOPE_BYTES - FIXED;
  const env = await seal(new Uint8Array(fits));
  assert.equal(env.length, MAX_SEALED_ENVELOPE_BYTES);
  assert.equal((await openEnvelope(crypto, bob, env, NOW)).content.length, fits);
  await assert.rejects(seal(new Uint8Array(fits + 1)), (e) => isProtocolError(e, 'ERR_WIRE_TOO_LARGE'));
});

test('property: ISO/IEC 7816-4 pad then unpad is the identity', async () => {
  await corpus.check(
    'sealed-padding-pad-unpad',
    fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 300 })),
    ([data, extra]) => {
      const padded = padIso7816(data, data.length + extra);
      assert.equal(padded.length, data.length + extra);
      assert.deepEqual(unpadIso7816(padded), data);
    },
    { numRuns: 500 },
  );
});

test('property: unpadding random bytes gives ERR_PADDING_INVALID or the one canonical reading', async () => {
  await corpus.check(
    'sealed-padding-unpad-random-bytes',
    fc.uint8Array({ maxLength: 64 }),
    (bytes) => {
      let data: Uint8Array;
      try {
        data = unpadIso7816(bytes);
      } catch (e) {
        assert.ok(isProtocolError(e, 'ERR_PADDING_INVALID'), `untyped error ${String(e)}`);
        return;
      }
      assert.deepEqual(padIso7816(data, bytes.length), bytes, 're-padding gives back the input');
    },
    { numRuns: 2000 },
  );
});

test('unpadding: the named malformed cases', () => {
  const bad: [string, number[]][] = [
    ['empty', []],
    ['all zeros', [0, 0, 0]],
    ['last non-zero byte is not 0x80', [1, 2, 0x81, 0]],
    ['no padding at all', [1, 2, 3]],
  ];
  for (const [name, bytes] of bad) {
    assert.throws(() => unpadIso7816(Uint8Array.from(bytes)), (e) => isProtocolError(e, 'ERR_PADDING_INVALID'), name);
  }
  assert.deepEqual(unpadIso7816(Uint8Array.of(0x80)), new Uint8Array(0), 'marker only');
  assert.deepEqual(unpadIso7816(Uint8Array.of(0x80, 0x80, 0)), Uint8Array.of(0x80), 'a 0x80 data byte before the marker');
});
