// F_p^2 = F_p[i] with i^2 + 1 = 0 (RFC 6508 §2.1 "F_p^2"), and the projective line PF_p = (F_p^2)* / (F_p)*
// with its F_p representation (RFC 6508 §2.1 "Elements of PF_p", §3.2 "representative in F_p").
//
// NOT constant-time, deliberately: @sotto/escrow is the key-escrow counter-example and never protects
// anything (see src/sakke.ts). The modulus is passed explicitly so the code reads like the RFC's formulas.
import { EscrowError } from '../errors.ts';
import { bitLength, mod, modInv } from './bigint.ts';

/** An element a + i*b of F_p^2 (RFC 6508 §2.1: "represented as x_1 + i * x_2"), both parts in [0, p). */
export interface Fp2 {
  readonly a: bigint;
  readonly b: bigint;
}

export const fp2 = (a: bigint, b: bigint, p: bigint): Fp2 => ({ a: mod(a, p), b: mod(b, p) });

export const FP2_ONE: Fp2 = { a: 1n, b: 0n };

/** (a1 + i b1)(a2 + i b2) = (a1 a2 - b1 b2) + i (a1 b2 + a2 b1), since i^2 = -1 (§2.1). */
export function fp2Mul(x: Fp2, y: Fp2, p: bigint): Fp2 {
  return fp2(x.a * y.a - x.b * y.b, x.a * y.b + x.b * y.a, p);
}

/** (a + i b)^2 = (a + b)(a - b) + i 2ab. */
export function fp2Sqr(x: Fp2, p: bigint): Fp2 {
  return fp2((x.a + x.b) * (x.a - x.b), 2n * x.a * x.b, p);
}

/** x^e for e >= 0 by left-to-right square-and-multiply. */
export function fp2Pow(x: Fp2, e: bigint, p: bigint): Fp2 {
  if (e < 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'F_p^2 exponent must be non-negative, got a negative value');
  let r = FP2_ONE;
  for (let k = bitLength(e) - 1; k >= 0; k--) {
    r = fp2Sqr(r, p);
    if ((e >> BigInt(k)) & 1n) r = fp2Mul(r, x, p);
  }
  return r;
}

export function fp2Eq(x: Fp2, y: Fp2): boolean {
  return x.a === y.a && x.b === y.b;
}

/**
 * The representative in F_p of the class of t = a + i*b in PF_p: b/a (RFC 6508 §3.2, "Routine for computing
 * representative in F_p of elements of PF_p"). a = 0 is the unique element of order 2 in PF_p, which §4 says
 * is never represented; it cannot occur for elements of PF_p[q] (q odd), so it is an argument error here.
 */
export function pfpRepresentative(t: Fp2, p: bigint): bigint {
  if (t.a === 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'the element of order 2 in PF_p has no F_p representative (RFC 6508 §4)');
  return mod(t.b * modInv(t.a, p), p); // "return b/a"
}

/**
 * A * B in PF_p[q] on F_p representatives: (a + b) / (1 - a*b) (RFC 6508 §2.1). This is (1 + i a)(1 + i b)
 * = (1 - ab) + i (a + b) read back through pfpRepresentative.
 */
export function pfpMul(a: bigint, b: bigint, p: bigint): bigint {
  return pfpRepresentative({ a: mod(1n - a * b, p), b: mod(a + b, p) }, p);
}

/**
 * A^e in PF_p[q] for the F_p representative `a` (RFC 6508 §6.2.1 step 4a: square-and-multiply with the §2.1
 * product, "rather than the regular F_p operations"). Each §2.1 product costs an inversion, so the
 * square-and-multiply runs on the lift 1 + i*a in F_p^2 — the same products, because the §2.1 formula is
 * exactly the F_p^2 product of such lifts taken modulo (F_p)* — and divides once at the end.
 * The identity of PF_p is represented by 0 (the class of 1 + i*0).
 */
export function pfpPow(a: bigint, e: bigint, p: bigint): bigint {
  return pfpRepresentative(fp2Pow({ a: 1n, b: mod(a, p) }, e, p), p);
}
