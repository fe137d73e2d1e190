// The ZRTP key derivation function (RFC 6189 §4.5.1), as Sotto's calls use it (docs/protocol/11 §11.3):
//
//   KDF(KI, Label, Context, L) = HMAC-SHA-256(KI, u32(1) || Label || 0x00 || Context || u32(L))
//                                truncated to the leftmost L bits
//
// One HMAC invocation, so L is at most the hash length (256 bits). RFC 6189 fixes the counter i at 1
// ("0x000001" written as a 32-bit big-endian value) and L is the output length in bits, 32-bit big-endian.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { concatBytes, u32be, utf8 } from '../internal/bytes.ts';

/** RFC 6189 §4.5.1: the counter i, fixed at 1. */
const ZRTP_KDF_COUNTER = 1;
/** RFC 6189 §4.5.1: HMAC-SHA-256's output length, the most one KDF call yields. */
export const ZRTP_KDF_MAX_BITS = 256;

function isNonzeroAscii(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

/**
 * RFC 6189 §4.5.1 KDF over the provider's HMAC-SHA-256. `label` is ASCII with no zero octet ("a string
 * of nonzero octets"; the 0x00 after it is the delimiter); `bits` is a positive multiple of 8, at most 256.
 */
export function zrtpKdf(crypto: CryptoProvider, ki: Uint8Array, label: string, context: Uint8Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits <= 0 || bits % 8 !== 0 || bits > ZRTP_KDF_MAX_BITS) {
    throw new ProtocolError('ERR_ARGUMENT', `ZRTP KDF: expected a length in bits that is a multiple of 8 in 8..${ZRTP_KDF_MAX_BITS}, got ${bits}`);
  }
  if (!isNonzeroAscii(label)) throw new ProtocolError('ERR_ARGUMENT', 'ZRTP KDF: the label must be non-empty ASCII without a zero octet (RFC 6189 §4.5.1)');
  const mac = crypto.hmacSha256(
    ki,
    concatBytes(
      u32be(ZRTP_KDF_COUNTER), //   i
      utf8(label), //                Label
      Uint8Array.of(0x00), //        0x00 delimiter
      context, //                    Context
      u32be(bits), //                L
    ),
  );
  if (bits === ZRTP_KDF_MAX_BITS) return mac;
  const out = mac.slice(0, bits / 8); // "truncated to the leftmost L bits"
  mac.fill(0);
  return out;
}
