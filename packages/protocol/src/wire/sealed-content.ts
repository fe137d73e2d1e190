// SealedContent (docs/protocol/06-sealed-envelope.md §6.4): the plaintext of a sealed envelope's
// inner layer before padding: who sends (the sender certificate), what kind of message follows, and
// the message itself (an encoded prekey or ratchet message, opaque to this layer).
//
// | offset | size | field                                                                    |
// |-------:|-----:|--------------------------------------------------------------------------|
// |      0 |    1 | WIRE_VERSION (0x01)                                                      |
// |      1 |    1 | WireType.SealedContent (0x0a)                                            |
// |      2 |    2 | m: certificate length, u16 BE, 113 ≤ m ≤ 176                              |
// |      4 |    m | sender certificate (wire/sender-certificate.ts)                          |
// |    4+m |    1 | content type: WireType.PrekeyMessage (0x02) or WireType.RatchetMessage (0x03) |
// |    5+m |    4 | c: content length, u32 BE, 1 ≤ c ≤ MAX_MESSAGE_BYTES                      |
// |    9+m |    c | content                                                                  |
import { ProtocolError } from '../errors.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { MAX_MESSAGE_BYTES } from '../limits.ts';
import { MAX_SENDER_CERTIFICATE_BYTES, SENDER_CERTIFICATE_FIXED_BYTES, decodeSenderCertificate, encodeSenderCertificate, type SenderCertificate } from './sender-certificate.ts';
import { WIRE_VERSION, WireType } from './version.ts';

/** The message kinds a sealed envelope carries (type bytes of the registry, docs/protocol.md §2.2). */
export type SealedContentType = typeof WireType.PrekeyMessage | typeof WireType.RatchetMessage;

export interface SealedContent {
  readonly certificate: SenderCertificate;
  readonly contentType: SealedContentType;
  readonly content: Uint8Array;
}

/** Bytes of a SealedContent besides the certificate and the content. */
export const SEALED_CONTENT_FIXED_BYTES = 2 + 2 + 1 + 4;

const WHAT = 'sealed content';
const MIN_CERTIFICATE_BYTES = SENDER_CERTIFICATE_FIXED_BYTES + 1;

export function isSealedContentType(t: number): t is SealedContentType {
  return t === WireType.PrekeyMessage || t === WireType.RatchetMessage;
}

export function encodeSealedContent(c: SealedContent): Uint8Array {
  if (!isSealedContentType(c.contentType)) throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: content type ${String(c.contentType)} is not a prekey or ratchet message`);
  if (c.content.length < 1 || c.content.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `${WHAT}: content expected 1..${MAX_MESSAGE_BYTES} bytes, got ${c.content.length}`);
  }
  return new Writer()
    .u8(WIRE_VERSION)
    .u8(WireType.SealedContent)
    .vec16(encodeSenderCertificate(c.certificate))
    .u8(c.contentType)
    .vec32(c.content)
    .finish();
}

export function decodeSealedContent(bytes: Uint8Array): SealedContent {
  const r = new Reader(bytes, WHAT);
  expectHeader(r, WireType.SealedContent, WHAT);
  const certificate = decodeSenderCertificate(r.vec16(MIN_CERTIFICATE_BYTES, MAX_SENDER_CERTIFICATE_BYTES));
  const contentType = r.u8();
  if (!isSealedContentType(contentType)) throw new ProtocolError('ERR_WIRE_UNKNOWN_TYPE', `${WHAT}: content type ${contentType} is not a prekey or ratchet message`);
  const content = r.vec32(1, MAX_MESSAGE_BYTES);
  r.end();
  return { certificate, contentType, content };
}
