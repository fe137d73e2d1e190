// Base64url without padding (RFC 4648 §5), as every binary field of the server API carries it
// (docs/protocol/09 §9.1). The decoder is canonical: only the 64 characters of the URL-safe alphabet,
// no padding, no whitespace, no length of the form 4k + 1, and the unused low bits of the last
// character zero — exactly the strings the encoder produces, so one byte string has one text form
// (a decoder that ignores those bits would accept four spellings of the same token).
import { ProtocolError } from '../errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Character code → sextet, -1 for every code that is not in the alphabet (RFC 4648 §5, Table 2). */
const LOOKUP = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
/** Sextet → the alphabet's character code. */
const CODES = new Uint8Array(64);
for (let i = 0; i < ALPHABET.length; i++) CODES[i] = ALPHABET.charCodeAt(i);
/** The encoder writes ASCII codes into a byte array and turns them into text in one native call
 *  (every code is ASCII, so UTF-8 decoding is the identity), instead of one concatenation per
 *  character. */
const ascii = new TextDecoder();

/** Turns text that decodeBase64url has already checked — canonical base64url: alphabet, length and
 *  unused bits — into its bytes (a fresh array of exactly that length). */
export type Base64urlBytes = (text: string) => Uint8Array;

/** The host's native decoder, if one was installed (installBase64urlDecoder). */
let hostDecoder: Base64urlBytes | undefined;
/** From this many characters on, an installed host decoder is used: below it, the call into the
 *  host costs more than the loop here (an id, an access key). */
const HOST_DECODER_MIN_LENGTH = 64;
/** The whole text in the alphabet: the check that lets a host decoder see only canonical text. */
const ALPHABET_ONLY = /^[A-Za-z0-9_-]*$/;

/**
 * Lets decodeBase64url hand long fields to a native decoder of the host (the server installs Node's
 * Buffer; the protocol core itself uses no host API beyond internal/host.d.ts). Every check stays
 * here — length, alphabet (one regular expression), unused bits — so the decoder only ever sees
 * canonical text, and a lenient decoder cannot widen what is accepted; the bytes are the same
 * (property-tested). `undefined` goes back to the portable loop.
 */
export function installBase64urlDecoder(decoder: Base64urlBytes | undefined): void {
  hostDecoder = decoder;
}

/** The length of the unpadded base64url text of n bytes. */
export function base64urlLength(n: number): number {
  const rem = n % 3;
  return Math.floor(n / 3) * 4 + (rem === 0 ? 0 : rem + 1);
}

/** Base64url text of `bytes`, without padding (RFC 4648 §5). */
export function encodeBase64url(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(base64urlLength(n));
  const full = n - (n % 3);
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out[o] = CODES[v >>> 18] ?? 0;
    out[o + 1] = CODES[(v >>> 12) & 63] ?? 0;
    out[o + 2] = CODES[(v >>> 6) & 63] ?? 0;
    out[o + 3] = CODES[v & 63] ?? 0;
    o += 4;
  }
  const rest = n - full;
  if (rest === 1) {
    const v = bytes[full] ?? 0;
    out[o] = CODES[v >>> 2] ?? 0;
    out[o + 1] = CODES[(v & 3) << 4] ?? 0;
  } else if (rest === 2) {
    const v = ((bytes[full] ?? 0) << 8) | (bytes[full + 1] ?? 0);
    out[o] = CODES[v >>> 10] ?? 0;
    out[o + 1] = CODES[(v >>> 4) & 63] ?? 0;
    out[o + 2] = CODES[(v & 15) << 2] ?? 0;
  }
  return ascii.decode(out);
}

/** The decoded length a base64url field must have: exactly `length`, or between `min` and `max`. */
export type Base64urlBound = { readonly length: number } | { readonly min?: number; readonly max: number };

function decodeFail(what: string, message: string): never {
  throw new ProtocolError('ERR_API_DECODE', `${what}: ${message}`);
}

/** The sextet of the character at `i`, or -1 when it is not one of the alphabet's. */
function sextetAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? (LOOKUP[c] ?? -1) : -1;
}

/** The error for the first character at or after `from` that is not in the alphabet. */
function badCharacter(text: string, what: string, from: number): never {
  let i = from;
  while (i < text.length && sextetAt(text, i) >= 0) i++;
  return decodeFail(what, `expected only base64url characters (A-Z a-z 0-9 - _, no padding), got another at position ${i}`);
}

/**
 * Decodes canonical unpadded base64url; `what` names the field in errors. The length is checked on
 * the text before anything is decoded, so an oversized field costs nothing. ERR_API_DECODE otherwise.
 */
export function decodeBase64url(text: string, what: string, bound: Base64urlBound): Uint8Array {
  if (typeof text !== 'string') decodeFail(what, 'expected a base64url string');
  const length = text.length;
  if ('length' in bound) {
    const expected = base64urlLength(bound.length);
    if (length !== expected) decodeFail(what, `expected ${expected} base64url characters (${bound.length} bytes), got ${length}`);
  } else {
    const max = base64urlLength(bound.max);
    if (length > max) decodeFail(what, `expected at most ${max} base64url characters (${bound.max} bytes), got ${length}`);
  }
  const rem = length % 4;
  if (rem === 1) decodeFail(what, `expected a base64url length that is not 4k + 1, got ${length}`);
  const decodedLength = Math.floor(length / 4) * 3 + (rem === 0 ? 0 : rem - 1);
  if (hostDecoder !== undefined && length >= HOST_DECODER_MIN_LENGTH && ALPHABET_ONLY.test(text)) {
    // The unused low bits of the last character must be zero (canonical text); its sextet is known
    // to be valid, since the whole text is in the alphabet.
    const last = sextetAt(text, length - 1);
    if ((rem === 2 && (last & 15) !== 0) || (rem === 3 && (last & 3) !== 0)) decodeFail(what, 'expected canonical base64url (unused bits zero)');
    const bytes = hostDecoder(text);
    if (bytes.length !== decodedLength) decodeFail(what, `the host decoder gave ${bytes.length} bytes, expected ${decodedLength}`);
    if (!('length' in bound) && bytes.length < (bound.min ?? 0)) decodeFail(what, `expected at least ${bound.min ?? 0} bytes, got ${bytes.length}`);
    return bytes;
  }
  const out = new Uint8Array(decodedLength);
  let o = 0;
  const full = length - rem;
  for (let i = 0; i < full; i += 4) {
    const a = sextetAt(text, i);
    const b = sextetAt(text, i + 1);
    const c = sextetAt(text, i + 2);
    const d = sextetAt(text, i + 3);
    // Any -1 makes the OR negative: one test for the four characters.
    if ((a | b | c | d) < 0) badCharacter(text, what, i);
    out[o] = (a << 2) | (b >>> 4);
    out[o + 1] = ((b & 15) << 4) | (c >>> 2);
    out[o + 2] = ((c & 3) << 6) | d;
    o += 3;
  }
  if (rem === 2) {
    const a = sextetAt(text, full);
    const b = sextetAt(text, full + 1);
    if ((a | b) < 0) badCharacter(text, what, full);
    if ((b & 15) !== 0) decodeFail(what, 'expected canonical base64url (unused bits zero)');
    out[o] = (a << 2) | (b >>> 4);
  } else if (rem === 3) {
    const a = sextetAt(text, full);
    const b = sextetAt(text, full + 1);
    const c = sextetAt(text, full + 2);
    if ((a | b | c) < 0) badCharacter(text, what, full);
    if ((c & 3) !== 0) decodeFail(what, 'expected canonical base64url (unused bits zero)');
    out[o] = (a << 2) | (b >>> 4);
    out[o + 1] = ((b & 15) << 4) | (c >>> 2);
  }
  if (!('length' in bound) && out.length < (bound.min ?? 0)) decodeFail(what, `expected at least ${bound.min ?? 0} bytes, got ${out.length}`);
  return out;
}
