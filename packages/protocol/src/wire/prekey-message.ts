// PrekeyMessage: the initiator's PQXDH initial message (PQXDH rev 3 §3.3 "Alice then sends Bob an
// initial message containing…"; docs/protocol/04-pqxdh.md §4.6). Every message the initiator sends
// before it has received a reply is wrapped this way (docs/protocol/08-sessions.md §8.3), each with
// the same header and a new inner Double Ratchet message.
//
// | offset | size | field                                                      |
// |--------|------|------------------------------------------------------------|
// | 0      | 1    | WIRE_VERSION (0x01)                                        |
// | 1      | 1    | WireType.PrekeyMessage (0x02)                              |
// | 2      | 32   | IK_A: initiator identity key (Ed25519)                     |
// | 34     | 32   | EK_A: initiator ephemeral (base) key (X25519)              |
// | 66     | 4    | IdEC(SPK_B): signed prekey id (u32 BE)                     |
// | 70     | 1    | one-time prekey used: 0x00 or 0x01                         |
// | 71     | 0/4  | if used: IdEC(OPK_B) (u32 BE)                              |
// | …      | 4    | IdKEM(PQPK_B): KEM prekey id (u32 BE)                      |
// | …      | 1568 | CT: ML-KEM-1024 ciphertext                                 |
// | …      | 4    | length n of the inner message (u32 BE, 1 ≤ n ≤ MAX_MESSAGE_BYTES) |
// | …      | n    | inner Double Ratchet message (wire/ratchet-message.ts)     |
// The "header" is every byte before the inner-message length (1643 or 1647 bytes); the responder
// keeps SHA-256(header) to recognise later copies (docs/protocol/08 §8.4).
// Decoding checks syntax only; keys are validated by acceptPrekeyMessage.
import { ProtocolError } from '../errors.ts';
import { ED25519_PUBLIC_KEY_BYTES, MLKEM1024_CIPHERTEXT_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { MAX_MESSAGE_BYTES } from '../limits.ts';
import { WIRE_VERSION, WireType } from './version.ts';

/** The PQXDH fields of an initial message (everything but the inner ratchet message). */
export interface PrekeyHeader {
  readonly identityKey: Uint8Array;
  readonly baseKey: Uint8Array;
  readonly signedPrekeyId: number;
  readonly oneTimePrekeyId?: number | undefined;
  readonly kemPrekeyId: number;
  readonly kemCiphertext: Uint8Array;
}

export interface PrekeyMessage extends PrekeyHeader {
  /** The inner Double Ratchet message, encoded. */
  readonly message: Uint8Array;
}

function writeHeader(w: Writer, h: PrekeyHeader): Writer {
  const lens: readonly [string, Uint8Array, number][] = [
    ['identity key', h.identityKey, ED25519_PUBLIC_KEY_BYTES],
    ['base key', h.baseKey, X25519_KEY_BYTES],
    ['KEM ciphertext', h.kemCiphertext, MLKEM1024_CIPHERTEXT_BYTES],
  ];
  for (const [what, b, n] of lens) {
    if (b.length !== n) throw new ProtocolError('ERR_ARGUMENT', `prekey message ${what}: expected ${n} bytes, got ${b.length}`);
  }
  w.u8(WIRE_VERSION).u8(WireType.PrekeyMessage).bytes(h.identityKey).bytes(h.baseKey).u32(h.signedPrekeyId);
  if (h.oneTimePrekeyId === undefined) w.u8(0);
  else w.u8(1).u32(h.oneTimePrekeyId);
  return w.u32(h.kemPrekeyId).bytes(h.kemCiphertext);
}

/** The header bytes (see the table), e.g. for the responder's digest. */
export function encodePrekeyHeader(h: PrekeyHeader): Uint8Array {
  return writeHeader(new Writer(), h).finish();
}

export function encodePrekeyMessage(m: PrekeyMessage): Uint8Array {
  if (m.message.length < 1 || m.message.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `prekey message: inner message length ${m.message.length} outside [1, ${MAX_MESSAGE_BYTES}]`);
  }
  return writeHeader(new Writer(), m).vec32(m.message).finish();
}

/** Largest encoded prekey message: header with a one-time prekey id, length, inner message. */
export const MAX_PREKEY_MESSAGE_BYTES = 2 + 32 + 32 + 4 + 1 + 4 + 4 + MLKEM1024_CIPHERTEXT_BYTES + 4 + MAX_MESSAGE_BYTES;

function readHeader(r: Reader, what: string): PrekeyHeader {
  expectHeader(r, WireType.PrekeyMessage, what);
  const identityKey = r.bytes(ED25519_PUBLIC_KEY_BYTES);
  const baseKey = r.bytes(X25519_KEY_BYTES);
  const signedPrekeyId = r.u32();
  const oneTimePrekeyId = r.flag(`${what} one-time prekey flag`) ? r.u32() : undefined;
  const kemPrekeyId = r.u32();
  const kemCiphertext = r.bytes(MLKEM1024_CIPHERTEXT_BYTES);
  const base = { identityKey, baseKey, signedPrekeyId, kemPrekeyId, kemCiphertext };
  return oneTimePrekeyId === undefined ? base : { ...base, oneTimePrekeyId };
}

/** Inverse of `encodePrekeyHeader` (used by the session-state codec). */
export function decodePrekeyHeader(bytes: Uint8Array): PrekeyHeader {
  const r = new Reader(bytes, 'prekey header');
  const h = readHeader(r, 'prekey header');
  r.end();
  return h;
}

export function decodePrekeyMessage(bytes: Uint8Array): PrekeyMessage {
  const what = 'prekey message';
  if (bytes.length > MAX_PREKEY_MESSAGE_BYTES) {
    throw new ProtocolError('ERR_WIRE_TOO_LARGE', `${what}: at most ${MAX_PREKEY_MESSAGE_BYTES} bytes, got ${bytes.length}`);
  }
  const r = new Reader(bytes, what);
  const header = readHeader(r, what);
  const message = r.vec32(1, MAX_MESSAGE_BYTES);
  r.end();
  return { ...header, message };
}
