// The SFrame header codec (RFC 9605 §4.3; docs/protocol/11 §11.5).
//
//    0 1 2 3 4 5 6 7
//   +-+-+-+-+-+-+-+-+------------+------------+
//   |X|  K  |Y|  C  |   KID...   |   CTR...   |
//   +-+-+-+-+-+-+-+-+------------+------------+
//
// | field | bits | meaning (RFC 9605 §4.3) |
// |---|---|---|
// | X | 7 | 0: K holds the KID (0–7); 1: K holds the KID's byte length minus one |
// | K | 6–4 | the KID, or its length − 1 |
// | Y | 3 | 0: C holds the CTR (0–7); 1: C holds the CTR's byte length minus one |
// | C | 2–0 | the CTR, or its length − 1 |
// | KID… | 0 or 1–8 bytes | big-endian, present when X = 1 |
// | CTR… | 0 or 1–8 bytes | big-endian, present when Y = 1, after the KID |
//
// The header is a prefix: the ciphertext follows it, so the decoder reports how many bytes it read
// and never complains about what comes after. It is strict (docs §11.5): a value is accepted only in
// its one minimal form — a KID or CTR below 8 must sit in the config byte, and an extended value must
// use the fewest bytes (so ≥ 8 and no leading zero byte). The RFC says a sender MUST encode minimally;
// stricter than the RFC's receiver, we refuse anything else, so each (KID, CTR) has one header and a
// header has one meaning.
import { ProtocolError } from '../errors.ts';

/** Largest KID or CTR: both are at most 64 bits (RFC 9605 §4.3: a 3-bit length field for 1–8 bytes). */
export const SFRAME_MAX_VALUE = 0xffff_ffff_ffff_ffffn;
/** Values below this are carried in the config byte itself (RFC 9605 §4.3: "in the range 0-7"). */
const SFRAME_INLINE_LIMIT = 8n;
/** Longest header: the config byte plus 8 bytes of KID and 8 of CTR (RFC 9605 §4.3). */
export const SFRAME_MAX_HEADER_BYTES = 17;

function malformed(message: string): ProtocolError {
  return new ProtocolError('ERR_SFRAME_MALFORMED', `SFrame header: ${message}`);
}

function checkValue(name: string, v: bigint): void {
  if (v < 0n || v > SFRAME_MAX_VALUE) {
    throw new ProtocolError('ERR_ARGUMENT', `SFrame ${name}: expected an integer in 0..2^64-1, got one outside it`);
  }
}

/** Bytes needed to write `v` (≥ 8) big-endian without leading zeros: 1..8 (RFC 9605 §4.3). */
function byteLength(v: bigint): number {
  let n = 0;
  for (let x = v; x > 0n; x >>= 8n) n++;
  return n;
}

function writeBigEndian(out: Uint8Array, offset: number, v: bigint, length: number): void {
  let x = v;
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** RFC 9605 §4.3: the minimal header for (KID, CTR). Both in 0..2^64−1, else ERR_ARGUMENT. */
export function encodeSframeHeader(kid: bigint, ctr: bigint): Uint8Array {
  checkValue('KID', kid);
  checkValue('CTR', ctr);
  const kidLen = kid < SFRAME_INLINE_LIMIT ? 0 : byteLength(kid);
  const ctrLen = ctr < SFRAME_INLINE_LIMIT ? 0 : byteLength(ctr);
  const out = new Uint8Array(1 + kidLen + ctrLen);
  // X | K: the KID itself (X = 0) or 0x80 | (length − 1) (X = 1)
  const k = kidLen === 0 ? Number(kid) << 4 : 0x80 | ((kidLen - 1) << 4);
  // Y | C: the CTR itself (Y = 0) or 0x08 | (length − 1) (Y = 1)
  const c = ctrLen === 0 ? Number(ctr) : 0x08 | (ctrLen - 1);
  out[0] = k | c;
  writeBigEndian(out, 1, kid, kidLen); // KID first, then CTR (RFC 9605 §4.3)
  writeBigEndian(out, 1 + kidLen, ctr, ctrLen);
  return out;
}

/** Reads one extended value of `length` bytes at `offset`, refusing non-minimal forms. */
function readExtended(bytes: Uint8Array, offset: number, length: number, name: string): bigint {
  if (bytes.length < offset + length) {
    throw malformed(`expected ${length} ${name} byte(s) after offset ${offset}, got ${Math.max(0, bytes.length - offset)}`);
  }
  let v = 0n;
  for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  // Minimal encoding (RFC 9605 §4.3 "MUST be encoded with the minimum number of bytes"): an extended
  // value is ≥ 8 (else it belongs in the config byte) and has no leading zero byte.
  if (v < SFRAME_INLINE_LIMIT) throw malformed(`${name} ${v} is written in extended form; values below 8 go in the config byte`);
  if (length > 1 && bytes[offset] === 0) throw malformed(`${name} is written in ${length} bytes with a leading zero byte`);
  return v;
}

/**
 * RFC 9605 §4.3, strict: decodes the header at the start of `bytes` (the ciphertext follows it).
 * Throws ERR_SFRAME_MALFORMED for an empty or truncated input or a non-minimal encoding.
 */
export function decodeSframeHeader(bytes: Uint8Array): { kid: bigint; ctr: bigint; headerLength: number } {
  const config = bytes[0];
  if (config === undefined) throw malformed('expected a config byte, got no bytes');
  const x = (config & 0x80) !== 0; // RFC 9605 §4.3 X
  const k = (config >> 4) & 0x07; // K
  const y = (config & 0x08) !== 0; // Y
  const c = config & 0x07; // C
  let offset = 1;
  let kid = BigInt(k);
  if (x) {
    kid = readExtended(bytes, offset, k + 1, 'KID');
    offset += k + 1;
  }
  let ctr = BigInt(c);
  if (y) {
    ctr = readExtended(bytes, offset, c + 1, 'CTR');
    offset += c + 1;
  }
  return { kid, ctr, headerLength: offset };
}
