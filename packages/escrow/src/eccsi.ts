// ECCSI — Elliptic Curve-Based Certificateless Signatures for Identity-Based Encryption, RFC 6507,
// instantiated as RFC 6507 Appendix A and RFC 6509 §2.1 do: NIST P-256 with SHA-256 (n = 256, N = 32).
//
// THE ESCROW PROPERTY (what the scorecard attacks). The KMS holds the master secret KSAK (RFC 6507 §4.2) and
// every user's Secret Signing Key is SSK = (KSAK + HS·v) mod q (RFC 6507 §5.1.1), where v is the KMS's own
// ephemeral. So the KMS — or anyone who obtains KSAK — can, at any time, without the user and without any
// trace the verifier could see:
//   * mint a valid (SSK, PVT) pair for ANY identifier, i.e. for any user and any month (RFC 6509 identifiers
//     are "YYYY-MM\0tel:+…\0", so future months can be minted in advance): `eccsiKmsDeriveUserKey`;
//   * recompute a given user's exact SSK whenever it still has (or re-derives) that user's v;
//   * therefore sign any message as any user: a signature made with a KMS-minted pair verifies against the
//     user's identifier and the community KPAK exactly like one the user made (`eccsiVerify` cannot tell them
//     apart — the PVT inside the signature is not bound to anything the user controls).
// Provisioning and "KMS derives a user key" are literally the same function; that is the point.
//
// Not constant-time, deliberately (bigint arithmetic, double-and-add): this package is a counter-example that
// never protects anything. Secret scalars are plain bigints; they are kept out of util.inspect output, and
// JSON.stringify throws on bigint, but JavaScript cannot wipe them (see README "Memory hygiene").
//
// Representations (RFC 6507 §3.2): integers and F_p elements are N-octet big-endian strings; points are
// 0x04 || x' || y' (2N+1 octets). A Signature is r || s || PVT, 4N+1 octets (RFC 6507 §3.3). Identifiers and
// messages are opaque byte strings (RFC 6507 §4.1 "Identifiers"; RFC 6509 §3.2 fixes their format).
import { sha256 } from '@noble/hashes/sha2.js';
import { EscrowError } from './errors.ts';
import { bigIntToBytes, bytesToBigInt, concatBytes, mod, modInv } from './internal/bigint.ts';
import {
  P256_BITS,
  P256_G,
  P256_N,
  P256_P,
  P256_POINT_BYTES,
  P256_Q,
  decodePoint,
  encodePoint,
  multiplyBase,
  pointAdd,
  pointMultiply,
  type AffinePoint,
} from './internal/p256.ts';

/** n: the size of p in bits (RFC 6507 §4.1; Appendix A n := 256). */
export const ECCSI_BITS = P256_BITS;
/** N: octets in r, s, HS, HE and every integer or F_p element on the wire (RFC 6507 §4.1). */
export const ECCSI_N = P256_N;
/** Length of an encoded point (KPAK, PVT, J): 2N+1 (RFC 6507 §3.2). */
export const ECCSI_POINT_BYTES = P256_POINT_BYTES;
/** Signature = r || s || PVT: 4N+1 octets (RFC 6507 §3.3). */
export const ECCSI_SIGNATURE_BYTES = 4 * ECCSI_N + 1;
/** q: the order of G; secret scalars (KSAK, v, SSK, j) live in [1, q-1] (RFC 6507 §4.1). */
export const ECCSI_Q = P256_Q;
/** The canonical encoding of G, the first input of HS (RFC 6507 §5.1.1 step 3). */
const G_BYTES = encodePoint(P256_G);
/**
 * How many fresh values a random draw (KSAK, v, j) may take before giving up. The rejections (a value ≥ q or 0,
 * SSK or HS ≡ 0, HE + r·SSK ≡ 0) each happen with probability < 2^-32 on P-256, so reaching this bound means
 * the Rng is broken, not unlucky; failing beats looping forever.
 */
const MAX_RANDOM_ATTEMPTS = 64;

/** Randomness source: returns `length` fresh random octets (same shape as @sotto/test-support's Rng). */
export type Rng = (length: number) => Uint8Array;

/** The KMS's master key pair: KSAK (secret, never leaves the KMS) and KPAK = [KSAK]G (RFC 6507 §4.2). */
export interface EccsiKmsKeys {
  /** KMS Secret Authentication Key, a non-zero integer modulo q. THE escrow secret. */
  readonly ksak: bigint;
  /** KMS Public Authentication Key, 0x04 || x || y: the community's root of trust. */
  readonly kpak: Uint8Array;
}

/** A user's key material as the KMS issues it (RFC 6507 §5.1). */
export interface EccsiUserKey {
  /** Secret Signing Key, an integer in [1, q-1]; known to the user AND the KMS. */
  readonly ssk: bigint;
  /** Public Validation Token PVT = [v]G, 0x04 || x || y; travels inside every signature. */
  readonly pvt: Uint8Array;
  /** HS = hash(G || KPAK || ID || PVT), N octets; RFC 6507 §5.1.2 step 2 says to store it with the SSK. */
  readonly hs: Uint8Array;
}

/** The parsed fields of Signature = r || s || PVT (RFC 6507 §3.3). */
export interface EccsiSignatureParts {
  /** N-octet integer: Jx of J = [j]G. May in principle equal or exceed p (RFC 6507 §3.3 note). */
  readonly r: bigint;
  /** N-octet integer: s' or q - s' (RFC 6507 §5.2.1 step 6). */
  readonly s: bigint;
  /** The signer's PVT, checked to be on the curve. */
  readonly pvt: AffinePoint;
}

// ---------------------------------------------------------------------------------------------------------
// Shared helpers

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Keeps a secret-holding plain object from printing its secret field through util.inspect / console.log. */
function hideSecret<T extends object>(obj: T, label: string, secretField: keyof T & string): T {
  Object.defineProperty(obj, INSPECT, {
    enumerable: false,
    value: () => `${label} { ${secretField}: [redacted], … }`,
  });
  return Object.freeze(obj);
}

function requireBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new EscrowError('ERR_ESCROW_ARGUMENT', `${what}: expected a Uint8Array`);
}

/** A secret scalar must be a "non-zero integer modulo q", i.e. in [1, q-1] (RFC 6507 §4.2, §5.1.1, §5.2.1). */
function requireScalar(value: unknown, what: string): asserts value is bigint {
  if (typeof value !== 'bigint') throw new EscrowError('ERR_ESCROW_ARGUMENT', `${what}: expected a bigint`);
  if (value <= 0n || value >= ECCSI_Q) throw new EscrowError('ERR_ESCROW_ARGUMENT', `${what}: expected an integer in [1, q-1]`);
}

/**
 * A random non-zero element of F_q by rejection sampling over N-octet strings (uniform; P-256's q is within
 * 2^-32 of 2^256, so a redraw is rare).
 */
export function eccsiRandomScalar(rng: Rng): bigint {
  for (let attempt = 0; attempt < MAX_RANDOM_ATTEMPTS; attempt++) {
    const bytes = rng(ECCSI_N);
    requireBytes(bytes, 'rng output');
    if (bytes.length !== ECCSI_N) throw new EscrowError('ERR_ESCROW_ARGUMENT', `rng output: expected ${ECCSI_N} octets, got ${bytes.length}`);
    const k = bytesToBigInt(bytes);
    if (k > 0n && k < ECCSI_Q) return k;
  }
  throw new EscrowError('ERR_ESCROW_ARGUMENT', `rng produced no scalar in [1, q-1] in ${MAX_RANDOM_ATTEMPTS} draws`);
}

/** Public-value equality (KPAK): not constant-time, and need not be. */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Integers as N-octet strings (RFC 6507 §3.2 "Integers"). */
function int(n: bigint): Uint8Array {
  return bigIntToBytes(n, ECCSI_N);
}

function decodeKpak(kpak: Uint8Array): AffinePoint {
  requireBytes(kpak, 'KPAK');
  // "Before use, each device MUST check that the supplied KPAK lies on the elliptic curve E" (RFC 6507 §4.2).
  return decodePoint(kpak, 'KPAK');
}

/** The octets hashed into HS: G || KPAK || ID || PVT, points in canonical form (RFC 6507 §5.1.1 step 3, §3.2). */
export function eccsiHSInput(kpak: Uint8Array, id: Uint8Array, pvt: Uint8Array): Uint8Array {
  return concatBytes(G_BYTES, kpak, id, pvt);
}

/** HS = hash( G || KPAK || ID || PVT ), an N-octet integer (RFC 6507 §5.1.1 step 3, §5.1.2 step 2, §5.2.2 step 2). */
export function eccsiHashHS(kpak: Uint8Array, id: Uint8Array, pvt: Uint8Array): Uint8Array {
  return sha256(eccsiHSInput(kpak, id, pvt));
}

/** The octets hashed into HE: HS || r || M, r as its N-octet string (RFC 6507 §5.2.1 step 3, §3.2). */
export function eccsiHEInput(hs: Uint8Array, r: bigint, message: Uint8Array): Uint8Array {
  return concatBytes(hs, int(r), message);
}

/** HE = hash( HS || r || M ) (RFC 6507 §5.2.1 step 3, §5.2.2 step 3). */
export function eccsiHashHE(hs: Uint8Array, r: bigint, message: Uint8Array): Uint8Array {
  return sha256(eccsiHEInput(hs, r, message));
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6507 §4.2 — Community parameters

/** KPAK = [KSAK]G for a given KSAK, a non-zero integer modulo q (RFC 6507 §4.2). */
export function eccsiKmsKeys(ksak: bigint): EccsiKmsKeys {
  requireScalar(ksak, 'KSAK');
  return hideSecret({ ksak, kpak: encodePoint(multiplyBase(ksak)) }, 'EccsiKmsKeys', 'ksak');
}

/** A fresh KMS: "KSAK MUST be chosen to be a random secret non-zero integer modulo q" (RFC 6507 §4.2). */
export function eccsiGenerateKms(rng: Rng): EccsiKmsKeys {
  return eccsiKmsKeys(eccsiRandomScalar(rng));
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6507 §5.1.1 — Algorithm for constructing (SSK, PVT) pair (run by the KMS)

/**
 * Issues (SSK, PVT) for identifier `id` (RFC 6507 §5.1.1). `v` is the KMS's ephemeral: an explicit value in
 * [1, q-1] (reproducible, e.g. Appendix A's v) or an Rng. With an explicit v, a step-5 failure throws
 * ERR_ESCROW_ARGUMENT (the caller must choose another v); with an Rng the procedure restarts.
 */
export function eccsiProvision(kms: EccsiKmsKeys, id: Uint8Array, v: bigint | Rng): EccsiUserKey {
  requireScalar(kms.ksak, 'KSAK');
  requireBytes(id, 'ID');
  const kpak = encodePoint(multiplyBase(kms.ksak)); // KPAK = [KSAK]G (§4.2), recomputed rather than trusted
  requireBytes(kms.kpak, 'KPAK');
  if (!bytesEqual(kpak, kms.kpak)) throw new EscrowError('ERR_ESCROW_ARGUMENT', 'KMS keys: KPAK is not [KSAK]G (RFC 6507 §4.2)');
  for (let attempt = 0; attempt < MAX_RANDOM_ATTEMPTS; attempt++) {
    const vv = typeof v === 'bigint' ? v : eccsiRandomScalar(v); //                  1) random non-zero v in F_q
    requireScalar(vv, 'v');
    const pvt = encodePoint(multiplyBase(vv)); //                                    2) PVT = [v]G, canonical
    const hs = eccsiHashHS(kpak, id, pvt); //                                        3) HS = hash(G || KPAK || ID || PVT)
    const hsInt = bytesToBigInt(hs);
    const ssk = mod(kms.ksak + hsInt * vv, ECCSI_Q); //                              4) SSK = (KSAK + HS * v) mod q
    if (ssk === 0n || mod(hsInt, ECCSI_Q) === 0n) { //                               5) SSK or HS zero mod q: restart
      if (typeof v === 'bigint') throw new EscrowError('ERR_ESCROW_ARGUMENT', 'v gives SSK or HS ≡ 0 mod q (RFC 6507 §5.1.1 step 5); choose another v');
      continue;
    }
    return hideSecret({ ssk, pvt, hs }, 'EccsiUserKey', 'ssk'); //                   6) output (SSK, PVT); v goes out of scope
  }
  throw new EscrowError('ERR_ESCROW_ARGUMENT', `rng produced no usable v in ${MAX_RANDOM_ATTEMPTS} draws`);
}

/**
 * The escrow property, spelled out: whoever holds KSAK derives a valid key pair for ANY identifier (any user,
 * any month) — it is the provisioning algorithm itself (RFC 6507 §5.1.1), needing nothing from the user.
 * With the same v it reproduces exactly the SSK the user holds; with a fresh v it yields a different pair that
 * verifies for that identifier all the same.
 */
export function eccsiKmsDeriveUserKey(ksak: bigint, id: Uint8Array, v: bigint | Rng): EccsiUserKey {
  return eccsiProvision(eccsiKmsKeys(ksak), id, v);
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6507 §5.1.2 — Algorithm for validating a received SSK (run by the user before installing it)

/**
 * Validates a KMS-issued (SSK, PVT) for `id` against the trusted KPAK (RFC 6507 §5.1.2) and returns HS, which the
 * RFC says SHOULD be stored with the SSK. Throws ERR_ESCROW_INVALID_POINT if KPAK or PVT is not a canonical point
 * on E, ERR_ESCROW_INVALID_SIGNATURE if SSK is out of range or KPAK ≠ [SSK]G - [HS]PVT.
 */
export function eccsiValidateUserKey(kpak: Uint8Array, id: Uint8Array, ssk: bigint, pvt: Uint8Array): Uint8Array {
  const kpakPoint = decodeKpak(kpak);
  requireBytes(id, 'ID');
  requireBytes(pvt, 'PVT');
  if (typeof ssk !== 'bigint') throw new EscrowError('ERR_ESCROW_ARGUMENT', 'SSK: expected a bigint');
  // Stricter than the RFC's three steps: an SSK outside [1, q-1] is rejected outright (§5.1.1 step 5 never issues
  // SSK ≡ 0, and a non-reduced SSK is not what §5.1.1 step 4 outputs).
  if (ssk <= 0n || ssk >= ECCSI_Q) throw new EscrowError('ERR_ESCROW_INVALID_SIGNATURE', 'SSK is not in [1, q-1]');
  const pvtPoint = decodePoint(pvt, 'PVT'); //                                      1) PVT lies on E
  const hs = eccsiHashHS(kpak, id, pvt); //                                         2) HS = hash(G || KPAK || ID || PVT)
  const hsInt = bytesToBigInt(hs);
  // 3) KPAK = [SSK]G - [HS]PVT, checked as [SSK]G = KPAK + [HS]PVT to avoid a negation.
  const lhs = multiplyBase(ssk);
  const rhs = pointAdd(kpakPoint, pointMultiply(hsInt, pvtPoint));
  if (lhs === null || rhs === null || lhs.x !== rhs.x || lhs.y !== rhs.y) {
    throw new EscrowError('ERR_ESCROW_INVALID_SIGNATURE', 'KMS-issued key pair fails KPAK = [SSK]G - [HS]PVT (RFC 6507 §5.1.2 step 3)');
  }
  return hs;
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6507 §3.3 — Signature = r || s || PVT

/** Encodes r || s || PVT (RFC 6507 §3.3); r and s must fit in N octets, PVT must be a point on E. */
export function encodeEccsiSignature(parts: EccsiSignatureParts): Uint8Array {
  return concatBytes(int(parts.r), int(parts.s), encodePoint(parts.pvt));
}

/**
 * Strict decoder for r || s || PVT: exactly 4N+1 octets (else ERR_ESCROW_INVALID_SIGNATURE) and PVT a canonical
 * point on E (else ERR_ESCROW_INVALID_POINT, RFC 6507 §5.2.2 step 1). r and s are any N-octet integers: the RFC
 * notes they may equal or exceed p (§3.3).
 */
export function decodeEccsiSignature(signature: Uint8Array): EccsiSignatureParts {
  requireBytes(signature, 'signature');
  if (signature.length !== ECCSI_SIGNATURE_BYTES) {
    throw new EscrowError('ERR_ESCROW_INVALID_SIGNATURE', `signature: expected ${ECCSI_SIGNATURE_BYTES} octets (r || s || PVT), got ${signature.length}`);
  }
  return {
    r: bytesToBigInt(signature.subarray(0, ECCSI_N)),
    s: bytesToBigInt(signature.subarray(ECCSI_N, 2 * ECCSI_N)),
    pvt: decodePoint(signature.subarray(2 * ECCSI_N), 'PVT'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6507 §5.2.1 — Algorithm for signing

/**
 * Every intermediate of one signing run, named as in RFC 6507 §5.2.1 (and Appendix A). It includes the
 * ephemeral j, which the RFC says to erase (anyone with j and a signature recovers SSK): for tests and audits only.
 */
export interface EccsiSignTrace {
  readonly j: bigint;
  /** J = [j]G, canonical encoding. */
  readonly J: Uint8Array;
  readonly r: bigint;
  readonly HS: Uint8Array;
  readonly HE: Uint8Array;
  /** s' = ((HE + r·SSK)^-1 · j) mod q. */
  readonly sPrime: bigint;
  readonly s: bigint;
  readonly signature: Uint8Array;
}

/**
 * RFC 6507 §5.2.1 with every intermediate returned (for the Appendix A test and for auditors). `j` is the
 * ephemeral: explicit (Appendix A's j; a step-4 failure then throws ERR_ESCROW_ARGUMENT) or an Rng (restarts).
 */
export function eccsiSignTrace(
  kpak: Uint8Array,
  id: Uint8Array,
  ssk: bigint,
  pvt: Uint8Array,
  message: Uint8Array,
  j: bigint | Rng,
): EccsiSignTrace {
  decodeKpak(kpak);
  requireBytes(id, 'ID');
  requireBytes(pvt, 'PVT');
  requireBytes(message, 'M');
  requireScalar(ssk, 'SSK');
  decodePoint(pvt, 'PVT');
  const HS = eccsiHashHS(kpak, id, pvt); // (step 3: "recall (or recompute) HS" — recomputed, so it always matches)
  for (let attempt = 0; attempt < MAX_RANDOM_ATTEMPTS; attempt++) {
    const jj = typeof j === 'bigint' ? j : eccsiRandomScalar(j); //                 1) random non-zero j in F_q
    requireScalar(jj, 'j');
    const Jpoint = multiplyBase(jj); //                                              2) J = [j]G (never 0: 0 < j < q)
    const J = encodePoint(Jpoint); //                                                   (canonically)
    const r = bytesToBigInt(J.subarray(1, 1 + ECCSI_N)); //                             r = the N-octet integer Jx
    const HE = eccsiHashHE(HS, r, message); //                                       3) HE = hash(HS || r || M)
    const t = mod(bytesToBigInt(HE) + r * ssk, ECCSI_Q);
    if (t === 0n) { //                                                               4) HE + r*SSK ≢ 0 mod q, else restart
      if (typeof j === 'bigint') throw new EscrowError('ERR_ESCROW_ARGUMENT', 'j gives HE + r*SSK ≡ 0 mod q (RFC 6507 §5.2.1 step 4); choose another j');
      continue;
    }
    const sPrime = mod(modInv(t, ECCSI_Q) * jj, ECCSI_Q); //                         5) s' = ((HE + r*SSK)^-1 * j) mod q
    const s = sPrime >= 1n << BigInt(8 * ECCSI_N) ? ECCSI_Q - sPrime : sPrime; //     6) s' too big for N octets: s = q - s'
    const signature = concatBytes(int(r), int(s), pvt); //                           7) Signature = r || s || PVT
    return { j: jj, J, r, HS, HE, sPrime, s, signature };
  }
  throw new EscrowError('ERR_ESCROW_ARGUMENT', `rng produced no usable j in ${MAX_RANDOM_ATTEMPTS} draws`);
}

/**
 * Signs `message` as `id` (RFC 6507 §5.2.1) and returns Signature = r || s || PVT (4N+1 octets, §3.3).
 * Throws ERR_ESCROW_INVALID_POINT for a KPAK or PVT not on E, ERR_ESCROW_ARGUMENT for an SSK or j outside [1, q-1].
 * It does not re-run §5.1.2 on (SSK, PVT); call `eccsiValidateUserKey` once when installing the key.
 */
export function eccsiSign(kpak: Uint8Array, id: Uint8Array, ssk: bigint, pvt: Uint8Array, message: Uint8Array, j: bigint | Rng): Uint8Array {
  return eccsiSignTrace(kpak, id, ssk, pvt, message, j).signature;
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6507 §5.2.2 — Algorithm for verifying

/** Why a verification ended as it did (the RFC 6507 §5.2.2 step that decided), plus the values it computed. */
export interface EccsiVerifyTrace {
  readonly valid: boolean;
  readonly reason: 'valid' | 'pvt-not-on-curve' | 'j-is-identity' | 'jx-mismatch' | 'jx-zero';
  readonly HS?: Uint8Array;
  readonly HE?: Uint8Array;
  /** Y = [HS]PVT + KPAK, canonical encoding (absent if Y is the identity). */
  readonly Y?: Uint8Array;
  /** J = [s]([HE]G + [r]Y), canonical encoding (absent if J is the identity). */
  readonly J?: Uint8Array;
  readonly Jx?: bigint;
}

/**
 * RFC 6507 §5.2.2 with the intermediates returned. Throws only for caller errors: ERR_ESCROW_INVALID_POINT for a
 * KPAK not on E (the trusted root must be checked before use, §4.2), ERR_ESCROW_INVALID_SIGNATURE for a signature
 * that is not 4N+1 octets, ERR_ESCROW_ARGUMENT for non-byte inputs. Every failed check of a well-sized
 * signature — including a PVT that is not on the curve (step 1) — is `valid: false`.
 */
export function eccsiVerifyTrace(kpak: Uint8Array, id: Uint8Array, message: Uint8Array, signature: Uint8Array): EccsiVerifyTrace {
  const kpakPoint = decodeKpak(kpak);
  requireBytes(id, 'ID');
  requireBytes(message, 'M');
  requireBytes(signature, 'signature');
  if (signature.length !== ECCSI_SIGNATURE_BYTES) {
    throw new EscrowError('ERR_ESCROW_INVALID_SIGNATURE', `signature: expected ${ECCSI_SIGNATURE_BYTES} octets (r || s || PVT), got ${signature.length}`);
  }
  let parts: EccsiSignatureParts;
  try {
    parts = decodeEccsiSignature(signature); //                                      1) PVT lies on E
  } catch (e) {
    if (e instanceof EscrowError && e.code === 'ERR_ESCROW_INVALID_POINT') return { valid: false, reason: 'pvt-not-on-curve' };
    throw e;
  }
  const pvtBytes = signature.subarray(2 * ECCSI_N);
  const HS = eccsiHashHS(kpak, id, pvtBytes); //                                     2) HS = hash(G || KPAK || ID || PVT)
  const HE = eccsiHashHE(HS, parts.r, message); //                                   3) HE = hash(HS || r || M)
  const Ypoint = pointAdd(pointMultiply(bytesToBigInt(HS), parts.pvt), kpakPoint); // 4) Y = [HS]PVT + KPAK
  const inner = pointAdd(multiplyBase(bytesToBigInt(HE)), pointMultiply(parts.r, Ypoint));
  const Jpoint = pointMultiply(parts.s, inner); //                                   5) J = [s]([HE]G + [r]Y)
  const Y = Ypoint === null ? {} : { Y: encodePoint(Ypoint) };
  if (Jpoint === null) return { valid: false, reason: 'j-is-identity', HS, HE, ...Y }; // (the identity has no Jx)
  const Jx = Jpoint.x; //                                                            6) Jx = r mod p, Jx mod p ≠ 0
  const common = { HS, HE, ...Y, J: encodePoint(Jpoint), Jx };
  if (Jx !== mod(parts.r, P256_P)) return { valid: false, reason: 'jx-mismatch', ...common };
  if (Jx === 0n) return { valid: false, reason: 'jx-zero', ...common };
  return { valid: true, reason: 'valid', ...common };
}

/**
 * Verifies Signature = r || s || PVT on `message` for signer `id` under the community KPAK (RFC 6507 §5.2.2).
 * Returns false for any signature of the right length that fails a check; throws only for caller errors (see
 * `eccsiVerifyTrace`). A true result proves only "someone holding an SSK for this ID, or KSAK, signed": the
 * KMS can produce such signatures for every ID (see the file header).
 */
export function eccsiVerify(kpak: Uint8Array, id: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return eccsiVerifyTrace(kpak, id, message, signature).valid;
}
