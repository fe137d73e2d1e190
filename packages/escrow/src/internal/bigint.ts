// Modular arithmetic and big-endian integer <-> octet-string conversions over native bigint, shared by the
// ECCSI (RFC 6507) and SAKKE (RFC 6508) code in this package.
//
// NOT constant-time, deliberately: @sotto/escrow is the key-escrow counter-example the scorecard attacks and
// never protects anything, so readability (arithmetic that can be diffed against the RFC text) wins over
// side-channel resistance. Do not copy these helpers into code that handles real secrets.
//
// Owned by the ECCSI engineer; the SAKKE engineer may import but not edit (add own helpers in own files).
import { EscrowError } from '../errors.ts';

/** Non-negative residue of `a` modulo `m` (JS `%` keeps the sign of the dividend). Requires m > 0. */
export function mod(a: bigint, m: bigint): bigint {
  if (m <= 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', `modulus must be positive, got ${m < 0n ? 'negative' : 'zero'}`);
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** base^exp mod m by left-to-right square-and-multiply. Requires exp >= 0 and m > 0; modPow(x, 0, 1) = 0. */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (exp < 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'exponent must be non-negative, got a negative value');
  if (m === 1n) return 0n;
  const b = mod(base, m);
  let result = 1n;
  for (let i = bitLength(exp) - 1; i >= 0; i--) {
    result = (result * result) % m;
    if ((exp >> BigInt(i)) & 1n) result = (result * b) % m;
  }
  return result;
}

/**
 * Multiplicative inverse of `a` modulo `m` by the extended Euclidean algorithm.
 * Throws ERR_ESCROW_ARGUMENT when gcd(a, m) != 1 (in particular when a ≡ 0), never returns a non-inverse.
 */
export function modInv(a: bigint, m: bigint): bigint {
  let r0 = m;
  let r1 = mod(a, m);
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'value has no inverse modulo m (gcd != 1)');
  return mod(t0, m);
}

/** Number of significant bits of a non-negative integer (bitLength(0) = 0). */
export function bitLength(a: bigint): number {
  if (a < 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'bitLength expects a non-negative integer');
  return a === 0n ? 0 : a.toString(2).length;
}

/** Big-endian unsigned integer of any length (empty input is 0). OS2IP in RFC 8017 §4.2 terms. */
export function bytesToBigInt(b: Uint8Array): bigint {
  let hex = '';
  for (const x of b) hex += x.toString(16).padStart(2, '0');
  return hex === '' ? 0n : BigInt('0x' + hex);
}

/**
 * Fixed-length big-endian encoding (I2OSP, RFC 8017 §4.1). Throws ERR_ESCROW_ARGUMENT when `a` is negative
 * or does not fit in `length` octets — a value is never silently truncated.
 */
export function bigIntToBytes(a: bigint, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', `expected a non-negative integer length, got ${length}`);
  }
  if (a < 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'cannot encode a negative integer');
  if (bitLength(a) > 8 * length) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', `integer needs ${Math.ceil(bitLength(a) / 8)} octets, expected at most ${length}`);
  }
  const out = new Uint8Array(length);
  let v = a;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Parses a hexadecimal string (optional 0x prefix, whitespace ignored — RFC appendices wrap long values). */
export function hexToBigInt(hex: string): bigint {
  const clean = hex.replace(/\s+/g, '').replace(/^0x/i, '');
  if (clean === '' || !/^[0-9a-fA-F]+$/.test(clean)) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', `expected a hexadecimal string, got ${clean.length} characters that are not all hex digits`);
  }
  return BigInt('0x' + clean);
}

/** Concatenates octet strings (the RFCs' `||`): @noble/hashes' helper, already a dependency. */
export { concatBytes } from '@noble/hashes/utils.js';
