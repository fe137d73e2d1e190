// Size buckets and padding for sealed envelopes (docs/protocol/06-sealed-envelope.md §6.7).
// Padding is ISO/IEC 7816-4 (one 0x80 byte, then zero bytes), placed inside the inner HPKE
// plaintext so it is authenticated: only a holder of the sender's identity key can produce a
// padding that reaches the unpadding check, and there is no padding oracle for anyone else.
import { ProtocolError } from '../errors.ts';
import { MAX_SEALED_ENVELOPE_BYTES, SEALED_BUCKET_DOUBLING_MAX, SEALED_BUCKET_MIN, SEALED_BUCKET_STEP } from '../limits.ts';

/** ISO/IEC 7816-4 §5.2.3 padding indicator: the first padding byte. */
export const ISO7816_PAD_MARKER = 0x80;

/** The smallest bucket size >= length (docs/protocol/06 §6.7); ERR_WIRE_TOO_LARGE past the largest. */
export function sealedBucketFor(length: number): number {
  if (!Number.isInteger(length) || length < 0) throw new ProtocolError('ERR_ARGUMENT', `length: expected a non-negative integer, got ${length}`);
  if (length > MAX_SEALED_ENVELOPE_BYTES) {
    throw new ProtocolError('ERR_WIRE_TOO_LARGE', `sealed envelope: ${length} bytes needed, largest bucket is ${MAX_SEALED_ENVELOPE_BYTES}`);
  }
  if (length <= SEALED_BUCKET_DOUBLING_MAX) {
    let b = SEALED_BUCKET_MIN;
    while (b < length) b *= 2;
    return b;
  }
  return Math.ceil(length / SEALED_BUCKET_STEP) * SEALED_BUCKET_STEP;
}

/** True when `length` is one of the bucket sizes. */
export function isSealedBucket(length: number): boolean {
  if (!Number.isInteger(length) || length < SEALED_BUCKET_MIN || length > MAX_SEALED_ENVELOPE_BYTES) return false;
  if (length <= SEALED_BUCKET_DOUBLING_MAX) return (length & (length - 1)) === 0; // a power of two >= 512
  return length % SEALED_BUCKET_STEP === 0;
}

/** Every bucket size in increasing order (for tests and documentation). */
export function sealedBuckets(): number[] {
  const out: number[] = [];
  for (let b = SEALED_BUCKET_MIN; b <= SEALED_BUCKET_DOUBLING_MAX; b *= 2) out.push(b);
  for (let b = SEALED_BUCKET_DOUBLING_MAX + SEALED_BUCKET_STEP; b <= MAX_SEALED_ENVELOPE_BYTES; b += SEALED_BUCKET_STEP) out.push(b);
  return out;
}

/** data || 0x80 || 0x00 ... to exactly `paddedLength` bytes (ISO/IEC 7816-4); needs paddedLength > data.length. */
export function padIso7816(data: Uint8Array, paddedLength: number): Uint8Array {
  if (!Number.isInteger(paddedLength) || paddedLength <= data.length) {
    throw new ProtocolError('ERR_ARGUMENT', `padding: target ${paddedLength} must exceed the data length ${data.length}`);
  }
  const out = new Uint8Array(paddedLength);
  out.set(data, 0);
  out[data.length] = ISO7816_PAD_MARKER;
  return out;
}

/**
 * Removes ISO/IEC 7816-4 padding: the data is everything before the last non-zero byte, which must
 * be 0x80. Anything else (no non-zero byte, or a last non-zero byte other than 0x80) is
 * ERR_PADDING_INVALID. The scan touches every byte and does not branch on their values, so its
 * running time depends on the padded length only (best effort in JavaScript).
 */
export function unpadIso7816(padded: Uint8Array): Uint8Array {
  let found = 0; // 1 once the last non-zero byte has been seen (scanning from the end)
  let index = 0; // its position
  let markerOk = 0; // 1 when that byte is 0x80
  for (let i = padded.length - 1; i >= 0; i--) {
    const b = padded[i] ?? 0;
    const nonZero = ((b | -b) >>> 31) & 1; // 1 iff b != 0 (b in 0..255)
    const take = nonZero & (found ^ 1); // first non-zero byte from the end
    const mask = -take; // all ones iff take
    index = (index & ~mask) | (i & mask);
    const isMarker = (((b ^ ISO7816_PAD_MARKER) - 1) >>> 31) & 1; // 1 iff b == 0x80
    markerOk |= take & isMarker;
    found |= nonZero;
  }
  if ((found & markerOk) !== 1) throw new ProtocolError('ERR_PADDING_INVALID', 'padding: expected 0x80 followed only by zero bytes');
  return padded.slice(0, index);
}
