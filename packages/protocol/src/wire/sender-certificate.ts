// SenderCertificate (docs/protocol/06-sealed-envelope.md §6.3): binds a sender's address (username,
// device id) to its identity key until an expiry, signed by that identity key. It travels inside the
// inner, sender-authenticated layer of a sealed envelope and is verified strictly on open.
//
// | offset | size | field                                                                   |
// |-------:|-----:|-------------------------------------------------------------------------|
// |      0 |    1 | WIRE_VERSION (0x01)                                                     |
// |      1 |    1 | WireType.SenderCertificate (0x09)                                       |
// |      2 |    2 | n: username length, u16 BE, 1 ≤ n ≤ MAX_USERNAME_BYTES (64)              |
// |      4 |    n | username, UTF-8 (strictly valid)                                        |
// |    4+n |    4 | device id, u32 BE                                                       |
// |    8+n |   32 | identity key, Ed25519 (RFC 8032 §5.1.5), a valid point of large order   |
// |   40+n |    8 | expires at: milliseconds since 1970-01-01T00:00:00Z, u64 BE, ≤ 2^53 − 1 |
// |   48+n |   64 | signature: Ed25519 by the identity key over                             |
// |        |      |   SENDER_CERTIFICATE_SIGNATURE_LABEL || bytes 0 .. 48+n of this encoding |
// Total 112 + n bytes.
import { ProtocolError } from '../errors.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/provider.ts';
import { concatBytes, fromUtf8, utf8 } from '../internal/bytes.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { IDENTITY_SIGNATURE_LABELS, parseIdentityPublicKey, type IdentityPublicKey } from '../keys/identity.ts';
import { MAX_USERNAME_BYTES } from '../limits.ts';
import { WIRE_VERSION, WireType } from './version.ts';

/** docs/protocol/06 §6.3: the signature's domain-separation prefix (ASCII, no terminator). */
export const SENDER_CERTIFICATE_SIGNATURE_LABEL = IDENTITY_SIGNATURE_LABELS.senderCertificate;

/** Fixed bytes of a certificate besides the username. */
export const SENDER_CERTIFICATE_FIXED_BYTES = 2 + 2 + 4 + ED25519_PUBLIC_KEY_BYTES + 8 + ED25519_SIGNATURE_BYTES;
/** Largest encoded certificate. */
export const MAX_SENDER_CERTIFICATE_BYTES = SENDER_CERTIFICATE_FIXED_BYTES + MAX_USERNAME_BYTES;

export interface SenderCertificate {
  readonly username: string;
  /** u32. */
  readonly deviceId: number;
  readonly identityKey: IdentityPublicKey;
  /** Milliseconds since the Unix epoch; the certificate is valid while now < expiresAt. */
  readonly expiresAt: number;
  readonly signature: Uint8Array;
}

export type UnsignedSenderCertificate = Omit<SenderCertificate, 'signature'>;

const WHAT = 'sender certificate';
const TWO_32 = 0x1_0000_0000;

function writeUnsigned(w: Writer, c: UnsignedSenderCertificate): Writer {
  const name = utf8(c.username);
  if (name.length < 1 || name.length > MAX_USERNAME_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: username expected 1..${MAX_USERNAME_BYTES} UTF-8 bytes, got ${name.length}`);
  }
  if (c.identityKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: identity key expected ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${c.identityKey.length}`);
  }
  if (!Number.isSafeInteger(c.expiresAt) || c.expiresAt < 0) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: expiresAt expected an integer in 0..2^53-1, got ${c.expiresAt}`);
  }
  return w
    .u8(WIRE_VERSION)
    .u8(WireType.SenderCertificate)
    .vec16(name)
    .u32(c.deviceId)
    .bytes(c.identityKey)
    .u32(Math.floor(c.expiresAt / TWO_32))
    .u32(c.expiresAt % TWO_32);
}

/** The exact bytes the identity key signs: label || encoding without the signature. */
export function senderCertificateSignedBytes(c: UnsignedSenderCertificate): Uint8Array {
  return concatBytes(SENDER_CERTIFICATE_SIGNATURE_LABEL, writeUnsigned(new Writer(), c).finish());
}

export function encodeSenderCertificate(c: SenderCertificate): Uint8Array {
  if (c.signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: signature expected ${ED25519_SIGNATURE_BYTES} bytes, got ${c.signature.length}`);
  }
  return writeUnsigned(new Writer(), c).bytes(c.signature).finish();
}

/** Strict decoder (syntax and key validity; the signature is checked by verifySenderCertificate). */
export function decodeSenderCertificate(bytes: Uint8Array): SenderCertificate {
  if (bytes.length > MAX_SENDER_CERTIFICATE_BYTES) {
    throw new ProtocolError('ERR_WIRE_TOO_LARGE', `${WHAT}: expected at most ${MAX_SENDER_CERTIFICATE_BYTES} bytes, got ${bytes.length}`);
  }
  const r = new Reader(bytes, WHAT);
  expectHeader(r, WireType.SenderCertificate, WHAT);
  const nameBytes = r.vec16(1, MAX_USERNAME_BYTES);
  // Strict UTF-8 that keeps every code point (a leading U+FEFF too), so the name re-encodes to the same
  // bytes. Which names are allowed at all (case folding, confusables) is the registration rule's job.
  const username = fromUtf8(nameBytes);
  const deviceId = r.u32();
  const identityKey = parseIdentityPublicKey(r.bytes(ED25519_PUBLIC_KEY_BYTES));
  const hi = r.u32();
  const lo = r.u32();
  // 2^53 - 1 is the largest millisecond count a JavaScript number holds exactly (year 287396).
  if (hi >= 0x20_0000) throw new ProtocolError('ERR_WIRE_NON_CANONICAL', `${WHAT}: expiry exceeds 2^53 - 1`);
  const expiresAt = hi * TWO_32 + lo;
  const signature = r.bytes(ED25519_SIGNATURE_BYTES);
  r.end();
  return { username, deviceId, identityKey, expiresAt, signature };
}
