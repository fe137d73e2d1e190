// The SAKKE curve E: y^2 = x^3 - 3x over F_p (RFC 6508 §2.1, §3) with Parameter Set 1 of RFC 6509 Appendix A,
// point arithmetic (IEEE P1363 A.10, which RFC 6508 §3 points to) and the point encoding of RFC 6508 §4.
//
// NOT constant-time, deliberately: @sotto/escrow is the key-escrow counter-example and never protects
// anything (see src/sakke.ts). Scalar multiplication runs in Jacobian coordinates (x = X/Z^2, y = Y/Z^3)
// only because an F_p inversion over this 1024-bit p costs ~100 multiplications; results are affine.
import { EscrowError } from '../errors.ts';
import { bigIntToBytes, bitLength, bytesToBigInt, hexToBigInt, mod, modInv } from './bigint.ts';

/** A finite point of E(F_p) in affine coordinates (RFC 6508 §3: "(affine) coordinates (P_x,P_y)"). */
export interface SakkePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** The public parameters of RFC 6508 §2.2 ("p, q, E, P, g=<P,P>, Hash, and n"); Hash is SHA-256 (src/sakke.ts). */
export interface SakkeParameters {
  /** Security parameter n in bits: the SSV is an integer in [0, 2^n) (§2.1). */
  readonly n: number;
  /** The field prime, p ≡ 3 mod 4 (§2.1). */
  readonly p: bigint;
  /** The odd prime q | p + 1, order of P (§2.1). */
  readonly q: bigint;
  /** The generator P of E(F_p)[q] (§2.1). */
  readonly P: SakkePoint;
  /** g = <P,P>, as its F_p representative in PF_p[q] (§2.2). */
  readonly g: bigint;
  /** L = Ceiling(lg(p)/8), the octet length of F_p and PF_p elements (§4). */
  readonly L: number;
}

/** SAKKE Parameter Set 1 (RFC 6509 Appendix A; IANA "SAKKE Params" value 1). Hex copied from the RFC. */
export const SAKKE_PARAMETER_SET_1: SakkeParameters = (() => {
  const p = hexToBigInt(
    '997ABB1F0A563FDA65C61198DAD0657A416C0CE19CB48261BE9AE358B3E01A2E' +
      'F40AAB27E2FC0F1B228730D531A59CB0E791B39FF7C88A19356D27F4A666A6D0' +
      'E26C6487326B4CD4512AC5CD65681CE1B6AFF4A831852A82A7CF3C521C3C09AA' +
      '9F94D6AF56971F1FFCE3E82389857DB080C5DF10AC7ACE87666D807AFEA85FEB',
  );
  return {
    n: 128,
    p,
    q: hexToBigInt(
      '265EAEC7C2958FF69971846636B4195E905B0338672D20986FA6B8D62CF8068B' +
        'BD02AAC9F8BF03C6C8A1CC354C69672C39E46CE7FDF222864D5B49FD2999A9B4' +
        '389B1921CC9AD335144AB173595A07386DABFD2A0C614AA0A9F3CF14870F026A' +
        'A7E535ABD5A5C7C7FF38FA08E2615F6C203177C42B1EB3A1D99B601EBFAA17FB',
    ),
    P: {
      x: hexToBigInt(
        '53FC09EE332C29AD0A7990053ED9B52A2B1A2FD60AEC69C698B2F204B6FF7CBF' +
          'B5EDB6C0F6CE2308AB10DB9030B09E1043D5F22CDB9DFA55718BD9E7406CE890' +
          '9760AF765DD5BCCB337C86548B72F2E1A702C3397A60DE74A7C1514DBA66910D' +
          'D5CFB4CC80728D87EE9163A5B63F73EC80EC46C4967E0979880DC8ABEAE63895',
      ),
      y: hexToBigInt(
        '0A8249063F6009F1F9F1F0533634A135D3E82016029906963D778D821E141178' +
          'F5EA69F4654EC2B9E7F7F5E5F0DE55F66B598CCF9A140B2E416CFF0CA9E032B9' +
          '70DAE117AD547C6CCAD696B5B7652FE0AC6F1E80164AA989492D979FC5A4D5F2' +
          '13515AD7E9CB99A980BDAD5AD5BB4636ADB9B5706A67DCDE75573FD71BEF16D7',
      ),
    },
    g: hexToBigInt(
      '66FC2A432B6EA392148F15867D623068C6A87BD1FB94C41E27FABE658E015A87' +
        '371E94744C96FEDA449AE9563F8BC446CBFDA85D5D00EF577072DA8F541721BE' +
        'EE0FAED1828EAB90B99DFB0138C7843355DF0460B4A9FD74B4F1A32BCAFA1FFA' +
        'D682C033A7942BCCE3720F20B9B7B0403C8CAE87B7A0042ACDE0FAB36461EA46',
    ),
    L: Math.ceil(bitLength(p) / 8), // §4: L = Ceiling(lg(p)/8) = 128 (p is not a power of 2)
  };
})();

/** A point in Jacobian coordinates; Z = 0 is the point at infinity 0. */
export interface JacobianPoint {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
}

export const JACOBIAN_INFINITY: JacobianPoint = { X: 1n, Y: 1n, Z: 0n };

export const toJacobian = (P: SakkePoint): JacobianPoint => ({ X: P.x, Y: P.y, Z: 1n });

/** The affine point of a Jacobian one, or null for the point at infinity. */
export function toAffine(P: JacobianPoint, p: bigint): SakkePoint | null {
  if (P.Z === 0n) return null;
  const zInv = modInv(P.Z, p);
  const zInv2 = mod(zInv * zInv, p);
  return { x: mod(P.X * zInv2, p), y: mod(P.Y * zInv2 * zInv, p) };
}

/** Whether (x, y) with x, y in [0, p) satisfies y^2 = x^3 - 3x mod p (§2.1). */
export function isOnCurve(P: SakkePoint, p: bigint): boolean {
  if (P.x < 0n || P.x >= p || P.y < 0n || P.y >= p) return false;
  return mod(P.y * P.y - (P.x * P.x * P.x - 3n * P.x), p) === 0n;
}

/** [2]C (P1363 A.10.4 with a = -3: M = 3X^2 + aZ^4 = 3(X - Z^2)(X + Z^2)). */
export function jacobianDouble(C: JacobianPoint, p: bigint): JacobianPoint {
  if (C.Z === 0n || C.Y === 0n) return JACOBIAN_INFINITY; // [2]0 = 0; a point with y = 0 has order 2
  const Z2 = mod(C.Z * C.Z, p);
  const Y2 = mod(C.Y * C.Y, p);
  const M = mod(3n * (C.X - Z2) * (C.X + Z2), p);
  const S = mod(4n * C.X * Y2, p);
  const X3 = mod(M * M - 2n * S, p);
  const Y3 = mod(M * (S - X3) - 8n * Y2 * Y2, p);
  return { X: X3, Y: Y3, Z: mod(2n * C.Y * C.Z, p) };
}

/** C + R for Jacobian C and affine R (P1363 A.10.5 with Z_R = 1). */
export function jacobianAddAffine(C: JacobianPoint, R: SakkePoint, p: bigint): JacobianPoint {
  if (C.Z === 0n) return toJacobian(R);
  const Z2 = mod(C.Z * C.Z, p);
  const U2 = mod(R.x * Z2, p); // R_x in C's scale
  const S2 = mod(R.y * Z2 * C.Z, p); // R_y in C's scale
  const H = mod(U2 - C.X, p);
  const rr = mod(S2 - C.Y, p);
  if (H === 0n) return rr === 0n ? jacobianDouble(C, p) : JACOBIAN_INFINITY; // C = R, or C = -R
  const H2 = mod(H * H, p);
  const H3 = mod(H2 * H, p);
  const U1H2 = mod(C.X * H2, p);
  const X3 = mod(rr * rr - H3 - 2n * U1H2, p);
  const Y3 = mod(rr * (U1H2 - X3) - C.Y * H3, p);
  return { X: X3, Y: Y3, Z: mod(C.Z * H, p) };
}

/** [k]P for k >= 0 by left-to-right double-and-add; null is the point at infinity. */
export function scalarMultiply(k: bigint, P: SakkePoint, p: bigint): SakkePoint | null {
  if (k < 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'scalar must be non-negative, got a negative value');
  let C = JACOBIAN_INFINITY;
  for (let i = bitLength(k) - 1; i >= 0; i--) {
    C = jacobianDouble(C, p);
    if ((k >> BigInt(i)) & 1n) C = jacobianAddAffine(C, P, p);
  }
  return toAffine(C, p);
}

/** A + B in affine coordinates; null is the point at infinity. */
export function pointAdd(A: SakkePoint, B: SakkePoint, p: bigint): SakkePoint | null {
  return toAffine(jacobianAddAffine(toJacobian(A), B, p), p);
}

export function pointEquals(A: SakkePoint, B: SakkePoint): boolean {
  return A.x === B.x && A.y === B.y;
}

/** Whether P is a finite point of E(F_p)[q]: on the curve and [q]P = 0 (§2.2: Z, RSKs and R have order q). */
export function isInSubgroup(P: SakkePoint, params: SakkeParameters): boolean {
  return isOnCurve(P, params.p) && scalarMultiply(params.q, P, params.p) === null;
}

/** Octet length of an encoded point: 2*L + 1 (§4 "Points on E"). */
export const pointLength = (params: SakkeParameters): number => 2 * params.L + 1;

/** 0x04 || x' || y' with x', y' the L-octet big-endian coordinates (§4, RFC 5480 §2.2 uncompressed form). */
export function encodePoint(P: SakkePoint, params: SakkeParameters): Uint8Array {
  const out = new Uint8Array(pointLength(params));
  out[0] = 0x04;
  out.set(bigIntToBytes(P.x, params.L), 1);
  out.set(bigIntToBytes(P.y, params.L), 1 + params.L);
  return out;
}

/**
 * Strict decoder for §4's uncompressed point: exactly 2L+1 octets, prefix 0x04, coordinates in [0, p), on E.
 * Subgroup membership is the caller's check (isInSubgroup), because it costs a scalar multiplication.
 */
export function decodePoint(bytes: Uint8Array, params: SakkeParameters): SakkePoint {
  if (bytes.length !== pointLength(params)) {
    throw new EscrowError('ERR_ESCROW_INVALID_POINT', `expected a ${pointLength(params)}-octet point, got ${bytes.length} octets`);
  }
  if (bytes[0] !== 0x04) throw new EscrowError('ERR_ESCROW_INVALID_POINT', `expected the uncompressed prefix 0x04, got 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}`);
  const P = { x: bytesToBigInt(bytes.subarray(1, 1 + params.L)), y: bytesToBigInt(bytes.subarray(1 + params.L)) };
  if (P.x >= params.p || P.y >= params.p) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'coordinate is not reduced modulo p');
  if (!isOnCurve(P, params.p)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'point is not on y^2 = x^3 - 3x');
  return P;
}
