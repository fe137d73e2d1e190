// The Tate-Lichtenbaum pairing of RFC 6508 §3.2: <R,Q> = f_R([i]Q)^c / (F_p)*, c = (p+1)/q, with the
// distortion map [i](x, y) = (-x, i*y) (§3.1) and Barreto's denominator elimination.
//
// Two implementations of the same §3.2 pseudocode:
// * tatePairingAffine is the pseudocode line for line (affine C, one F_p inversion per line). It is the
//   reference: an auditor diffs it against the RFC. It costs ~1500 inversions of a 1024-bit p (~0.5 s).
// * tatePairing (via millerLoop) is what the package uses. It keeps C in Jacobian coordinates and multiplies
//   each line value by the (non-zero, F_p) denominator of its gradient l instead of dividing by it. That
//   changes v only by a factor in (F_p)*, and v is an element of PF_p = (F_p^2)*/(F_p)*, so the class — and
//   the returned representative — is the same. The test suite checks both against g = <P,P>.
//
// Relation to the textbook reduced Tate pairing: e = v^((p^2-1)/q) in the order-q subgroup of (F_p^2)*.
// Since (p^2-1)/q = (p-1)*c and v^(p-1) = conj(v)/v ≡ v^(-2) modulo (F_p)*, e ≡ t^(-2) for the RFC's t = v^c;
// the RFC's g is therefore the representative of t, not of e (test/sakke-rfc6508.test.ts pins this).
//
// NOT constant-time, deliberately (see src/sakke.ts).
import { EscrowError } from '../errors.ts';
import { bitLength, mod, modInv } from './bigint.ts';
import { FP2_ONE, fp2, fp2Mul, fp2Pow, fp2Sqr, pfpRepresentative, type Fp2 } from './fp2.ts';
import { jacobianAddAffine, jacobianDouble, toJacobian, type JacobianPoint, type SakkeParameters, type SakkePoint } from './sakke-curve.ts';

function degenerate(): never {
  // Only reachable when R is not a point of order q (e.g. y = 0, order 2): §3.2 is defined on E(F_p)[q].
  throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'pairing input is not a point of order q (degenerate Miller line)');
}

/**
 * Miller's loop of §3.2 returning v in F_p^2 (a representative of its class in PF_p). Also checks that
 * R is in E(F_p)[q] for free: the loop ends with C = [q-1]R, which equals -R exactly when [q]R = 0.
 * Q must be a point of E(F_p) (the caller checks it is in E(F_p)[q]).
 */
export function millerLoop(R: SakkePoint, Q: SakkePoint, params: SakkeParameters): Fp2 {
  const { p, q } = params;
  let v: Fp2 = FP2_ONE; // v = (F_p)*
  let C: JacobianPoint = toJacobian(R); // C = R
  const e = q - 1n;
  for (let k = bitLength(e) - 2; k >= 0; k--) {
    // "for bits of q-1, starting with the second most significant bit, ending with the least significant bit"
    {
      // l = 3*(C_x^2 - 1)/(2*C_y) with C_x = X/Z^2, C_y = Y/Z^3 is 3(X^2 - Z^4)/(2YZ); the line value
      // l*(Q_x + C_x) + (i*Q_y - C_y), times the F_p scalar 2YZ^3, is
      // 3(X^2 - Z^4)(Q_x Z^2 + X) - 2Y^2 + i * 2YZ^3 Q_y.
      const { X, Y, Z } = C;
      const Z2 = mod(Z * Z, p);
      const Z3 = mod(Z2 * Z, p);
      if (Y === 0n) degenerate();
      const line = fp2(3n * (X * X - Z2 * Z2) * (Q.x * Z2 + X) - 2n * Y * Y, 2n * Y * Z3 * Q.y, p);
      v = fp2Mul(fp2Sqr(v, p), line, p); // v = v^2 * ( l*( Q_x + C_x ) + ( i*Q_y - C_y ) )
      C = jacobianDouble(C, p); // C = [2]C
    }
    if ((e >> BigInt(k)) & 1n) {
      // "if bit is 1": l = (C_y - R_y)/(C_x - R_x) is (Y - R_y Z^3)/(Z D) with D = X - R_x Z^2; the line value
      // times the F_p scalar Z^3 D is (Y - R_y Z^3)(Q_x Z^2 + X) - Y D + i * Z^3 D Q_y.
      const { X, Y, Z } = C;
      const Z2 = mod(Z * Z, p);
      const Z3 = mod(Z2 * Z, p);
      const D = mod(X - R.x * Z2, p);
      if (D === 0n || Z === 0n) degenerate();
      const line = fp2((Y - R.y * Z3) * (Q.x * Z2 + X) - Y * D, Z3 * D * Q.y, p);
      v = fp2Mul(v, line, p); // v = v * ( l*( Q_x + C_x ) + ( i*Q_y - C_y ) )
      C = jacobianAddAffine(C, R, p); // C = C+R
    }
  }
  // C = [q-1]R; it is -R = (R_x, -R_y) iff [q]R = 0, i.e. R is in E(F_p)[q] (R is finite and on E).
  const Z2 = mod(C.Z * C.Z, p);
  if (C.Z === 0n || mod(C.X - R.x * Z2, p) !== 0n || mod(C.Y + R.y * Z2 * C.Z, p) !== 0n) {
    throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'pairing input R is not in the order-q subgroup E(F_p)[q]');
  }
  return v;
}

/** <R,Q> as its F_p representative (§3.2): t = v^c with c = (p+1)/q, then b/a for t = a + i*b. */
export function tatePairing(R: SakkePoint, Q: SakkePoint, params: SakkeParameters): bigint {
  const c = (params.p + 1n) / params.q; // c = (p+1)/q
  const t = fp2Pow(millerLoop(R, Q, params), c, params.p); // t = v^c
  return pfpRepresentative(t, params.p); // return representative in F_p of t
}

/**
 * §3.2's pseudocode verbatim, in affine coordinates (the reference implementation; slow, for tests).
 * R and Q must be points of E(F_p)[q].
 */
export function tatePairingAffine(R: SakkePoint, Q: SakkePoint, params: SakkeParameters): bigint {
  const { p, q } = params;
  let v: Fp2 = FP2_ONE; // v = (F_p)*;    // An element of PF_p[q]
  let C: SakkePoint = R; // C = R;         // An element of E(F_p)[q]
  const c = (p + 1n) / q; // c = (p+1)/q;   // An integer
  const e = q - 1n;
  for (let k = bitLength(e) - 2; k >= 0; k--) {
    // for bits of q-1, starting with the second most significant bit, ending with the least significant bit, do
    if (C.y === 0n) degenerate();
    let l = mod(3n * (C.x * C.x - 1n) * modInv(2n * C.y, p), p); // l = 3*( C_x^2 - 1 ) / ( 2*C_y );
    v = fp2Mul(fp2Sqr(v, p), fp2(l * (Q.x + C.x) - C.y, Q.y, p), p); // v = v^2 * ( l*( Q_x + C_x ) + ( i*Q_y - C_y ) );
    const x2 = mod(l * l - 2n * C.x, p); // C = [2]C; (tangent of gradient l)
    C = { x: x2, y: mod(l * (C.x - x2) - C.y, p) };
    if ((e >> BigInt(k)) & 1n) {
      // if bit is 1, then
      if (C.x === R.x) degenerate();
      l = mod((C.y - R.y) * modInv(C.x - R.x, p), p); // l = ( C_y - R_y )/( C_x - R_x );
      v = fp2Mul(v, fp2(l * (Q.x + C.x) - C.y, Q.y, p), p); // v = v * ( l*( Q_x + C_x ) + ( i*Q_y - C_y ) );
      const x3 = mod(l * l - C.x - R.x, p); // C = C+R; (chord of gradient l)
      C = { x: x3, y: mod(l * (C.x - x3) - C.y, p) };
    }
  }
  const t = fp2Pow(v, c, p); // t = v^c;
  return pfpRepresentative(t, p); // return representative in F_p of t;
}
