// Byte helpers shared by the protocol core. Nothing here is secret-dependent except
// `constantTimeEqual`, which must stay branch-free on the contents.
import { ProtocolError } from '../errors.ts';

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Overwrites a buffer with zeros. JavaScript may have copied it elsewhere; see README "Memory hygiene". */
export function wipe(...bufs: readonly Uint8Array[]): void {
  for (const b of bufs) b.fill(0);
}

const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is content, not a marker to drop, so decoding stays canonical (one string per byte string).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Strict UTF-8 decoding: invalid sequences are a typed error, never U+FFFD. */
export function fromUtf8(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new ProtocolError('ERR_WIRE_NON_CANONICAL', 'invalid UTF-8');
  }
}

const HEX = '0123456789abcdef';
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (HEX[x >> 4] ?? '') + (HEX[x & 15] ?? '');
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new ProtocolError('ERR_ARGUMENT', `expected an even-length hex string, got ${s.length} characters`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}
