// Base64url without padding (RFC 4648 §5), as every binary field of the server API carries it
// (docs/protocol/09 §9.1). The decoder is canonical: only the 64 characters of the URL-safe alphabet,
// no padding, no whitespace, no length of the form 4k + 1, and the unused low bits of the last
// character zero — exactly the strings the encoder produces, so one byte string has one text form
// (a decoder that ignores those bits would accept four spellings of the same token).
import { ProtocolError } from '../errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** The length of the unpadded base64url text of n bytes. */
export function base64urlLength(n: number): number {
  const rem = n % 3;
  return Math.floor(n / 3) * 4 + (rem === 0 ? 0 : rem + 1);
}

/** Base64url text of `bytes`, without padding (RFC 4648 §5). */
export function encodeBase64url(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const full = bytes.length - (bytes.length % 3);
  for (let i = 0; i < full; i += 3) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    chunk += ALPHABET.charAt(v >>> 18) + ALPHABET.charAt((v >>> 12) & 63) + ALPHABET.charAt((v >>> 6) & 63) + ALPHABET.charAt(v & 63);
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  const rest = bytes.length - full;
  if (rest === 1) {
    const v = bytes[full] ?? 0;
    chunk += ALPHABET.charAt(v >>> 2) + ALPHABET.charAt((v & 3) << 4);
  } else if (rest === 2) {
    const v = ((bytes[full] ?? 0) << 8) | (bytes[full + 1] ?? 0);
    chunk += ALPHABET.charAt(v >>> 10) + ALPHABET.charAt((v >>> 4) & 63) + ALPHABET.charAt((v & 15) << 2);
  }
  parts.push(chunk);
  return parts.join('');
}

/** The decoded length a base64url field must have: exactly `length`, or between `min` and `max`. */
export type Base64urlBound = { readonly length: number } | { readonly min?: number; readonly max: number };

/**
 * Decodes canonical unpadded base64url; `what` names the field in errors. The length is checked on
 * the text before anything is decoded, so an oversized field costs nothing. ERR_API_DECODE otherwise.
 */
export function decodeBase64url(text: string, what: string, bound: Base64urlBound): Uint8Array {
  const fail = (message: string): never => {
    throw new ProtocolError('ERR_API_DECODE', `${what}: ${message}`);
  };
  if (typeof text !== 'string') fail('expected a base64url string');
  if ('length' in bound) {
    const expected = base64urlLength(bound.length);
    if (text.length !== expected) fail(`expected ${expected} base64url characters (${bound.length} bytes), got ${text.length}`);
  } else {
    const max = base64urlLength(bound.max);
    if (text.length > max) fail(`expected at most ${max} base64url characters (${bound.max} bytes), got ${text.length}`);
  }
  const rem = text.length % 4;
  if (rem === 1) fail(`expected a base64url length that is not 4k + 1, got ${text.length}`);
  const out = new Uint8Array(Math.floor(text.length / 4) * 3 + (rem === 0 ? 0 : rem - 1));
  const sextet = (i: number): number => {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (LOOKUP[c] ?? -1) : -1;
    if (v < 0) fail(`expected only base64url characters (A-Z a-z 0-9 - _, no padding), got another at position ${i}`);
    return v;
  };
  let o = 0;
  const full = text.length - rem;
  for (let i = 0; i < full; i += 4) {
    const v = (sextet(i) << 18) | (sextet(i + 1) << 12) | (sextet(i + 2) << 6) | sextet(i + 3);
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (rem === 2) {
    const a = sextet(full);
    const b = sextet(full + 1);
    if ((b & 15) !== 0) fail('expected canonical base64url (unused bits zero)');
    out[o] = (a << 2) | (b >>> 4);
  } else if (rem === 3) {
    const a = sextet(full);
    const b = sextet(full + 1);
    const c = sextet(full + 2);
    if ((c & 3) !== 0) fail('expected canonical base64url (unused bits zero)');
    out[o++] = (a << 2) | (b >>> 4);
    out[o] = ((b & 15) << 4) | (c >>> 2);
  }
  if (!('length' in bound) && out.length < (bound.min ?? 0)) fail(`expected at least ${bound.min ?? 0} bytes, got ${out.length}`);
  return out;
}
