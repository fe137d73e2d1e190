// RFC 6508 (SAKKE) with Parameter Set 1 of RFC 6509 Appendix A: every value of RFC 6508 Appendix A, the §3.2
// pairing against g, the §5.1 worked example, rejection of tampered data and wrong keys, and seeded round
// trips — including the escrow itself: the KMS decapsulates from its master secret alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { loadVectors, seededRng } from '@sotto/test-support';
import { EscrowError, type EscrowErrorCode } from '../src/errors.ts';
import { bigIntToBytes, bitLength, bytesToBigInt, concatBytes, hexToBigInt, mod, modInv } from '../src/internal/bigint.ts';
import { fp2Eq, fp2Pow, FP2_ONE, pfpMul, pfpPow, pfpRepresentative } from '../src/internal/fp2.ts';
import { hashToIntegerRangeTrace } from '../src/internal/hash-to-integer-range.ts';
import { isInSubgroup, isOnCurve, SAKKE_PARAMETER_SET_1 as PS1, scalarMultiply } from '../src/internal/sakke-curve.ts';
import { millerLoop, tatePairingAffine } from '../src/internal/tate-pairing.ts';
import {
  decodeSakkePoint,
  encodeSakkePoint,
  hashToIntegerRange,
  SAKKE_ENCAPSULATED_DATA_LENGTH,
  SAKKE_SSV_LENGTH,
  sakkeDecapsulate,
  sakkeDecapsulateTrace,
  sakkeEncapsulate,
  sakkeEncapsulateTrace,
  sakkeGenerateKms,
  sakkeGenerateSsv,
  sakkeIdentifierToInteger,
  sakkeKmsDecapsulate,
  sakkeKmsKeys,
  sakkeReceiverKey,
  sakkeValidateReceiverKey,
  tatePairing,
  type SakkePoint,
} from '../src/sakke.ts';

interface AppendixA {
  readonly values: Readonly<Record<string, { readonly hex: string; readonly hash_to_integer_range_input_hex?: string }>>;
}
interface ParameterSet {
  readonly n: number;
  readonly p: string;
  readonly q: string;
  readonly Px: string;
  readonly Py: string;
  readonly g: string;
  readonly Hash: string;
}

const vectors = loadVectors<AppendixA>('rfc6508-sakke/sakke-rfc6508-appendix-A.json');
const ps1 = loadVectors<ParameterSet>('rfc6508-sakke/sakke-parameter-set-1.json');

/** The hex of Appendix A value `name`; a missing value fails the test rather than skipping. */
function hexOf(name: string): string {
  const v = vectors.values[name];
  assert.ok(v !== undefined, `Appendix A value ${name} missing from the vector file`);
  return v.hex;
}
/** The HashToIntegerRange input hex the vector file records beside value `name`. */
function inputOf(name: string): string | undefined {
  return vectors.values[name]?.hash_to_integer_range_input_hex;
}
const int = (name: string): bigint => hexToBigInt(hexOf(name));
const bytes = (name: string): Uint8Array => new Uint8Array(Buffer.from(hexOf(name), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const L = PS1.L;

function expectCode(code: EscrowErrorCode, what: string): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof EscrowError, `${what}: expected an EscrowError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: error code`);
    return true;
  };
}

const z = int('z');
const b = bytes('b');
const ssv = bytes('SSV');
const kms = sakkeKmsKeys(z);

test('Parameter Set 1 constants equal RFC 6509 Appendix A, with the facts §2.1 requires', () => {
  assert.equal(PS1.n, ps1.n, 'n');
  assert.equal(PS1.p, hexToBigInt(ps1.p), 'p');
  assert.equal(PS1.q, hexToBigInt(ps1.q), 'q');
  assert.equal(PS1.P.x, hexToBigInt(ps1.Px), 'Px');
  assert.equal(PS1.P.y, hexToBigInt(ps1.Py), 'Py');
  assert.equal(PS1.g, hexToBigInt(ps1.g), 'g');
  assert.equal(ps1.Hash, 'SHA-256', 'Hash');
  assert.equal(L, 128, 'L = Ceiling(lg(p)/8)');
  assert.equal(PS1.p % 4n, 3n, 'p ≡ 3 mod 4');
  assert.equal((PS1.p + 1n) % PS1.q, 0n, 'q | p + 1');
  assert.equal((PS1.p + 1n) / PS1.q, 4n, 'c = (p+1)/q');
  assert.ok(bitLength(PS1.q) > 2 * PS1.n, 'lg(q) > 2n');
  assert.ok(isOnCurve(PS1.P, PS1.p), 'P on E');
  assert.equal(scalarMultiply(PS1.q, PS1.P, PS1.p), null, '[q]P = 0');
  assert.equal(SAKKE_SSV_LENGTH, 16, 'SSV octets = n/8');
  assert.equal(SAKKE_ENCAPSULATED_DATA_LENGTH, 2 * L + 1 + 16, 'Encapsulated Data octets = 2L + 1 + n/8');
});

test('§3.2 pairing: g = <P,P>, by the package pairing, the public one and the verbatim affine pseudocode', () => {
  assert.equal(tatePairing(PS1.P, PS1.P), PS1.g, 'g = <P,P> (tatePairing)');
  assert.equal(tatePairingAffine(PS1.P, PS1.P, PS1), PS1.g, 'g = <P,P> (RFC 6508 §3.2 pseudocode, affine)');
});

test('§3.2 pairing: bilinear, and t = v^c relates to the textbook final exponentiation (p^2-1)/q as e ≡ t^-2', () => {
  const P2 = scalarMultiply(2n, PS1.P, PS1.p);
  const P3 = scalarMultiply(3n, PS1.P, PS1.p);
  assert.ok(P2 !== null && P3 !== null);
  const g6 = pfpPow(PS1.g, 6n, PS1.p);
  assert.equal(tatePairing(P2, P3), g6, '<[2]P,[3]P> = g^6');
  assert.equal(tatePairingAffine(P2, P3, PS1), g6, '<[2]P,[3]P> = g^6 (affine pseudocode)');
  assert.equal(pfpPow(PS1.g, PS1.q, PS1.p), 0n, 'g has order q in PF_p (0 represents the identity)');
  assert.notEqual(PS1.g, 0n, 'g is not the identity');
  const v = millerLoop(PS1.P, PS1.P, PS1);
  const e = fp2Pow(v, (PS1.p * PS1.p - 1n) / PS1.q, PS1.p);
  assert.ok(fp2Eq(fp2Pow(e, PS1.q, PS1.p), FP2_ONE), 'e = v^((p^2-1)/q) lies in the order-q subgroup of (F_p^2)*');
  assert.ok(!fp2Eq(e, FP2_ONE), 'e != 1');
  assert.equal(pfpRepresentative(e, PS1.p), pfpMul(mod(-PS1.g, PS1.p), mod(-PS1.g, PS1.p), PS1.p), 'e ≡ g^-2 in PF_p');
});

test('§5.1 HashToIntegerRange reproduces the Appendix A worked example (M, A, h0..h4, v1..v4, v mod q)', () => {
  const M = bytes('M');
  assert.equal(toHex(M), toHex(concatBytes(ssv, b)), 'M = SSV || b');
  const trace = hashToIntegerRangeTrace(M, PS1.q);
  assert.equal(trace.l, 4, 'l = Ceiling(lg(q)/256)');
  assert.equal(toHex(trace.A), hexOf('A'), 'A');
  for (let i = 0; i <= 4; i++) assert.equal(toHex(trace.h[i] ?? new Uint8Array(0)), hexOf(`h${i}`), `h${i}`);
  for (let i = 1; i <= 4; i++) assert.equal(toHex(trace.v[i - 1] ?? new Uint8Array(0)), hexOf(`v${i}`), `v${i}`);
  assert.equal(trace.value, int('v mod q'), 'v mod q');
  assert.equal(hashToIntegerRange(M, PS1.q), int('v mod q'), 'v mod q (hashToIntegerRange)');
  assert.equal(hashToIntegerRangeTrace(M, 1n << 128n).l, 1, 'l = 1 for n = 2^128');
});

test('§6.1 KMS public key Z = [z]P and §6.1.1 RSK K_b = [(b + z)^-1]P match Appendix A', () => {
  assert.equal(kms.Z.x, int('Zx'), 'Zx');
  assert.equal(kms.Z.y, int('Zy'), 'Zy');
  assert.equal(kms.z, z, 'z');
  assert.equal(new TextDecoder().decode(b), '2011-02\0tel:+447700900123\0', 'b is the RFC 6509 identity string');
  assert.equal(sakkeIdentifierToInteger(b), bytesToBigInt(b), 'b interpreted as an integer');
  const rsk = sakkeReceiverKey(kms, b);
  assert.equal(rsk.K.x, int('Kbx'), 'Kbx');
  assert.equal(rsk.K.y, int('Kby'), 'Kby');
  const validated = sakkeValidateReceiverKey(kms.Z, b, { x: int('Kbx'), y: int('Kby') }); // §6.1.2: <[b]P + Z, K_b> = g
  assert.equal(validated.K.x, int('Kbx'), 'validated Kbx');
  assert.deepEqual(decodeSakkePoint(rsk.encode()), rsk.K, 'K_b encodes and decodes');
  assert.deepEqual(decodeSakkePoint(encodeSakkePoint(kms.Z)), kms.Z, 'Z encodes and decodes');
});

test('§6.2.1 Sender reproduces Appendix A: r, Rb, g^r, mask, H and the Encapsulated Data', () => {
  const t = sakkeEncapsulateTrace(kms.Z, b, ssv);
  assert.equal(toHex(concatBytes(ssv, b)), inputOf('r'), 'r input = SSV || b');
  assert.equal(t.r, int('r'), 'r');
  assert.equal(t.R.x, int('Rbx'), 'Rbx');
  assert.equal(t.R.y, int('Rby'), 'Rby');
  assert.equal(t.gr, int('g^r'), 'g^r');
  assert.equal(toHex(bigIntToBytes(t.gr, L)), inputOf('mask'), 'mask input = g^r as L octets');
  assert.equal(toHex(t.mask), hexOf('mask'), 'mask');
  assert.equal(toHex(t.H), hexOf('H'), 'H');
  assert.equal(toHex(t.ssv), hexOf('SSV'), 'SSV');
  const expected = '04' + hexOf('Rbx') + hexOf('Rby') + hexOf('H');
  assert.equal(toHex(t.encapsulatedData), expected, 'Encapsulated Data = 0x04 || Rbx || Rby || H');
  assert.equal(toHex(sakkeEncapsulate(kms.Z, b, ssv).encapsulatedData), expected, 'Encapsulated Data (sakkeEncapsulate)');
});

test('§6.2.2 Receiver reproduces Appendix A: w, SSV, r, TEST', () => {
  const rsk = sakkeValidateReceiverKey(kms.Z, b, { x: int('Kbx'), y: int('Kby') });
  const data = new Uint8Array(Buffer.from('04' + hexOf('Rbx') + hexOf('Rby') + hexOf('H'), 'hex'));
  const t = sakkeDecapsulateTrace(rsk, data);
  assert.equal(t.w, int('w'), 'w');
  assert.equal(t.w, int('g^r'), 'w = g^r');
  assert.equal(toHex(t.ssv), hexOf('SSV_receiver'), 'SSV_receiver');
  assert.equal(t.r, int('r_receiver'), 'r_receiver');
  assert.equal(t.TEST.x, int('TESTx'), 'TESTx');
  assert.equal(t.TEST.y, int('TESTy'), 'TESTy');
  assert.equal(toHex(sakkeDecapsulate(rsk, data)), hexOf('SSV'), 'SSV (sakkeDecapsulate)');
});

test('the escrow: the KMS decapsulates any identifier and any period from z alone', () => {
  const data = sakkeEncapsulate(kms.Z, b, ssv).encapsulatedData;
  assert.equal(toHex(sakkeKmsDecapsulate(kms, b, data)), hexOf('SSV'), 'KMS recovers the Appendix A SSV');
  // A future period for the same user: no key has been issued yet, and the KMS reads it anyway.
  const future = new TextEncoder().encode('2031-12\0tel:+447700900123\0');
  const futureSsv = sakkeGenerateSsv(seededRng('sakke-escrow-future'));
  const futureData = sakkeEncapsulate(kms.Z, future, futureSsv).encapsulatedData;
  assert.equal(toHex(sakkeKmsDecapsulate(kms, future, futureData)), toHex(futureSsv), 'KMS recovers a future-period SSV');
});

test('§6.2.2 rejects tampered Encapsulated Data with ERR_ESCROW_INVALID_ENCAPSULATION', () => {
  const rsk = sakkeReceiverKey(kms, b);
  const data = sakkeEncapsulate(kms.Z, b, ssv).encapsulatedData;
  const flipped = (bit: number): Uint8Array => {
    const d = data.slice();
    d[bit >> 3] = (d[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
    return d;
  };
  const hStart = 8 * (2 * L + 1);
  for (const [bit, what] of [
    [hStart, 'first bit of H'],
    [8 * data.length - 1, 'last bit of H'],
    [8 * 1 + 7, 'a bit of R_x'],
    [8 * (1 + 2 * L) - 1, 'last bit of R_y'],
    [0, 'a bit of the 0x04 prefix'],
  ] as const) {
    assert.throws(() => sakkeDecapsulate(rsk, flipped(bit)), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', `flipped ${what}`));
  }
  // -R is a valid point of order q, so it passes parsing and the pairing; only TEST = R catches it.
  const negR = { x: int('Rbx'), y: PS1.p - int('Rby') };
  const withNegR = concatBytes(encodeSakkePoint(negR), bytes('H'));
  assert.throws(() => sakkeDecapsulate(rsk, withNegR), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'R replaced by -R'));
  // (0, 0) is on E but has order 2.
  const order2 = concatBytes(new Uint8Array([4]), new Uint8Array(2 * L), bytes('H'));
  assert.throws(() => sakkeDecapsulate(rsk, order2), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'R of order 2'));
  assert.throws(() => sakkeDecapsulate(rsk, data.subarray(1)), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'one octet short'));
  assert.throws(() => sakkeDecapsulate(rsk, concatBytes(data, new Uint8Array(1))), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'trailing octet'));
});

test('§6.2.2 with a wrong receiver key fails with ERR_ESCROW_INVALID_ENCAPSULATION', () => {
  const data = sakkeEncapsulate(kms.Z, b, ssv).encapsulatedData;
  const other = new TextEncoder().encode('2011-02\0tel:+447700900124\0');
  assert.throws(() => sakkeDecapsulate(sakkeReceiverKey(kms, other), data), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'key of another identifier'));
  const otherKms = sakkeKmsKeys(z + 1n);
  assert.throws(() => sakkeDecapsulate(sakkeReceiverKey(otherKms, b), data), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'key for b from another KMS'));
});

test('§6.1.2 RSK validation rejects wrong keys', () => {
  const other = new TextEncoder().encode('2011-02\0tel:+447700900124\0');
  const wrongK = sakkeReceiverKey(kms, other).K;
  assert.throws(() => sakkeValidateReceiverKey(kms.Z, b, wrongK), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', "another identifier's K"));
  assert.throws(() => sakkeValidateReceiverKey(kms.Z, b, PS1.P), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'K = P'));
  assert.throws(() => sakkeValidateReceiverKey(sakkeKmsKeys(z + 1n).Z, b, { x: int('Kbx'), y: int('Kby') }), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'another KMS public key'));
  assert.throws(() => sakkeValidateReceiverKey(kms.Z, b, { x: int('Kbx'), y: int('Kby') + 1n }), expectCode('ERR_ESCROW_INVALID_POINT', 'K off the curve'));
  assert.throws(() => sakkeValidateReceiverKey(kms.Z, b, { x: 0n, y: 0n }), expectCode('ERR_ESCROW_INVALID_POINT', 'K of order 2'));
});

test('points: strict decoding, subgroup checks, pairing inputs', () => {
  const enc = encodeSakkePoint(kms.Z);
  assert.throws(() => decodeSakkePoint(enc.subarray(1)), expectCode('ERR_ESCROW_INVALID_POINT', 'short point'));
  const badPrefix = enc.slice();
  badPrefix[0] = 0x02;
  assert.throws(() => decodeSakkePoint(badPrefix), expectCode('ERR_ESCROW_INVALID_POINT', 'compressed prefix'));
  const unreduced = concatBytes(new Uint8Array([4]), bigIntToBytes(kms.Z.x + PS1.p, L), bigIntToBytes(kms.Z.y, L));
  assert.throws(() => decodeSakkePoint(unreduced), expectCode('ERR_ESCROW_INVALID_POINT', 'x + p'));
  const order2 = concatBytes(new Uint8Array([4]), new Uint8Array(2 * L));
  assert.throws(() => decodeSakkePoint(order2), expectCode('ERR_ESCROW_INVALID_POINT', '(0,0) has order 2'));
  assert.ok(isOnCurve({ x: 0n, y: 0n }, PS1.p) && !isInSubgroup({ x: 0n, y: 0n }, PS1), '(0,0) is on E, outside E[q]');
  const zero: SakkePoint = { x: 0n, y: 0n };
  assert.throws(() => tatePairing(zero, PS1.P), expectCode('ERR_ESCROW_INVALID_POINT', 'pairing R of order 2'));
  assert.throws(() => tatePairing(PS1.P, zero), expectCode('ERR_ESCROW_INVALID_POINT', 'pairing Q of order 2'));
  // R = P + (0,0) is on E with order 2q: the Miller loop must notice [q-1]R != -R. Chord through (0,0) and P:
  // l = P_y / P_x, x3 = l^2 - P_x, y3 = l(0 - x3) - 0.
  const l = mod(PS1.P.y * modInv(PS1.P.x, PS1.p), PS1.p);
  const x3 = mod(l * l - PS1.P.x, PS1.p);
  const R2q = { x: x3, y: mod(-l * x3, PS1.p) };
  assert.ok(isOnCurve(R2q, PS1.p), 'P + (0,0) is on E');
  assert.throws(() => tatePairing(R2q, PS1.P), expectCode('ERR_ESCROW_INVALID_POINT', 'pairing R of order 2q'));
  assert.throws(() => sakkeDecapsulate(sakkeReceiverKey(kms, b), concatBytes(encodeSakkePoint(R2q), bytes('H'))), expectCode('ERR_ESCROW_INVALID_ENCAPSULATION', 'R of order 2q'));
});

test('arguments outside their domain are ERR_ESCROW_ARGUMENT', () => {
  assert.throws(() => sakkeKmsKeys(1n), expectCode('ERR_ESCROW_ARGUMENT', 'z = 1'));
  assert.throws(() => sakkeKmsKeys(PS1.q), expectCode('ERR_ESCROW_ARGUMENT', 'z = q'));
  assert.throws(() => sakkeReceiverKey(kms, new Uint8Array(0)), expectCode('ERR_ESCROW_ARGUMENT', 'empty identifier'));
  assert.throws(() => sakkeReceiverKey(kms, concatBytes(new Uint8Array(1), b)), expectCode('ERR_ESCROW_ARGUMENT', 'leading zero octet'));
  assert.throws(() => sakkeReceiverKey(kms, new Uint8Array([1])), expectCode('ERR_ESCROW_ARGUMENT', 'identifier 1'));
  assert.throws(() => sakkeReceiverKey(kms, bigIntToBytes(PS1.q, L)), expectCode('ERR_ESCROW_ARGUMENT', 'identifier q'));
  assert.throws(() => sakkeEncapsulate(kms.Z, b, ssv.subarray(1)), expectCode('ERR_ESCROW_ARGUMENT', '15-octet SSV'));
  // a + z = 0 mod q: the one identifier with no RSK (RFC 6508 leaves it undefined).
  assert.throws(() => sakkeReceiverKey(kms, bigIntToBytes(PS1.q - z, L)), expectCode('ERR_ESCROW_ARGUMENT', 'a = q - z'));
  assert.throws(() => sakkeEncapsulate({ x: 0n, y: 0n }, b, ssv), expectCode('ERR_ESCROW_INVALID_POINT', 'Z of order 2'));
});

test('secrets print redacted', () => {
  const rsk = sakkeReceiverKey(kms, b);
  for (const [value, name] of [
    [kms, 'SakkeKmsKeys'],
    [rsk, 'SakkeReceiverSecretKey'],
  ] as const) {
    const marker = `[${name}: redacted]`;
    assert.equal(String(value), marker, `${name} String()`);
    assert.equal(JSON.stringify(value), JSON.stringify(marker), `${name} JSON`);
    assert.equal(inspect(value), marker, `${name} inspect`);
  }
});

test('seeded round trips: generate KMS, provision, validate, encapsulate, decapsulate, and the KMS reads it too', () => {
  const rng = seededRng('sakke-rfc6508-round-trip');
  for (let i = 0; i < 3; i++) {
    const k = sakkeGenerateKms(rng);
    assert.ok(k.z >= 2n && k.z < PS1.q, `round ${i}: z in [2, q-1]`);
    const digits = Array.from(rng(6), (x) => String(x % 10)).join('');
    const id = new TextEncoder().encode(`2026-${String((i % 12) + 1).padStart(2, '0')}\0tel:+4477009${digits}\0`);
    const provisioned = sakkeReceiverKey(k, id).encode();
    const rsk = sakkeValidateReceiverKey(k.Z, id, decodeSakkePoint(provisioned));
    const secret = sakkeGenerateSsv(rng);
    const { encapsulatedData, ssv: sent } = sakkeEncapsulate(k.Z, id, secret);
    assert.equal(encapsulatedData.length, SAKKE_ENCAPSULATED_DATA_LENGTH, `round ${i}: encapsulated data length`);
    assert.equal(toHex(sent), toHex(secret), `round ${i}: sender SSV`);
    assert.equal(toHex(sakkeDecapsulate(rsk, encapsulatedData)), toHex(secret), `round ${i}: receiver SSV`);
    assert.equal(toHex(sakkeKmsDecapsulate(k, id, encapsulatedData)), toHex(secret), `round ${i}: KMS (escrow) SSV`);
  }
});

test('PF_p[q] arithmetic: the §2.1 product agrees with square-and-multiply on representatives', () => {
  // g^5 by repeated §2.1 products vs pfpPow (the F_p^2 lift).
  let acc = 0n; // the identity of PF_p is represented by 0
  for (let i = 0; i < 5; i++) acc = pfpMul(acc, PS1.g, PS1.p);
  assert.equal(acc, pfpPow(PS1.g, 5n, PS1.p), 'g^5');
  assert.equal(pfpMul(PS1.g, mod(-PS1.g, PS1.p), PS1.p), 0n, 'g * g^-1 = 1 (represented by 0)');
});
