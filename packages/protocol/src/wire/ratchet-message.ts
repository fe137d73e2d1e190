// The Double Ratchet message (docs/protocol/05-double-ratchet.md §5.7): HEADER(dh_pair, pn, n) of
// "The Double Ratchet Algorithm" rev 1 (Signal, 2016-11-20) §3.1, followed by the AEAD output of §3.4.
//
// | offset | bytes | field                                                                  |
// |-------:|------:|------------------------------------------------------------------------|
// |      0 |     1 | WIRE_VERSION (0x01)                                                    |
// |      1 |     1 | WireType.RatchetMessage (0x03)                                         |
// |      2 |    32 | dh: sender's ratchet public key, X25519 u-coordinate (RFC 7748 §5), canonical |
// |     34 |     4 | pn: previous sending chain length, u32 big-endian                      |
// |     38 |     4 | n: message number in the current sending chain, u32 big-endian         |
// |     42 | c + 16| AES-256-GCM ciphertext (c = plaintext length) || 16-byte tag          |
//
// Bytes 0..42 are "the header": they are authenticated as the tail of the AEAD associated data
// (spec §3.4 CONCAT(AD, header)), so a header is never trusted before the AEAD opens. Overhead over
// the plaintext: 42 + 16 = 58 bytes. No length field is needed: the header is fixed-size and the
// AEAD output runs to the end of the message.
import { ProtocolError } from '../errors.ts';
import { AEAD_TAG_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, expectHeader } from '../internal/codec.ts';
import { MAX_MESSAGE_BYTES } from '../limits.ts';
import { WIRE_VERSION, WireType } from './version.ts';

export interface RatchetMessage {
  /** Sender's current ratchet public key (spec §3.2 DHs.public; the receiver's DHr). */
  readonly ratchetKey: Uint8Array;
  /** PN: number of messages in the sender's previous sending chain. */
  readonly previousCounter: number;
  /** N: this message's number in the sender's current sending chain. */
  readonly counter: number;
  /** AEAD ciphertext || tag. */
  readonly ciphertext: Uint8Array;
}

/** Length of the header, bytes 0..42 above. */
export const RATCHET_HEADER_BYTES = 2 + X25519_KEY_BYTES + 4 + 4;
/** Smallest valid message: a header and the tag of an empty plaintext. */
export const RATCHET_MESSAGE_MIN_BYTES = RATCHET_HEADER_BYTES + AEAD_TAG_BYTES;

const WHAT = 'ratchet message';

/** True when 32 bytes are the canonical encoding of an X25519 u-coordinate: u < 2^255 - 19
 *  (which also means the unused top bit is clear). Keys from RFC 7748 §5 are always canonical. */
export function isCanonicalX25519(u: Uint8Array): boolean {
  if (u.length !== X25519_KEY_BYTES) return false;
  const top = u[31] ?? 0;
  if (top < 0x7f) return true;
  if (top > 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (u[i] !== 0xff) return true;
  return (u[0] ?? 0) < 0xed;
}

function checkCounter(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ProtocolError('ERR_ARGUMENT', `${what}: expected a u32, got ${v}`);
}

/** HEADER(dh_pair, pn, n) of spec §3.1 as the 42 bytes above. */
export function encodeRatchetHeader(ratchetKey: Uint8Array, previousCounter: number, counter: number): Uint8Array {
  const out = new Uint8Array(RATCHET_HEADER_BYTES);
  writeRatchetHeader(out, 0, ratchetKey, previousCounter, counter);
  return out;
}

/** Writes the header into `target` at `offset` without allocating (the encrypt path builds the
 *  AEAD associated data AD || header in one buffer). Arguments as for encodeRatchetHeader. */
export function writeRatchetHeader(target: Uint8Array, offset: number, ratchetKey: Uint8Array, previousCounter: number, counter: number): void {
  if (!isCanonicalX25519(ratchetKey)) throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: ratchet key must be a canonical ${X25519_KEY_BYTES}-byte X25519 key`);
  checkCounter(`${WHAT} pn`, previousCounter);
  checkCounter(`${WHAT} n`, counter);
  target[offset] = WIRE_VERSION;
  target[offset + 1] = WireType.RatchetMessage;
  target.set(ratchetKey, offset + 2);
  const dv = new DataView(target.buffer, target.byteOffset, target.byteLength);
  dv.setUint32(offset + 2 + X25519_KEY_BYTES, previousCounter, false);
  dv.setUint32(offset + 6 + X25519_KEY_BYTES, counter, false);
}

export function encodeRatchetMessage(m: RatchetMessage): Uint8Array {
  if (m.ciphertext.length < AEAD_TAG_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: ciphertext must hold at least the ${AEAD_TAG_BYTES}-byte tag, got ${m.ciphertext.length} bytes`);
  }
  if (RATCHET_HEADER_BYTES + m.ciphertext.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('ERR_WIRE_TOO_LARGE', `${WHAT}: expected at most ${MAX_MESSAGE_BYTES} bytes, got ${RATCHET_HEADER_BYTES + m.ciphertext.length}`);
  }
  const header = encodeRatchetHeader(m.ratchetKey, m.previousCounter, m.counter);
  const out = new Uint8Array(RATCHET_HEADER_BYTES + m.ciphertext.length);
  out.set(header, 0);
  out.set(m.ciphertext, RATCHET_HEADER_BYTES);
  return out;
}

/** Strict decoder. The ciphertext is a view into `bytes` (not copied); the ratchet key is a copy. */
export function decodeRatchetMessage(bytes: Uint8Array): RatchetMessage {
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('ERR_WIRE_TOO_LARGE', `${WHAT}: expected at most ${MAX_MESSAGE_BYTES} bytes, got ${bytes.length}`);
  }
  const r = new Reader(bytes, WHAT);
  expectHeader(r, WireType.RatchetMessage, WHAT);
  const ratchetKey = r.bytes(X25519_KEY_BYTES);
  if (!isCanonicalX25519(ratchetKey)) {
    throw new ProtocolError('ERR_WIRE_NON_CANONICAL', `${WHAT}: ratchet key is not a canonical X25519 u-coordinate (u < 2^255 - 19)`);
  }
  const previousCounter = r.u32();
  const counter = r.u32();
  if (r.remaining < AEAD_TAG_BYTES) {
    throw new ProtocolError('ERR_WIRE_TRUNCATED', `${WHAT}: expected at least ${AEAD_TAG_BYTES} bytes of AEAD output, got ${r.remaining}`);
  }
  // The AEAD output runs to the end: a view, so a large message is not copied before it is opened.
  return { ratchetKey, previousCounter, counter, ciphertext: bytes.subarray(RATCHET_HEADER_BYTES) };
}
