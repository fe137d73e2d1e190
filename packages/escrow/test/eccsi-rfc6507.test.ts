// RFC 6507 (ECCSI) against its Appendix A test data, table-driven: every value printed in the appendix is
// recomputed by the implementation and compared by name. Then verification negatives, malformed inputs, the
// KMS key-validation checks, seeded random round trips, the escrow property the scorecard relies on, and the
// P-256 / bigint helpers underneath (cross-checked against node:crypto).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { inspect } from 'node:util';
import { sha256 } from '@noble/hashes/sha2.js';
import { loadVectors, seededRng } from '@sotto/test-support';
import { EscrowError, type EscrowErrorCode } from '../src/errors.ts';
import {
  ECCSI_BITS,
  ECCSI_N,
  ECCSI_Q,
  ECCSI_SIGNATURE_BYTES,
  decodeEccsiSignature,
  eccsiGenerateKms,
  eccsiHEInput,
  eccsiHSInput,
  eccsiKmsDeriveUserKey,
  eccsiKmsKeys,
  eccsiProvision,
  eccsiRandomScalar,
  eccsiSign,
  eccsiSignTrace,
  eccsiValidateUserKey,
  eccsiVerify,
  eccsiVerifyTrace,
  encodeEccsiSignature,
} from '../src/eccsi.ts';
import { bigIntToBytes, bytesToBigInt, hexToBigInt, mod, modInv, modPow } from '../src/internal/bigint.ts';
import {
  P256_B,
  P256_G,
  P256_P,
  P256_Q,
  decodePoint,
  encodePoint,
  isOnCurve,
  multiplyBase,
  pointAdd,
  pointDouble,
  pointEquals,
  pointMultiply,
  pointNegate,
} from '../src/internal/p256.ts';

// ---- vector file ----------------------------------------------------------------------------------------

interface HexValue {
  readonly hex: string;
  readonly hash_input_hex?: string;
  readonly ascii_as_published?: string;
}
interface AppendixA {
  readonly values: Record<string, HexValue | number | string>;
}

const FILE = 'rfc6507-eccsi/eccsi-rfc6507-appendix-A.json';
const vectors = loadVectors<AppendixA>(FILE);

function value(name: string): HexValue {
  const v = vectors.values[name];
  if (typeof v !== 'object') throw new Error(`${FILE}: value ${name} missing or not a hex object`);
  return v;
}
/** A plain (non-hex) entry: n, N, Hash. */
const plainOf = (name: string): string => {
  const v = vectors.values[name];
  if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`${FILE}: value ${name} missing or not a plain number/string`);
  return String(v);
};
const hexOf = (name: string): string => value(name).hex.toUpperCase();
const bytesOf = (name: string): Uint8Array => Uint8Array.from(Buffer.from(value(name).hex, 'hex'));
const intOf = (name: string): bigint => hexToBigInt(value(name).hex);
const hashInputOf = (name: string): string => {
  const h = value(name).hash_input_hex;
  if (h === undefined) throw new Error(`${FILE}: value ${name} has no hash_input_hex`);
  return h.toUpperCase();
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
/** An N-octet integer printed as the RFC prints it: fixed N octets (SSK, r, s, s' in Appendix A are all 32 octets). */
const intHex = (n: bigint): string => hex(bigIntToBytes(n, ECCSI_N));
/** The RFC writes "2011-02\0tel:+447700900123\0": a C-style string with \0 for the NUL octet. */
const publishedAscii = (name: string): Uint8Array => {
  const a = value(name).ascii_as_published;
  if (a === undefined) throw new Error(`${FILE}: value ${name} has no ascii_as_published`);
  const quoted = /^"(.*)"$/s.exec(a);
  if (quoted?.[1] === undefined) throw new Error(`${FILE}: value ${name}: ascii_as_published is not a quoted string`);
  const inner = quoted[1].replace(/\\0/g, '\0');
  return new TextEncoder().encode(inner);
};

function expectCode(code: EscrowErrorCode, fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EscrowError && e.code === code, `${what}: expected ${code}`);
}

function flipBit(b: Uint8Array, byte: number, bit = 0): Uint8Array {
  const out = Uint8Array.from(b);
  out[byte] = (out[byte] ?? 0) ^ (1 << bit);
  return out;
}

// ---- the run of Appendix A, computed once by the implementation ----------------------------------------------

const KSAK = intOf('KSAK');
const ID = bytesOf('ID');
const M = bytesOf('M');
const kms = eccsiKmsKeys(KSAK);
const user = eccsiProvision(kms, ID, intOf('v'));
const validatedHS = eccsiValidateUserKey(kms.kpak, ID, user.ssk, user.pvt);
const sign = eccsiSignTrace(kms.kpak, ID, user.ssk, user.pvt, M, intOf('j'));
const verify = eccsiVerifyTrace(kms.kpak, ID, M, sign.signature);

/** name in the vector file → (expected from the file, actual from the implementation). */
const table: readonly (readonly [string, () => string, () => string])[] = [
  // RFC 6507 §4.1 static parameters and Appendix A "Global/Community parameters"
  ['n', () => plainOf('n'), () => String(ECCSI_BITS)],
  ['N', () => plainOf('N'), () => String(ECCSI_N)],
  ['p', () => hexOf('p'), () => intHex(P256_P)],
  ['Hash', () => plainOf('Hash'), () => (hex(sha256(new Uint8Array(0))) === 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' ? 'SHA-256' : 'not SHA-256')],
  ['B', () => hexOf('B'), () => intHex(P256_B)],
  ['q', () => hexOf('q'), () => intHex(P256_Q)],
  ['G', () => hexOf('G'), () => hex(encodePoint(P256_G))],
  // §4.2 KMS keys
  ['KSAK', () => hexOf('KSAK'), () => kms.ksak.toString(16).toUpperCase()],
  ['KPAK', () => hexOf('KPAK'), () => hex(kms.kpak)],
  // §5.1.1 provisioning
  ['ID', () => hexOf('ID'), () => hex(publishedAscii('ID'))],
  ['v', () => hexOf('v'), () => intOf('v').toString(16).toUpperCase()], // an input; pinned so a changed file is noticed
  ['PVT', () => hexOf('PVT'), () => hex(user.pvt)],
  ['HS input', () => hashInputOf('HS'), () => hex(eccsiHSInput(kms.kpak, ID, user.pvt))],
  ['HS', () => hexOf('HS'), () => hex(user.hs)],
  ['HS (validated, §5.1.2)', () => hexOf('HS'), () => hex(validatedHS)],
  ['SSK', () => hexOf('SSK'), () => intHex(user.ssk)],
  // §5.2.1 signing
  ['M', () => hexOf('M'), () => hex(publishedAscii('M'))],
  ['j', () => hexOf('j'), () => sign.j.toString(16).toUpperCase()],
  ['J', () => hexOf('J'), () => hex(sign.J)],
  ['r', () => hexOf('r'), () => intHex(sign.r)],
  ['HS (signer)', () => hexOf('HS'), () => hex(sign.HS)],
  ['HE input', () => hashInputOf('HE'), () => hex(eccsiHEInput(sign.HS, sign.r, M))],
  ['HE', () => hexOf('HE'), () => hex(sign.HE)],
  ["s'", () => hexOf("s'"), () => intHex(sign.sPrime)],
  ['s', () => hexOf('s'), () => intHex(sign.s)],
  ['Sig', () => hexOf('Sig'), () => hex(sign.signature)],
  // §5.2.2 verifying
  ['HS (verifier)', () => hexOf('HS'), () => hex(verify.HS ?? new Uint8Array(0))],
  ['HE (verifier)', () => hexOf('HE'), () => hex(verify.HE ?? new Uint8Array(0))],
  ['Y', () => hexOf('Y'), () => hex(verify.Y ?? new Uint8Array(0))],
  ['J_verify', () => hexOf('J_verify'), () => hex(verify.J ?? new Uint8Array(0))],
  ['Jx', () => hexOf('Jx'), () => intHex(verify.Jx ?? 0n)],
];

describe('RFC 6507 Appendix A (ECCSI test data)', () => {
  for (const [name, expected, actual] of table) {
    test(`reproduces ${name}`, () => {
      assert.equal(actual(), expected(), `RFC 6507 Appendix A value ${name}`);
    });
  }

  test('every value in the vector file is checked above', () => {
    const checked = new Set(table.map(([name]) => name));
    const unchecked = Object.keys(vectors.values).filter((k) => !checked.has(k));
    assert.deepEqual(unchecked, [], `values in ${FILE} with no assertion`);
  });

  test('the vector signature verifies (RFC 6507 §5.2.2)', () => {
    assert.equal(verify.reason, 'valid', 'verification outcome for the Appendix A signature');
    assert.equal(eccsiVerify(kms.kpak, ID, M, bytesOf('Sig')), true, 'eccsiVerify(KPAK, ID, M, Sig) from the file');
  });

  test('step 6 of §5.2.1 keeps s = s\' on P-256 (q < 2^256, so s\' always fits in N octets)', () => {
    assert.ok(P256_Q < 1n << 256n, 'q fits in N octets');
    assert.equal(sign.s, sign.sPrime, "s equals s'");
  });
});

// ---- verification negatives --------------------------------------------------------------------------------

describe('ECCSI verification rejects (RFC 6507 §5.2.2)', () => {
  const sig = bytesOf('Sig');
  const kpak = bytesOf('KPAK');
  const rAt = 0;
  const sAt = ECCSI_N;
  const pvtAt = 2 * ECCSI_N;

  const negatives: readonly (readonly [string, () => boolean])[] = [
    ['a flipped bit of M (first octet)', () => eccsiVerify(kpak, ID, flipBit(M, 0), sig)],
    ['a flipped bit of M (last octet, the NUL)', () => eccsiVerify(kpak, ID, flipBit(M, M.length - 1, 7), sig)],
    ['an extra octet appended to M', () => eccsiVerify(kpak, ID, Uint8Array.from([...M, 0]), sig)],
    ['a flipped bit of r (most significant)', () => eccsiVerify(kpak, ID, M, flipBit(sig, rAt, 7))],
    ['a flipped bit of r (least significant)', () => eccsiVerify(kpak, ID, M, flipBit(sig, rAt + ECCSI_N - 1, 0))],
    ['a flipped bit of s (most significant)', () => eccsiVerify(kpak, ID, M, flipBit(sig, sAt, 7))],
    ['a flipped bit of s (least significant)', () => eccsiVerify(kpak, ID, M, flipBit(sig, sAt + ECCSI_N - 1, 0))],
    ['a flipped bit of the PVT prefix 0x04', () => eccsiVerify(kpak, ID, M, flipBit(sig, pvtAt, 0))],
    ['a flipped bit of PVTx', () => eccsiVerify(kpak, ID, M, flipBit(sig, pvtAt + 1 + 5, 3))],
    ['a flipped bit of PVTy', () => eccsiVerify(kpak, ID, M, flipBit(sig, pvtAt + 1 + ECCSI_N + 31, 0))],
    ['a wrong ID (different phone number)', () => eccsiVerify(kpak, new TextEncoder().encode('2011-02\0tel:+447700900124\0'), M, sig)],
    ['a wrong ID (different month)', () => eccsiVerify(kpak, new TextEncoder().encode('2011-03\0tel:+447700900123\0'), M, sig)],
    ['a wrong KPAK (another KMS)', () => eccsiVerify(eccsiKmsKeys(KSAK + 1n).kpak, ID, M, sig)],
    ['s = 0', () => eccsiVerify(kpak, ID, M, Uint8Array.from([...sig.subarray(0, sAt), ...new Uint8Array(ECCSI_N), ...sig.subarray(pvtAt)]))],
    ['r = 0', () => eccsiVerify(kpak, ID, M, Uint8Array.from([...new Uint8Array(ECCSI_N), ...sig.subarray(sAt)]))],
  ];
  for (const [what, run] of negatives) {
    test(`false for ${what}`, () => {
      assert.equal(run(), false, `eccsiVerify with ${what}`);
    });
  }

  test('the PVT bit flips are rejected at step 1 (not on the curve), the r/s flips at step 6', () => {
    assert.equal(eccsiVerifyTrace(kpak, ID, M, flipBit(sig, pvtAt + 1 + 5, 3)).reason, 'pvt-not-on-curve', 'reason for flipped PVTx');
    assert.equal(eccsiVerifyTrace(kpak, ID, M, flipBit(sig, rAt, 7)).reason, 'jx-mismatch', 'reason for flipped r');
    assert.equal(eccsiVerifyTrace(kpak, ID, M, flipBit(sig, sAt, 7)).reason, 'jx-mismatch', 'reason for flipped s');
  });

  test('false for a PVT replaced by another valid point (-PVT, and [2]PVT)', () => {
    const pvt = decodePoint(bytesOf('PVT'));
    for (const [what, other] of [['-PVT', pointNegate(pvt)], ['[2]PVT', pointDouble(pvt)]] as const) {
      const forged = Uint8Array.from([...sig.subarray(0, pvtAt), ...encodePoint(other)]);
      const t = eccsiVerifyTrace(kpak, ID, M, forged);
      assert.equal(t.valid, false, `eccsiVerify with PVT replaced by ${what}`);
      assert.equal(t.reason, 'jx-mismatch', `reason with PVT replaced by ${what}`);
    }
  });

  test('ECCSI signatures are malleable in s: (r, q - s, PVT) also verifies, as the RFC 6507 §5.2.1 note permits', () => {
    // [q - s]X = -[s]X has the same x-coordinate, so step 6 accepts it. A property of the RFC, recorded here so
    // nobody builds on signature uniqueness.
    const parts = decodeEccsiSignature(sig);
    const twin = encodeEccsiSignature({ ...parts, s: ECCSI_Q - parts.s });
    assert.notDeepEqual(twin, sig, 'twin signature differs');
    assert.equal(eccsiVerify(kpak, ID, M, twin), true, 'eccsiVerify with s replaced by q - s');
  });

  test('malformed input throws typed errors', () => {
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiVerify(kpak, ID, M, sig.subarray(0, ECCSI_SIGNATURE_BYTES - 1)), 'signature one octet short');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiVerify(kpak, ID, M, Uint8Array.from([...sig, 0])), 'signature with a trailing octet');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiVerify(kpak, ID, M, new Uint8Array(0)), 'empty signature');
    expectCode('ERR_ESCROW_INVALID_POINT', () => eccsiVerify(flipBit(kpak, 10), ID, M, sig), 'KPAK not on the curve');
    expectCode('ERR_ESCROW_INVALID_POINT', () => eccsiVerify(kpak.subarray(0, 33), ID, M, sig), 'compressed-length KPAK');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiVerify(kpak, 'id' as unknown as Uint8Array, M, sig), 'ID not a Uint8Array');
    expectCode('ERR_ESCROW_INVALID_POINT', () => decodeEccsiSignature(flipBit(sig, pvtAt + 1 + 5, 3)), 'decodeEccsiSignature with PVT off the curve');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => decodeEccsiSignature(sig.subarray(1)), 'decodeEccsiSignature one octet short');
  });

  test('encodeEccsiSignature(decodeEccsiSignature(Sig)) = Sig', () => {
    assert.deepEqual(encodeEccsiSignature(decodeEccsiSignature(sig)), sig, 'Sig round trip');
  });
});

// ---- KMS key material -----------------------------------------------------------------------------------

describe('KMS key provisioning and validation (RFC 6507 §4.2, §5.1)', () => {
  const kpak = bytesOf('KPAK');
  const pvt = bytesOf('PVT');
  const ssk = intOf('SSK');

  test('the Appendix A (SSK, PVT) validates and yields HS', () => {
    assert.equal(hex(eccsiValidateUserKey(kpak, ID, ssk, pvt)), hexOf('HS'), 'HS returned by validation');
  });

  test('a wrong SSK, ID, KPAK or PVT fails validation with ERR_ESCROW_INVALID_SIGNATURE', () => {
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiValidateUserKey(kpak, ID, ssk + 1n, pvt), 'SSK + 1');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiValidateUserKey(kpak, new TextEncoder().encode('2011-03\0tel:+447700900123\0'), ssk, pvt), 'another month');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiValidateUserKey(eccsiKmsKeys(KSAK + 1n).kpak, ID, ssk, pvt), 'another KMS');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiValidateUserKey(kpak, ID, ssk, encodePoint(multiplyBase(intOf('v') + 1n))), 'another PVT');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiValidateUserKey(kpak, ID, 0n, pvt), 'SSK = 0');
    expectCode('ERR_ESCROW_INVALID_SIGNATURE', () => eccsiValidateUserKey(kpak, ID, ssk + P256_Q, pvt), 'SSK not reduced mod q');
  });

  test('a PVT or KPAK that is not a point on E fails with ERR_ESCROW_INVALID_POINT', () => {
    expectCode('ERR_ESCROW_INVALID_POINT', () => eccsiValidateUserKey(kpak, ID, ssk, flipBit(pvt, 40)), 'PVT off the curve');
    expectCode('ERR_ESCROW_INVALID_POINT', () => eccsiValidateUserKey(flipBit(kpak, 40), ID, ssk, pvt), 'KPAK off the curve');
  });

  test('scalars outside [1, q-1] are ERR_ESCROW_ARGUMENT', () => {
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiKmsKeys(0n), 'KSAK = 0');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiKmsKeys(P256_Q), 'KSAK = q');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiProvision(kms, ID, 0n), 'v = 0');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiSign(kpak, ID, ssk, pvt, M, 0n), 'j = 0');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiSign(kpak, ID, ssk, pvt, M, P256_Q), 'j = q');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiProvision({ ksak: KSAK, kpak: eccsiKmsKeys(KSAK + 1n).kpak }, ID, 1n), 'KPAK not [KSAK]G');
  });

  test('random scalars: zero and ≥ q draws are redrawn; an rng that never yields one fails', () => {
    const draws = [new Uint8Array(32), new Uint8Array(32).fill(0xff), bigIntToBytes(7n, 32)];
    assert.equal(eccsiRandomScalar(() => draws.shift() ?? new Uint8Array(32)), 7n, 'third draw is used');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiRandomScalar(() => new Uint8Array(32)), 'all-zero rng');
    expectCode('ERR_ESCROW_ARGUMENT', () => eccsiRandomScalar(() => new Uint8Array(31)), 'short rng output');
  });

  test('secret scalars do not print through util.inspect', () => {
    const printedKms = inspect(kms);
    const printedUser = inspect(user);
    assert.equal(printedKms, 'EccsiKmsKeys { ksak: [redacted], … }', 'inspect(EccsiKmsKeys)');
    assert.equal(printedUser, 'EccsiUserKey { ssk: [redacted], … }', 'inspect(EccsiUserKey)');
    assert.ok(!printedUser.includes(user.ssk.toString()) && !printedUser.toLowerCase().includes(user.ssk.toString(16)), 'SSK digits absent');
  });
});

// ---- random round trips -----------------------------------------------------------------------------------

describe('ECCSI random round trips (seeded)', () => {
  const rng = seededRng('escrow/eccsi round trips');
  for (let i = 0; i < 6; i++) {
    test(`round trip #${i}`, () => {
      const k = eccsiGenerateKms(rng);
      const id = new TextEncoder().encode(`2026-${String(1 + i).padStart(2, '0')}\0tel:+4477009${String(i).padStart(5, '0')}\0`);
      const u = eccsiProvision(k, id, rng);
      assert.deepEqual(eccsiValidateUserKey(k.kpak, id, u.ssk, u.pvt), u.hs, `round trip #${i}: HS from validation`);
      const msg = rng(1 + i * 37);
      const sig = eccsiSign(k.kpak, id, u.ssk, u.pvt, msg, rng);
      assert.equal(sig.length, ECCSI_SIGNATURE_BYTES, `round trip #${i}: signature length`);
      assert.equal(eccsiVerify(k.kpak, id, msg, sig), true, `round trip #${i}: verify`);
      assert.equal(eccsiVerify(k.kpak, id, flipBit(msg, msg.length - 1), sig), false, `round trip #${i}: verify with M tampered`);
      assert.equal(eccsiVerify(k.kpak, id, msg, flipBit(sig, i)), false, `round trip #${i}: verify with r tampered`);
      assert.equal(eccsiVerify(k.kpak, id, msg, flipBit(sig, ECCSI_N + i)), false, `round trip #${i}: verify with s tampered`);
    });
  }
});

// ---- the escrow property (what the scorecard demonstrates) --------------------------------------------------

describe('escrow: a KMS holding KSAK derives any user key and signs as anyone', () => {
  test('with the v it used, the KMS recomputes exactly the SSK the user holds', () => {
    const again = eccsiKmsDeriveUserKey(KSAK, ID, intOf('v'));
    assert.equal(intHex(again.ssk), hexOf('SSK'), 'SSK rederived by the KMS');
    assert.equal(hex(again.pvt), hexOf('PVT'), 'PVT rederived by the KMS');
  });

  test('with a fresh v, the KMS mints a different key for the same user (and a future month) that verifies all the same', () => {
    const rng = seededRng('escrow/eccsi kms forgery');
    for (const id of [ID, new TextEncoder().encode('2031-12\0tel:+447700900123\0')]) {
      const minted = eccsiKmsDeriveUserKey(KSAK, id, rng);
      assert.notEqual(minted.ssk, user.ssk, 'minted SSK differs from the user\'s');
      const forged = eccsiSign(kms.kpak, id, minted.ssk, minted.pvt, new TextEncoder().encode('transfer everything'), rng);
      assert.equal(eccsiVerify(kms.kpak, id, new TextEncoder().encode('transfer everything'), forged), true, 'KMS-forged signature verifies for the user\'s ID');
    }
  });
});

// ---- P-256 and bigint helpers -------------------------------------------------------------------------------

describe('internal/p256 and internal/bigint', () => {
  test('G is on the curve; [q]G = 0; [q-1]G = -G; [q+1]G = G', () => {
    assert.ok(isOnCurve(P256_G), 'G on curve');
    assert.equal(multiplyBase(P256_Q), null, '[q]G');
    assert.ok(pointEquals(multiplyBase(P256_Q - 1n), pointNegate(P256_G)), '[q-1]G');
    assert.ok(pointEquals(multiplyBase(P256_Q + 1n), P256_G), '[q+1]G');
    assert.equal(multiplyBase(0n), null, '[0]G');
  });

  test('add/double agree with each other and with the identity', () => {
    const g2 = pointDouble(P256_G);
    assert.ok(pointEquals(pointAdd(P256_G, P256_G), g2), 'G + G = [2]G');
    assert.ok(pointEquals(pointAdd(g2, P256_G), multiplyBase(3n)), '[2]G + G = [3]G');
    assert.ok(pointEquals(pointAdd(null, P256_G), P256_G), '0 + G');
    assert.ok(pointEquals(pointMultiply(5n, g2), multiplyBase(10n)), '[5]([2]G) = [10]G');
    assert.equal(pointMultiply(7n, null), null, '[7]0');
    assert.equal(pointAdd(P256_G, pointNegate(P256_G)), null, 'G + (-G)');
  });

  test('[k]G matches node:crypto (OpenSSL) for seeded random k', () => {
    const rng = seededRng('escrow/p256 vs openssl');
    for (let i = 0; i < 8; i++) {
      const k = eccsiRandomScalar(rng);
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(bigIntToBytes(k, 32)));
      assert.equal(hex(encodePoint(multiplyBase(k))), hex(ecdh.getPublicKey()), `[k]G #${i}`);
    }
  });

  test('decodePoint is strict', () => {
    const g = encodePoint(P256_G);
    assert.ok(pointEquals(decodePoint(g), P256_G), 'decode(encode(G))');
    expectCode('ERR_ESCROW_INVALID_POINT', () => decodePoint(g.subarray(0, 33)), 'compressed length');
    expectCode('ERR_ESCROW_INVALID_POINT', () => decodePoint(Uint8Array.from([0x02, ...g.subarray(1)])), 'prefix 0x02');
    expectCode('ERR_ESCROW_INVALID_POINT', () => decodePoint(Uint8Array.from([0x00])), 'identity encoding 0x00');
    expectCode('ERR_ESCROW_INVALID_POINT', () => decodePoint(Uint8Array.from([...g, 0])), 'trailing octet');
    expectCode('ERR_ESCROW_INVALID_POINT', () => decodePoint(flipBit(g, 64)), 'not on the curve');
    // A coordinate ≥ p is rejected as non-canonical before the curve equation is even evaluated.
    const xIsP = Uint8Array.from([0x04, ...bigIntToBytes(P256_P, 32), ...bigIntToBytes(P256_G.y, 32)]);
    assert.throws(() => decodePoint(xIsP), (e: unknown) => e instanceof EscrowError && e.code === 'ERR_ESCROW_INVALID_POINT' && /not reduced/.test(e.message), 'x = p');
    const yPlusP = Uint8Array.from([0x04, ...bigIntToBytes(P256_G.x, 32), ...new Uint8Array(32).fill(0xff)]);
    assert.throws(() => decodePoint(yPlusP), (e: unknown) => e instanceof EscrowError && e.code === 'ERR_ESCROW_INVALID_POINT' && /not reduced/.test(e.message), 'y = 2^256 - 1');
    expectCode('ERR_ESCROW_INVALID_POINT', () => encodePoint(null), 'encode the identity');
  });

  test('bigint helpers', () => {
    assert.equal(mod(-1n, 7n), 6n, 'mod(-1, 7)');
    assert.equal(modPow(3n, P256_Q - 1n, P256_Q), 1n, 'Fermat: 3^(q-1) mod q');
    assert.equal(mod(modInv(12345n, P256_Q) * 12345n, P256_Q), 1n, 'modInv(12345) mod q');
    expectCode('ERR_ESCROW_ARGUMENT', () => modInv(0n, P256_Q), 'modInv(0)');
    expectCode('ERR_ESCROW_ARGUMENT', () => modInv(6n, 9n), 'modInv(6, 9)');
    assert.equal(bytesToBigInt(bigIntToBytes(0x0102n, 4)), 0x0102n, 'bytes round trip');
    assert.deepEqual(bigIntToBytes(0x0102n, 4), Uint8Array.from([0, 0, 1, 2]), 'fixed-length big-endian');
    expectCode('ERR_ESCROW_ARGUMENT', () => bigIntToBytes(256n, 1), 'overflowing length');
    expectCode('ERR_ESCROW_ARGUMENT', () => bigIntToBytes(-1n, 1), 'negative');
    expectCode('ERR_ESCROW_ARGUMENT', () => hexToBigInt('xyz'), 'hexToBigInt of non-hex');
  });
});
