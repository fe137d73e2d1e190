// NIST P-256 point arithmetic over native bigint, exactly as much as RFC 6507 (ECCSI) needs:
// affine points at the API, Jacobian coordinates inside the scalar multiplication, the on-curve check of
// RFC 6507 §3.1, and the canonical uncompressed encoding 0x04 || x' || y' of RFC 6507 §3.2 (RFC 5480 §2.2).
//
// NOT constant-time, deliberately: @sotto/escrow is the key-escrow counter-example the scorecard attacks and
// never protects anything, so the code is written to be diffed against the RFC text, not to resist timing or
// cache side channels (double-and-add branches on scalar bits; bigint arithmetic is variable-time).
//
// Curve (RFC 6507 §3.1, §4.1; parameters from FIPS 186-3 as §4.1 RECOMMENDS, the values of Appendix A):
//   E: y^2 = x^3 - 3*x + B  over F_p,  G generates the subgroup of prime order q, cofactor 1.
// Because the cofactor is 1, every affine point on E other than the identity lies in <G>: the on-curve check
// is also the subgroup check.
import { EscrowError } from '../errors.ts';
import { bigIntToBytes, bytesToBigInt, mod, modInv } from './bigint.ts';

/** p: the field prime, n = 256 bits (RFC 6507 §4.1 "p"; Appendix A). */
export const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
/** B: the curve coefficient of y^2 = x^3 - 3*x + B (RFC 6507 §4.1 "B"; Appendix A). */
export const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
/** q: the prime order of G (RFC 6507 §4.1 "q"; Appendix A). */
export const P256_Q = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** n: the size of p in bits (RFC 6507 §4.1 "n"). */
export const P256_BITS = 256;
/** N = Ceiling(n/8): octets per integer / field element, and per hash output (RFC 6507 §4.1 "N"). */
export const P256_N = 32;
/** Length of an encoded point, 0x04 || x' || y' = 2N+1 octets (RFC 6507 §3.2, §3.3). */
export const P256_POINT_BYTES = 2 * P256_N + 1;
/** Leading octet of an uncompressed point (RFC 5480 §2.2, via RFC 6507 §3.2). */
const UNCOMPRESSED = 0x04;

/** An affine point (Px, Py) on E with coordinates in [0, p). */
export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/**
 * A point of E: affine coordinates, or `null` for the group identity "0", which "will require no
 * representation" (RFC 6507 §3.1) — so it can be computed with but never encoded.
 */
export type Point = AffinePoint | null;

/** G: the base point (RFC 6507 §4.1 "G"; Appendix A). */
export const P256_G: AffinePoint = Object.freeze({
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
});

const p = P256_P;

/** RFC 6507 §3.1: P lies on E iff Py^2 - Px^3 + 3*Px - B = 0 modulo p (coordinates must be reduced). */
export function isOnCurve(pt: AffinePoint): boolean {
  const { x, y } = pt;
  if (x < 0n || x >= p || y < 0n || y >= p) return false;
  return mod(y * y - x * x * x + 3n * x - P256_B, p) === 0n;
}

// ---- Jacobian coordinates: (X, Y, Z) represents (X/Z^2, Y/Z^3); Z = 0 is the identity. ----
// The RFC allows "any appropriate representation of points that achieves the equivalent operations"
// (RFC 6507 §5.2.2); Jacobian coordinates avoid one inversion per addition.

interface Jacobian {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
}

const J_IDENTITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function toJacobian(pt: Point): Jacobian {
  return pt === null ? J_IDENTITY : { X: pt.x, Y: pt.y, Z: 1n };
}

function toAffine(P: Jacobian): Point {
  if (P.Z === 0n) return null;
  const zInv = modInv(P.Z, p);
  const zInv2 = (zInv * zInv) % p;
  return { x: mod(P.X * zInv2, p), y: mod(P.Y * zInv2 * zInv, p) };
}

/** Doubling for a = -3 ("dbl-2001-b", Bernstein-Lange Explicit-Formulas Database). */
function jDouble(P: Jacobian): Jacobian {
  if (P.Z === 0n || P.Y === 0n) return J_IDENTITY; // 0 + 0 = 0; a point with y = 0 has order 2 (none on P-256)
  const delta = mod(P.Z * P.Z, p);
  const gamma = mod(P.Y * P.Y, p);
  const beta = mod(P.X * gamma, p);
  const alpha = mod(3n * (P.X - delta) * (P.X + delta), p);
  const X3 = mod(alpha * alpha - 8n * beta, p);
  const Z3 = mod((P.Y + P.Z) * (P.Y + P.Z) - gamma - delta, p);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma, p);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** General addition ("add-1998-cmo-2"), falling back to doubling when P = Q and to 0 when P = -Q. */
function jAdd(P: Jacobian, Q: Jacobian): Jacobian {
  if (P.Z === 0n) return Q;
  if (Q.Z === 0n) return P;
  const Z1Z1 = mod(P.Z * P.Z, p);
  const Z2Z2 = mod(Q.Z * Q.Z, p);
  const U1 = mod(P.X * Z2Z2, p);
  const U2 = mod(Q.X * Z1Z1, p);
  const S1 = mod(P.Y * Q.Z * Z2Z2, p);
  const S2 = mod(Q.Y * P.Z * Z1Z1, p);
  const H = mod(U2 - U1, p);
  const R = mod(S2 - S1, p);
  if (H === 0n) return R === 0n ? jDouble(P) : J_IDENTITY;
  const HH = mod(H * H, p);
  const HHH = mod(H * HH, p);
  const V = mod(U1 * HH, p);
  const X3 = mod(R * R - HHH - 2n * V, p);
  const Y3 = mod(R * (V - X3) - S1 * HHH, p);
  const Z3 = mod(P.Z * Q.Z * H, p);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** P + Q (RFC 6507 §3.1). */
export function pointAdd(P: Point, Q: Point): Point {
  return toAffine(jAdd(toJacobian(P), toJacobian(Q)));
}

/** P + P = [2]P. */
export function pointDouble(P: Point): Point {
  return toAffine(jDouble(toJacobian(P)));
}

/** -P = (Px, p - Py). */
export function pointNegate(P: Point): Point {
  return P === null ? null : { x: P.x, y: mod(-P.y, p) };
}

/** Affine equality (both identity, or same coordinates). */
export function pointEquals(P: Point, Q: Point): boolean {
  if (P === null || Q === null) return P === Q;
  return P.x === Q.x && P.y === Q.y;
}

/**
 * [k]P, "the addition of P with itself k times" (RFC 6507 §3.1), by left-to-right double-and-add.
 * k may be any non-negative integer (RFC 6507 §5.2.2 multiplies by r and s, which are N-octet integers that
 * may exceed q); [0]P is the identity. Variable-time by design (see the file header).
 */
export function pointMultiply(k: bigint, P: Point): Point {
  if (k < 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'scalar must be non-negative, got a negative value');
  const base = toJacobian(P);
  let acc = J_IDENTITY;
  for (let i = k.toString(2).length - 1; i >= 0 && k !== 0n; i--) {
    acc = jDouble(acc);
    if ((k >> BigInt(i)) & 1n) acc = jAdd(acc, base);
  }
  return toAffine(acc);
}

/** [k]G. */
export function multiplyBase(k: bigint): Point {
  return pointMultiply(k, P256_G);
}

/**
 * Canonical encoding 0x04 || x' || y', x' and y' the N-octet big-endian strings of the coordinates
 * (RFC 6507 §3.2 "Points on E", RFC 5480 §2.2). The identity has no representation (RFC 6507 §3.1), so
 * encoding it is an ERR_ESCROW_INVALID_POINT, as is encoding a point that is not on E.
 */
export function encodePoint(P: Point): Uint8Array {
  if (P === null) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'the identity point has no representation (RFC 6507 §3.1)');
  if (!isOnCurve(P)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'refusing to encode a point that is not on P-256');
  const out = new Uint8Array(P256_POINT_BYTES);
  out[0] = UNCOMPRESSED;
  out.set(bigIntToBytes(P.x, P256_N), 1);
  out.set(bigIntToBytes(P.y, P256_N), 1 + P256_N);
  return out;
}

/**
 * Strict decoding of 0x04 || x' || y': exactly 2N+1 octets, leading octet 0x04 (no compressed or hybrid
 * forms, no identity encoding), both coordinates canonical (< p), and the point on E (which, cofactor 1,
 * puts it in <G>). Anything else is ERR_ESCROW_INVALID_POINT. `what` names the value in the error message.
 */
export function decodePoint(bytes: Uint8Array, what = 'point'): AffinePoint {
  if (bytes.length !== P256_POINT_BYTES) {
    throw new EscrowError('ERR_ESCROW_INVALID_POINT', `${what}: expected ${P256_POINT_BYTES} octets (0x04 || x || y), got ${bytes.length}`);
  }
  if (bytes[0] !== UNCOMPRESSED) {
    throw new EscrowError('ERR_ESCROW_INVALID_POINT', `${what}: expected leading octet 0x04 (uncompressed, RFC 6507 §3.2), got 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}`);
  }
  const x = bytesToBigInt(bytes.subarray(1, 1 + P256_N));
  const y = bytesToBigInt(bytes.subarray(1 + P256_N));
  if (x >= p || y >= p) throw new EscrowError('ERR_ESCROW_INVALID_POINT', `${what}: coordinate not reduced modulo p (non-canonical)`);
  const pt = { x, y };
  if (!isOnCurve(pt)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', `${what}: not on the curve y^2 = x^3 - 3x + B (RFC 6507 §3.1)`);
  return pt;
}
