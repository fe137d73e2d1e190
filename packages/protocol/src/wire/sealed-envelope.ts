// SealedEnvelope (docs/protocol/06-sealed-envelope.md §6.5): what the server stores and relays. It
// names no one: the recipient's address travels beside it in the delivery request, and the sender
// is inside the ciphertexts. Its length is always one of the bucket sizes (limits.ts, §6.7).
//
// | offset | size    | field                                                                    |
// |-------:|--------:|--------------------------------------------------------------------------|
// |      0 |       1 | WIRE_VERSION (0x01)                                                      |
// |      1 |       1 | WireType.SealedEnvelope (0x04)                                           |
// |      2 |      32 | outer enc: HPKE base-mode encapsulated key (X25519 ephemeral public key) |
// |     34 |      48 | outer ciphertext: the sender's Ed25519 identity key (32) + AEAD tag (16) |
// |     82 |      32 | inner enc: HPKE auth-mode encapsulated key                               |
// |    114 | L − 114 | inner ciphertext: padded SealedContent + AEAD tag (16)                   |
// L, the total length, is a bucket size: 512, 1024, ..., 65536, then multiples of 65536 up to
// MAX_SEALED_ENVELOPE_BYTES. Bytes 0..114 are the inner layer's associated data (§6.6).
import { ProtocolError } from '../errors.ts';
import { AEAD_TAG_BYTES, ED25519_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { MAX_SEALED_ENVELOPE_BYTES } from '../limits.ts';
import { isSealedBucket } from '../sealed/padding.ts';
import { WIRE_VERSION, WireType } from './version.ts';

export interface SealedEnvelope {
  readonly outerEnc: Uint8Array;
  readonly outerCiphertext: Uint8Array;
  readonly innerEnc: Uint8Array;
  readonly innerCiphertext: Uint8Array;
}

/** Size of the outer ciphertext: an Ed25519 public key and the tag. */
export const SEALED_OUTER_CIPHERTEXT_BYTES = ED25519_PUBLIC_KEY_BYTES + AEAD_TAG_BYTES;
/** Offset of the inner ciphertext: everything before it is the inner layer's associated data. */
export const SEALED_INNER_AAD_BYTES = 2 + X25519_KEY_BYTES + SEALED_OUTER_CIPHERTEXT_BYTES + X25519_KEY_BYTES;
/** Envelope bytes that are not the inner plaintext: header, both encs, outer ciphertext, inner tag (130). */
export const SEALED_ENVELOPE_OVERHEAD = SEALED_INNER_AAD_BYTES + AEAD_TAG_BYTES;

const WHAT = 'sealed envelope';

function checkLen(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: ${what} expected ${n} bytes, got ${b.length}`);
}

/** Encodes the envelope; its length must come out as a bucket size (the sealing code pads for that). */
export function encodeSealedEnvelope(e: SealedEnvelope): Uint8Array {
  checkLen('outer enc', e.outerEnc, X25519_KEY_BYTES);
  checkLen('outer ciphertext', e.outerCiphertext, SEALED_OUTER_CIPHERTEXT_BYTES);
  checkLen('inner enc', e.innerEnc, X25519_KEY_BYTES);
  const total = SEALED_INNER_AAD_BYTES + e.innerCiphertext.length;
  if (!isSealedBucket(total)) throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: length ${total} is not a bucket size`);
  return new Writer()
    .u8(WIRE_VERSION)
    .u8(WireType.SealedEnvelope)
    .bytes(e.outerEnc)
    .bytes(e.outerCiphertext)
    .bytes(e.innerEnc)
    .bytes(e.innerCiphertext)
    .finish();
}

/** Strict decoder: version, type, and a total length that is a bucket size (ERR_WIRE_BAD_LENGTH). */
export function decodeSealedEnvelope(bytes: Uint8Array): SealedEnvelope {
  if (bytes.length > MAX_SEALED_ENVELOPE_BYTES) {
    throw new ProtocolError('ERR_WIRE_TOO_LARGE', `${WHAT}: expected at most ${MAX_SEALED_ENVELOPE_BYTES} bytes, got ${bytes.length}`);
  }
  const r = new Reader(bytes, WHAT);
  expectHeader(r, WireType.SealedEnvelope, WHAT);
  if (!isSealedBucket(bytes.length)) throw new ProtocolError('ERR_WIRE_BAD_LENGTH', `${WHAT}: length ${bytes.length} is not a bucket size`);
  const outerEnc = r.bytes(X25519_KEY_BYTES);
  const outerCiphertext = r.bytes(SEALED_OUTER_CIPHERTEXT_BYTES);
  const innerEnc = r.bytes(X25519_KEY_BYTES);
  const innerCiphertext = r.rest();
  r.end();
  return { outerEnc, outerCiphertext, innerEnc, innerCiphertext };
}
