// Rendering the short authentication string (docs/protocol/11 §11.4; RFC 6189 §5.1.6, SAS Type Block).
// `sasvalue` is the leftmost 32 bits of sashash (RFC 6189 §4.5.2; derived in call-key-agreement.ts) and
// is shown two ways, identical on both sides:
//   - B256: the leftmost 16 bits as two PGP words, EVEN[sasvalue[0]] then ODD[sasvalue[1]] (the byte at
//     offset 0 takes the even list, the byte at offset 1 the odd list, as libzrtp and ZRTPCPP do);
//   - B32: the leftmost 20 bits as four z-base-32 characters, most significant quintet first (the RFC's
//     base32() pseudocode: shifts 27, 22, 17, 12 of the big-endian 32-bit value).
import { ProtocolError } from '../errors.ts';
import { PGP_WORDS_EVEN, PGP_WORDS_ODD } from './pgp-words.ts';

/** RFC 6189 §4.5.2: sasvalue is sashash truncated to its leftmost 32 bits. */
export const SAS_VALUE_BYTES = 4;

/** RFC 6189 §5.1.6: the z-base-32 alphabet (Bryce Wilcox-O'Hearn) of SAS type "B32 ". */
export const ZBASE32_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** A SAS as the two people compare it (docs/protocol/11 §11.4). */
export interface Sas {
  /** sasvalue, 4 bytes. */
  readonly value: Uint8Array;
  /** B256: the even-list word of byte 0, then the odd-list word of byte 1. */
  readonly words: readonly [string, string];
  /** B32: four z-base-32 characters of the leftmost 20 bits. */
  readonly base32: string;
}

/** RFC 6189 §5.1.6 base32(): the leftmost 20 bits of a 32-bit value, four characters. */
function base32Of(bits: number): string {
  let out = '';
  for (let i = 0, shift = 27; i !== 4; ++i, shift -= 5) {
    out += ZBASE32_ALPHABET[(bits >>> shift) & 31] ?? ''; // n = (bits >> shift) & 31; result[i] = alphabet[n]
  }
  return out;
}

/** Renders a 4-byte sasvalue (docs/protocol/11 §11.4). ERR_ARGUMENT for any other length. */
export function renderSas(value: Uint8Array): Sas {
  if (value.length !== SAS_VALUE_BYTES) throw new ProtocolError('ERR_ARGUMENT', `SAS value: expected ${SAS_VALUE_BYTES} bytes, got ${value.length}`);
  const v = value.slice();
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = v;
  const even = PGP_WORDS_EVEN[b0];
  const odd = PGP_WORDS_ODD[b1];
  if (even === undefined || odd === undefined) throw new ProtocolError('ERR_ARGUMENT', 'SAS value: word list incomplete'); // unreachable: 256 words each
  const bits = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0; // network byte order
  return Object.freeze({ value: v, words: Object.freeze([even, odd] as const), base32: base32Of(bits) });
}
