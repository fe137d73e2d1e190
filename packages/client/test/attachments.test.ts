// Attachments (docs/protocol/10 §10.3): round trips at the padding boundaries, the padding rule
// itself, and ERR_ATTACHMENT_CORRUPT for every way a blob or its description can be wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fastProvider as crypto } from '@sotto/crypto';
import { corpusAt, seededRng } from '@sotto/test-support';
import { ATTACHMENT_AAD, ClientError, decryptAttachment, encryptAttachment, maxAttachmentFileBytes, paddedAttachmentSize, type ClientErrorCode } from '@sotto/client';

const rng = seededRng('client-attachments');
const corpus = corpusAt(new URL('corpus/', import.meta.url));

async function rejectsWith(p: Promise<unknown>, code: ClientErrorCode, label: string): Promise<void> {
  await assert.rejects(p, (e) => e instanceof ClientError && e.code === code, label);
}

test('padding: max(4096, ⌈1.05^k⌉), the smallest such size above the file and its marker', () => {
  assert.equal(paddedAttachmentSize(0), 4096);
  assert.equal(paddedAttachmentSize(4095), 4096);
  assert.equal(paddedAttachmentSize(4096), Math.ceil(1.05 ** 171)); // 1.05^170 ≈ 4041.7 < 4097 ≤ 1.05^171 ≈ 4243.8
  for (const n of [4096, 10_000, 123_456, 1_000_000, 32 * 1024 * 1024 - 100]) {
    const p = paddedAttachmentSize(n);
    assert.ok(p >= n + 1, `${n}: room for the 0x80 marker`);
    assert.ok(p <= Math.ceil((n + 1) * 1.05) + 1, `${n}: at most 5 % more`);
    const k = Math.round(Math.log(p) / Math.log(1.05));
    assert.equal(p, Math.ceil(1.05 ** k), `${n}: of the form ⌈1.05^k⌉`);
    assert.ok(Math.ceil(1.05 ** (k - 1)) < n + 1, `${n}: the smallest such size`);
  }
  assert.throws(() => paddedAttachmentSize(-1), (e) => e instanceof ClientError && e.code === 'ERR_ARGUMENT');
});

test('padding: never smaller for a larger file', async () => {
  await corpus.check('attachment-padding-monotonic', fc.tuple(fc.nat({ max: 40_000_000 }), fc.nat({ max: 40_000_000 })), ([a, b]) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    assert.ok(paddedAttachmentSize(lo) <= paddedAttachmentSize(hi));
  });
});

test('attachments: round trip at the padding boundaries; the blob is nonce || AES-256-GCM of the padded file', async () => {
  for (const n of [0, 1, 4094, 4095, 4096, 4097, 5000, 70_000]) {
    const file = rng(n);
    const enc = await encryptAttachment(crypto, rng, file);
    assert.equal(enc.size, n);
    assert.equal(enc.blob.length, 12 + paddedAttachmentSize(n) + 16, `${n}: blob length`);
    assert.deepEqual(enc.digest, crypto.sha256(enc.blob), `${n}: digest`);
    assert.deepEqual(await decryptAttachment(crypto, enc.blob, enc), file, `${n}: round trip`);
    // Independently: AES-256-GCM with the §10.3 associated data gives file || 0x80 || zeros.
    const padded = await crypto.aeadOpen('aes-256-gcm', enc.key, enc.blob.subarray(0, 12), enc.blob.subarray(12), ATTACHMENT_AAD);
    assert.ok(padded !== null, `${n}: opens under the §10.3 AAD`);
    assert.deepEqual(padded.subarray(0, n), file);
    assert.equal(padded[n], 0x80);
    assert.ok(padded.subarray(n + 1).every((x) => x === 0));
  }
});

test('attachments: every mismatch is ERR_ATTACHMENT_CORRUPT', async () => {
  const file = rng(1000);
  const enc = await encryptAttachment(crypto, rng, file);
  const flip = (b: Uint8Array, i: number): Uint8Array => {
    const out = b.slice();
    out[i] = (out[i] ?? 0) ^ 1;
    return out;
  };
  const withDigest = (blob: Uint8Array) => ({ ...enc, digest: crypto.sha256(blob) });
  // Tampered blob, the digest recomputed so the AEAD is what catches it.
  const tampered = flip(enc.blob, 100);
  await rejectsWith(decryptAttachment(crypto, tampered, withDigest(tampered)), 'ERR_ATTACHMENT_CORRUPT', 'tampered ciphertext');
  const badNonce = flip(enc.blob, 0);
  await rejectsWith(decryptAttachment(crypto, badNonce, withDigest(badNonce)), 'ERR_ATTACHMENT_CORRUPT', 'tampered nonce');
  // The blob as the server could change it, with the digest from the message.
  await rejectsWith(decryptAttachment(crypto, flip(enc.blob, 100), enc), 'ERR_ATTACHMENT_CORRUPT', 'tampered blob, wrong digest');
  const truncated = enc.blob.subarray(0, enc.blob.length - 1);
  await rejectsWith(decryptAttachment(crypto, truncated, enc), 'ERR_ATTACHMENT_CORRUPT', 'truncated');
  await rejectsWith(decryptAttachment(crypto, truncated, withDigest(truncated)), 'ERR_ATTACHMENT_CORRUPT', 'truncated, digest recomputed');
  await rejectsWith(decryptAttachment(crypto, Uint8Array.from([...enc.blob, 0]), enc), 'ERR_ATTACHMENT_CORRUPT', 'extended');
  await rejectsWith(decryptAttachment(crypto, new Uint8Array(0), withDigest(new Uint8Array(0))), 'ERR_ATTACHMENT_CORRUPT', 'empty');
  await rejectsWith(decryptAttachment(crypto, enc.blob, { ...enc, digest: flip(enc.digest, 31) }), 'ERR_ATTACHMENT_CORRUPT', 'wrong digest');
  await rejectsWith(decryptAttachment(crypto, enc.blob, { ...enc, key: flip(enc.key, 0) }), 'ERR_ATTACHMENT_CORRUPT', 'wrong key');
  await rejectsWith(decryptAttachment(crypto, enc.blob, { ...enc, size: 999 }), 'ERR_ATTACHMENT_CORRUPT', 'size too small');
  await rejectsWith(decryptAttachment(crypto, enc.blob, { ...enc, size: 1001 }), 'ERR_ATTACHMENT_CORRUPT', 'size too large');
  await rejectsWith(decryptAttachment(crypto, enc.blob, { ...enc, key: enc.key.subarray(0, 16) }), 'ERR_ATTACHMENT_CORRUPT', 'short key');
  // Another attachment's blob under this one's description.
  const other = await encryptAttachment(crypto, rng, file);
  await rejectsWith(decryptAttachment(crypto, other.blob, enc), 'ERR_ATTACHMENT_CORRUPT', "another blob, this description");
  // Bad padding under a valid key: a blob the sender built wrongly (no 0x80 marker, or non-zero tail).
  for (const [label, padded] of [
    ['no marker', new Uint8Array(4096).fill(0)],
    ['a non-zero byte after the marker', (() => { const p = new Uint8Array(4096); p[10] = 0x80; p[20] = 1; return p; })()],
    ['a marker other than 0x80', (() => { const p = new Uint8Array(4096); p[10] = 0x81; return p; })()],
  ] as const) {
    const key = rng(32);
    const nonce = rng(12);
    const blob = Uint8Array.from([...nonce, ...(await crypto.aeadSeal('aes-256-gcm', key, nonce, padded, ATTACHMENT_AAD))]);
    await rejectsWith(decryptAttachment(crypto, blob, { key, digest: crypto.sha256(blob), size: 10 }), 'ERR_ATTACHMENT_CORRUPT', label);
  }
  // And the untouched blob still opens.
  assert.deepEqual(await decryptAttachment(crypto, enc.blob, enc), file);
});

test('attachments: over the 32 MiB blob bound is ERR_ATTACHMENT_TOO_LARGE; the largest file fits', async () => {
  const max = maxAttachmentFileBytes();
  assert.ok(12 + paddedAttachmentSize(max) + 16 <= 32 * 1024 * 1024);
  assert.ok(12 + paddedAttachmentSize(max + 1) + 16 > 32 * 1024 * 1024);
  await rejectsWith(encryptAttachment(crypto, rng, new Uint8Array(max + 1)), 'ERR_ATTACHMENT_TOO_LARGE', 'one byte too many');
});
