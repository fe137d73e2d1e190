// SAKKE, the Sakai-Kasahara Key Encryption of RFC 6508 (§6), with Parameter Set 1 of RFC 6509 Appendix A
// (n = 128, 1024-bit p, SHA-256) — the key transport of MIKEY-SAKKE.
//
// THIS IS A KEY-ESCROW SYSTEM, AND THAT IS WHY IT IS HERE. A receiver's secret key is
// K_(a,T) = [(a + z_T)^-1]P (§6.1.1): a function of nothing but the public identifier 'a' and the KMS master
// secret z_T. In MIKEY-SAKKE the identifier is "YYYY-MM" || 0x00 || URI || 0x00 (RFC 6509 §3.2), so whoever
// holds z_T can compute the receiver key of ANY user for ANY period — past, present or future — without that
// user's participation, and so can decapsulate every SSV ever sent to anyone it provisions (and every SSV
// that will be). Nothing a user does can revoke this. `sakkeKmsDecapsulate` makes the capability an explicit
// API call; Sotto's scorecard attacks exactly this property. Nothing in Sotto uses this package to protect
// anything.
//
// NOT constant-time, deliberately: it is a readable from-the-RFC counter-example that never protects a
// secret, so all arithmetic is plain bigint (src/internal/bigint.ts, fp2.ts, sakke-curve.ts,
// tate-pairing.ts) and secrets are not wiped. Numbered trailing comments are the RFC's steps.
import { EscrowError } from './errors.ts';
import { bigIntToBytes, bitLength, bytesToBigInt, concatBytes, mod, modInv } from './internal/bigint.ts';
import { pfpPow } from './internal/fp2.ts';
import { hashToIntegerRange, SAKKE_SHA256 } from './internal/hash-to-integer-range.ts';
import {
  decodePoint,
  encodePoint,
  isInSubgroup,
  isOnCurve,
  pointAdd,
  pointEquals,
  pointLength,
  SAKKE_PARAMETER_SET_1,
  scalarMultiply,
  type SakkeParameters,
  type SakkePoint,
} from './internal/sakke-curve.ts';
import { tatePairing as tatePairingWith } from './internal/tate-pairing.ts';

export { SAKKE_PARAMETER_SET_1, type SakkeParameters, type SakkePoint } from './internal/sakke-curve.ts';
export { hashToIntegerRange } from './internal/hash-to-integer-range.ts';

/** Random octets (the same shape as @sotto/protocol's injected Rng). */
export type SakkeRng = (length: number) => Uint8Array;

// The one parameter set this package implements (STYLE.md §15: no knobs). RFC 6509 Appendix A.
const PARAMS: SakkeParameters = SAKKE_PARAMETER_SET_1;
/** Octet length of an SSV and of H: n/8 (§2.2: the SSV is an integer in [0, 2^n); §4 integer encoding). */
export const SAKKE_SSV_LENGTH = PARAMS.n / 8;
/**
 * Octet length of the Encapsulated Data, 0x04 || R_x || R_y || H (§4). §4 says "2*L + n + 1 octets", with n
 * meaning n/8 octets: 2*128 + 1 + 16 = 273.
 */
export const SAKKE_ENCAPSULATED_DATA_LENGTH = pointLength(PARAMS) + SAKKE_SSV_LENGTH;

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** Secret-holding objects print a fixed marker, never key material (STYLE.md §10). */
abstract class RedactedSecret {
  protected abstract readonly kind: string;
  toString(): string {
    return `[${this.kind}: redacted]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspectCustom](): string {
    return this.toString();
  }
}

/**
 * A KMS key pair (§2.2): master secret z_T in [2, q-1] and public key Z_T = [z_T]P. The master secret alone
 * yields every receiver key (sakkeReceiverKey) and hence every SSV (sakkeKmsDecapsulate): the escrow.
 */
class KmsKeys extends RedactedSecret {
  protected readonly kind = 'SakkeKmsKeys';
  /** Z_T = [z_T]P, the KMS Public Key (§2.2), a point of order q. */
  readonly Z: SakkePoint;
  readonly #z: bigint;

  constructor(z: bigint, Z: SakkePoint) {
    super();
    this.#z = z;
    this.Z = Z;
  }

  /** The master secret z_T. Exposed on purpose: this is an escrow counter-example. */
  get z(): bigint {
    return this.#z;
  }
}
/** Only sakkeKmsKeys / sakkeGenerateKms construct one (the class itself is not exported). */
export type SakkeKmsKeys = KmsKeys;

/**
 * A Receiver Secret Key K_(a,T) (§2.2) bound to its identifier 'a' and to the KMS public key Z_T it was
 * derived or validated under. Obtained only from the KMS (sakkeReceiverKey) or from validating a
 * provisioned key (sakkeValidateReceiverKey), so a decapsulating receiver always holds a checked key.
 */
class ReceiverSecretKey extends RedactedSecret {
  protected readonly kind = 'SakkeReceiverSecretKey';
  readonly identifier: Uint8Array;
  readonly Z: SakkePoint;
  readonly #K: SakkePoint;

  constructor(identifier: Uint8Array, Z: SakkePoint, K: SakkePoint) {
    super();
    this.identifier = identifier.slice();
    this.Z = Z;
    this.#K = K;
  }

  /** The point K_(a,T) (secret). */
  get K(): SakkePoint {
    return this.#K;
  }

  /** The §4 encoding 0x04 || K_x || K_y, as a KMS would provision it. */
  encode(): Uint8Array {
    return encodePoint(this.#K, PARAMS);
  }
}
/** Only sakkeReceiverKey / sakkeValidateReceiverKey construct one (the class itself is not exported). */
export type SakkeReceiverSecretKey = ReceiverSecretKey;

/**
 * An Identifier as an integer (§2.2: "an integer in the range 2 to q-1"; §6.2: "Identifiers are to be
 * interpreted as integers"). The octets are the application's identifier — for MIKEY-SAKKE the identity
 * string "YYYY-MM\0URI\0" itself (RFC 6509 §3.2), as in RFC 6508 Appendix A — read big-endian.
 * Stricter than the RFC: a leading 0x00 octet is rejected, so each integer has exactly one octet string and
 * SSV || b (§6.2.1 step 2) is unambiguous.
 */
export function sakkeIdentifierToInteger(identifier: Uint8Array): bigint {
  if (identifier.length === 0 || identifier[0] === 0) {
    throw new EscrowError('ERR_ESCROW_ARGUMENT', `identifier must be a non-empty octet string without a leading zero octet, got ${identifier.length} octets`);
  }
  const a = bytesToBigInt(identifier);
  if (a < 2n || a > PARAMS.q - 1n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'identifier must be an integer in [2, q-1] (RFC 6508 §2.2)');
  return a;
}

function checkKmsPublicKey(Z: SakkePoint): void {
  if (!isInSubgroup(Z, PARAMS)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'KMS public key Z is not a point of E(F_p)[q] (RFC 6508 §2.2)');
}

/** [a]P + Z, the point every SAKKE operation for identifier 'a' multiplies (§6.1.2, §6.2.1 step 3). */
function identifierPoint(a: bigint, Z: SakkePoint): SakkePoint {
  const aP = scalarMultiply(a, PARAMS.P, PARAMS.p);
  const sum = aP === null ? Z : pointAdd(aP, Z, PARAMS.p);
  if (sum === null) throw new EscrowError('ERR_ESCROW_ARGUMENT', '[a]P + Z is the point at infinity (a + z = 0 mod q)');
  return sum;
}

// ---------------------------------------------------------------------------------------------------------
// §3.2 — the pairing
// ---------------------------------------------------------------------------------------------------------

/**
 * <R,Q> (RFC 6508 §3.2) as its F_p representative in PF_p[q], for R and Q in E(F_p)[q]; <P,P> = g.
 * Throws ERR_ESCROW_INVALID_POINT when either point is not of order q.
 */
export function tatePairing(R: SakkePoint, Q: SakkePoint): bigint {
  if (!isOnCurve(R, PARAMS.p)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'pairing input R is not on the curve');
  if (!isInSubgroup(Q, PARAMS)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'pairing input Q is not a point of E(F_p)[q]');
  return tatePairingWith(R, Q, PARAMS); // R's subgroup membership is checked by the Miller loop itself
}

// ---------------------------------------------------------------------------------------------------------
// §6.1 — KMS setup, secret key extraction and user provisioning
// ---------------------------------------------------------------------------------------------------------

/** KMS key pair from a given master secret z_T in [2, q-1]: Z_T = [z_T]P (§6.1). */
export function sakkeKmsKeys(z: bigint): SakkeKmsKeys {
  if (z < 2n || z > PARAMS.q - 1n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'KMS master secret must be in [2, q-1] (RFC 6508 §2.2)');
  const Z = scalarMultiply(z, PARAMS.P, PARAMS.p); // Z_T = [z_T]P (§6.1)
  if (Z === null) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'KMS public key is the point at infinity'); // unreachable for z in [2, q-1]
  return new KmsKeys(z, Z);
}

/** A fresh KMS key pair: "MUST randomly select a value in the range 2 to q-1" (§6.1), by rejection sampling. */
export function sakkeGenerateKms(rng: SakkeRng): SakkeKmsKeys {
  const bits = bitLength(PARAMS.q);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    const z = bytesToBigInt(rng(Math.ceil(bits / 8))) & mask;
    if (z >= 2n && z <= PARAMS.q - 1n) return sakkeKmsKeys(z);
  }
}

/**
 * Secret Key Extraction (§6.1.1): K_(a,T) = [(a + z_T)^-1 mod q]P.
 * THE ESCROW: this needs only the KMS master secret and the (public) identifier. The KMS can run it for any
 * user and any period, at any time, without the user — so it can read every SSV sent to that identifier.
 */
export function sakkeReceiverKey(kms: SakkeKmsKeys, identifier: Uint8Array): SakkeReceiverSecretKey {
  const a = sakkeIdentifierToInteger(identifier); // 'a' is interpreted as an integer
  const s = mod(a + kms.z, PARAMS.q);
  if (s === 0n) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'a + z_T = 0 mod q: no receiver key exists for this identifier');
  const K = scalarMultiply(modInv(s, PARAMS.q), PARAMS.P, PARAMS.p); // the inversion is performed modulo q
  if (K === null) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'receiver key is the point at infinity'); // unreachable: 0 < (a+z)^-1 < q
  return new ReceiverSecretKey(identifier, kms.Z, K);
}

/**
 * User Provisioning check (§6.1.2): "Upon receipt of key material, each user MUST verify its RSK" by
 * checking < [a]P + Z, K_(a,T) > = g. Returns the validated key.
 * ERR_ESCROW_INVALID_POINT when Z or K is not a point of E(F_p)[q];
 * ERR_ESCROW_INVALID_ENCAPSULATION when the pairing check fails.
 */
export function sakkeValidateReceiverKey(Z: SakkePoint, identifier: Uint8Array, K: SakkePoint): SakkeReceiverSecretKey {
  const a = sakkeIdentifierToInteger(identifier);
  checkKmsPublicKey(Z);
  if (!isInSubgroup(K, PARAMS)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'receiver secret key K is not a point of E(F_p)[q]');
  const lhs = tatePairingWith(identifierPoint(a, Z), K, PARAMS); // < [a]P + Z, K_(a,T) >
  if (lhs !== PARAMS.g) throw new EscrowError('ERR_ESCROW_INVALID_ENCAPSULATION', 'receiver secret key fails < [a]P + Z, K > = g (RFC 6508 §6.1.2)');
  return new ReceiverSecretKey(identifier, Z, K);
}

// ---------------------------------------------------------------------------------------------------------
// §6.2.1 — Sender
// ---------------------------------------------------------------------------------------------------------

/** Every value the Sender computes, so tests can compare each with RFC 6508 Appendix A. @internal */
export interface SakkeSenderTrace {
  readonly ssv: Uint8Array;
  readonly r: bigint;
  readonly R: SakkePoint;
  /** g^r in PF_p[q], as its F_p representative. */
  readonly gr: bigint;
  readonly mask: Uint8Array;
  readonly H: Uint8Array;
  readonly encapsulatedData: Uint8Array;
}

/** What a Sender gets back: the Encapsulated Data to transmit and the SSV to key its application with. */
export interface SakkeEncapsulation {
  /** 0x04 || R_x || R_y || H, SAKKE_ENCAPSULATED_DATA_LENGTH octets (§4). */
  readonly encapsulatedData: Uint8Array;
  /** The SSV (§6.2.1 step 6), SAKKE_SSV_LENGTH octets. */
  readonly ssv: Uint8Array;
}

/** §6.2.1 step 1: "Select a random ephemeral integer value for the SSV in the range 0 to 2^n - 1". */
export function sakkeGenerateSsv(rng: SakkeRng): Uint8Array {
  const ssv = rng(SAKKE_SSV_LENGTH);
  if (ssv.length !== SAKKE_SSV_LENGTH) throw new EscrowError('ERR_ESCROW_ARGUMENT', `rng returned ${ssv.length} octets, expected ${SAKKE_SSV_LENGTH}`);
  return ssv.slice();
}

/** The mask HashToIntegerRange( g^r, 2^n, Hash ) as n/8 octets (§6.2.1 step 4b, §6.2.2 step 3). */
function ssvMask(gr: bigint): Uint8Array {
  const mask = hashToIntegerRange(bigIntToBytes(gr, PARAMS.L), 1n << BigInt(PARAMS.n), SAKKE_SHA256); // g^r as an L-octet PF_p element (§4)
  return bigIntToBytes(mask, SAKKE_SSV_LENGTH);
}

function xor(x: Uint8Array, y: Uint8Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] ?? 0) ^ (y[i] ?? 0);
  return out;
}

/** §6.2.1 with every intermediate (tests). @internal */
export function sakkeEncapsulateTrace(Z: SakkePoint, identifier: Uint8Array, ssv: Uint8Array): SakkeSenderTrace {
  const b = sakkeIdentifierToInteger(identifier);
  checkKmsPublicKey(Z);
  if (ssv.length !== SAKKE_SSV_LENGTH) throw new EscrowError('ERR_ESCROW_ARGUMENT', `SSV must be ${SAKKE_SSV_LENGTH} octets, got ${ssv.length}`);
  // 1) the SSV is injected (sakkeGenerateSsv selects it at random)
  const r = hashToIntegerRange(concatBytes(ssv, identifier), PARAMS.q, SAKKE_SHA256); // 2) r = HashToIntegerRange( SSV || b, q, Hash )
  const R = scalarMultiply(r, identifierPoint(b, Z), PARAMS.p); // 3) R_(b,S) = [r]([b]P + Z_S)
  if (R === null) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'R is the point at infinity (r = 0); choose another SSV'); // probability ~2^-1022
  const gr = pfpPow(PARAMS.g, r, PARAMS.p); // 4a) g^r with the PF_p[q] product of §2.1
  const mask = ssvMask(gr);
  const H = xor(ssv, mask); // 4b) H := SSV XOR HashToIntegerRange( g^r, 2^n, Hash )
  const encapsulatedData = concatBytes(encodePoint(R, PARAMS), H); // 5) Encapsulated Data ( R_(b,S), H ), §4 encoding
  return { ssv: ssv.slice(), r, R, gr, mask, H, encapsulatedData }; // 6) output SSV
}

/**
 * Sender (§6.2.1): Encapsulated Data carrying `ssv` (n/8 octets) to the receiver with `identifier` under the
 * KMS public key Z. Note that the same Z lets the KMS read it back (sakkeKmsDecapsulate).
 */
export function sakkeEncapsulate(Z: SakkePoint, identifier: Uint8Array, ssv: Uint8Array): SakkeEncapsulation {
  const { encapsulatedData, ssv: out } = sakkeEncapsulateTrace(Z, identifier, ssv);
  return { encapsulatedData, ssv: out };
}

// ---------------------------------------------------------------------------------------------------------
// §6.2.2 — Receiver
// ---------------------------------------------------------------------------------------------------------

/** Every value the Receiver computes (tests). @internal */
export interface SakkeReceiverTrace {
  readonly R: SakkePoint;
  readonly H: Uint8Array;
  readonly w: bigint;
  readonly ssv: Uint8Array;
  readonly r: bigint;
  readonly TEST: SakkePoint;
}

function invalid(message: string): EscrowError {
  return new EscrowError('ERR_ESCROW_INVALID_ENCAPSULATION', message);
}

/** §6.2.2 with every intermediate (tests). Any malformed or inauthentic input is ERR_ESCROW_INVALID_ENCAPSULATION. @internal */
export function sakkeDecapsulateTrace(rsk: SakkeReceiverSecretKey, encapsulatedData: Uint8Array): SakkeReceiverTrace {
  const b = sakkeIdentifierToInteger(rsk.identifier);
  // 1) Parse the Encapsulated Data ( R_(b,S), H ): exactly 2L+1 + n/8 octets, R a point on E
  if (encapsulatedData.length !== SAKKE_ENCAPSULATED_DATA_LENGTH) {
    throw invalid(`expected ${SAKKE_ENCAPSULATED_DATA_LENGTH} octets of encapsulated data, got ${encapsulatedData.length}`);
  }
  const cut = pointLength(PARAMS);
  let R: SakkePoint;
  let w: bigint;
  try {
    R = decodePoint(encapsulatedData.subarray(0, cut), PARAMS);
    w = tatePairingWith(R, rsk.K, PARAMS); // 2) w := < R_(b,S), K_(b,S) > (the Miller loop rejects R outside E(F_p)[q])
  } catch (e) {
    if (e instanceof EscrowError && e.code === 'ERR_ESCROW_INVALID_POINT') throw invalid(`R_(b,S): ${e.message}`);
    throw e;
  }
  const H = encapsulatedData.slice(cut);
  const ssv = xor(H, ssvMask(w)); // 3) SSV = H XOR HashToIntegerRange( w, 2^n, Hash )
  const r = hashToIntegerRange(concatBytes(ssv, rsk.identifier), PARAMS.q, SAKKE_SHA256); // 4) r = HashToIntegerRange( SSV || b, q, Hash )
  const TEST = scalarMultiply(r, identifierPoint(b, rsk.Z), PARAMS.p); // 5) TEST = [r]([b]P + Z_S)
  if (TEST === null || !pointEquals(TEST, R)) throw invalid('TEST != R_(b,S) (RFC 6508 §6.2.2 step 5): the SSV must not be used'); // B MUST NOT use the SSV
  return { R, H, w, ssv, r, TEST }; // 6) output SSV
}

/**
 * Receiver (§6.2.2): the SSV from Encapsulated Data, with the receiver's validated RSK (which carries the
 * identifier 'b' and KMS public key Z_S). ERR_ESCROW_INVALID_ENCAPSULATION for anything malformed or for a
 * failed TEST = R check.
 */
export function sakkeDecapsulate(rsk: SakkeReceiverSecretKey, encapsulatedData: Uint8Array): Uint8Array {
  return sakkeDecapsulateTrace(rsk, encapsulatedData).ssv;
}

/**
 * THE ESCROW, as one call: the KMS recovers the SSV of ANY Encapsulated Data sent to ANY identifier it
 * provisions — for any period, past or future — from its master secret alone (§6.1.1 then §6.2.2). No
 * receiver key has to be issued, requested or compromised.
 */
export function sakkeKmsDecapsulate(kms: SakkeKmsKeys, identifier: Uint8Array, encapsulatedData: Uint8Array): Uint8Array {
  return sakkeDecapsulate(sakkeReceiverKey(kms, identifier), encapsulatedData);
}

/** §4 point encoding (0x04 || x || y) of a public point such as Z_T or R_(b,S). */
export function encodeSakkePoint(P: SakkePoint): Uint8Array {
  return encodePoint(P, PARAMS);
}

/** Strict §4 point decoder that also requires order q (for Z_T and provisioned K). ERR_ESCROW_INVALID_POINT. */
export function decodeSakkePoint(bytes: Uint8Array): SakkePoint {
  const P = decodePoint(bytes, PARAMS);
  if (!isInSubgroup(P, PARAMS)) throw new EscrowError('ERR_ESCROW_INVALID_POINT', 'point is not in the order-q subgroup E(F_p)[q]');
  return P;
}
