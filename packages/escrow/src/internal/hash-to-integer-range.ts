// HashToIntegerRange( s, n, hashfn ) of RFC 6508 §5.1: hashes an octet string to an integer in [0, n).
// Used by SAKKE for r = HashToIntegerRange(SSV || b, q, Hash) and for the mask
// HashToIntegerRange(g^r, 2^n, Hash) (§6.2.1 steps 2 and 4b). Hash is SHA-256 for Parameter Set 1.
import { sha256 } from '@noble/hashes/sha2.js';
import { EscrowError } from '../errors.ts';
import { bitLength, bytesToBigInt, concatBytes, mod } from './bigint.ts';

/** hashfn with its output length; SHA-256 for SAKKE Parameter Set 1 (RFC 6509 Appendix A "Hash"). */
export interface SakkeHash {
  readonly hash: (data: Uint8Array) => Uint8Array;
  /** hashlen, in bits. */
  readonly hashlen: number;
}

export const SAKKE_SHA256: SakkeHash = { hash: (data) => sha256(data), hashlen: 256 };

/** Every intermediate of §5.1, so the RFC's worked example (Appendix A) can be checked value by value. */
export interface HashToIntegerRangeTrace {
  readonly A: Uint8Array;
  /** h_0 .. h_l. */
  readonly h: readonly Uint8Array[];
  /** v_1 .. v_l. */
  readonly v: readonly Uint8Array[];
  readonly l: number;
  /** The output v = v' mod n. */
  readonly value: bigint;
}

/** §5.1 with its intermediates. n must satisfy 1 <= n <= (2^hashlen)^hashlen. */
export function hashToIntegerRangeTrace(s: Uint8Array, n: bigint, hashfn: SakkeHash = SAKKE_SHA256): HashToIntegerRangeTrace {
  if (n < 1n || bitLength(n - 1n) > hashfn.hashlen * hashfn.hashlen) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', 'HashToIntegerRange range must satisfy 1 <= n <= (2^hashlen)^hashlen');
  }
  const A = hashfn.hash(s); // 1) Let A = hashfn( s )
  const h: Uint8Array[] = [new Uint8Array(hashfn.hashlen / 8)]; // 2) Let h_0 = 00...00, hashlen null bits
  // 3) Let l = Ceiling(lg(n)/hashlen). lg(n)/hashlen <= l iff n <= 2^(hashlen*l) iff bitLength(n-1) <= hashlen*l.
  const l = Math.ceil(bitLength(n - 1n) / hashfn.hashlen);
  const v: Uint8Array[] = [];
  for (let i = 1; i <= l; i++) {
    // 4) For each i in 1 to l, do:
    const hPrev = h[i - 1] ?? new Uint8Array(0); // (always present: h has i entries here)
    const hi = hashfn.hash(hPrev); //    a) Let h_i = hashfn(h_(i - 1))
    h.push(hi);
    v.push(hashfn.hash(concatBytes(hi, A))); //    b) Let v_i = hashfn(h_i || A)
  }
  const vPrime = concatBytes(...v); // 5) Let v' = v_1 || ...  || v_l
  return { A, h, v, l, value: mod(bytesToBigInt(vPrime), n) }; // 6) Let v = v' mod n
}

/** HashToIntegerRange( s, n, hashfn ) (RFC 6508 §5.1): an integer in [0, n). */
export function hashToIntegerRange(s: Uint8Array, n: bigint, hashfn: SakkeHash = SAKKE_SHA256): bigint {
  return hashToIntegerRangeTrace(s, n, hashfn).value;
}
