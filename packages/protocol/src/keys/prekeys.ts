// Prekeys (docs/protocol/03-keys-and-bundles.md; PQXDH rev 3 §2.4, §2.5, §3.2).
// A device publishes, signed by its Ed25519 identity key:
//   - one signed X25519 prekey SPK (rotated periodically),
//   - a set of one-time X25519 prekeys OPK (each used in at most one session start),
//   - a set of signed one-time ML-KEM-1024 prekeys PQOPK and one signed last-resort ML-KEM-1024 prekey PQSPK.
// Stricter than PQXDH §3.2: one-time X25519 prekeys are signed too, so a server cannot substitute its own
// OPK and silently remove the forward secrecy Alice believes it gives (§4.5's argument applied to OPK).
// Every signature covers a domain-separated encoding of the key, its id and (for KEM prekeys) its
// last-resort flag, so a server cannot re-label a key either.
import { ProtocolError } from '../errors.ts';
import {
  MLKEM1024_PUBLIC_KEY_BYTES,
  MLKEM_SEED_BYTES,
  X25519_KEY_BYTES,
  type CryptoProvider,
  type Rng,
} from '../crypto/provider.ts';
import { concatBytes, u32be } from '../internal/bytes.ts';
import { Redacted, type Brand } from './redacted.ts';
import { IDENTITY_SIGNATURE_LABELS, type IdentityDhPublicKey, type IdentityKeyPair, type IdentityPublicKey } from './identity.ts';

// ---------------------------------------------------------------------------------------------
// Key encodings (PQXDH §2.1 EncodeEC / EncodeKEM: a one-byte type, then the key). The ranges of all
// encoding functions are pairwise disjoint (§2.1) because the type bytes differ.

/** EncodeEC type byte for curve25519 (docs/protocol/03 §3.1; the value libsignal uses for Djb keys). */
export const KEY_TYPE_X25519 = 0x05;
/** Type byte of the Ed25519 identity-key encoding used in AD (docs/protocol/03 §3.1). */
export const KEY_TYPE_ED25519 = 0x06;
/** EncodeKEM type byte for ML-KEM-1024 (docs/protocol/03 §3.1). */
export const KEY_TYPE_MLKEM1024 = 0x0a;

/** 32-byte X25519 public key (RFC 7748 §5 u-coordinate, little-endian, canonical). */
export type X25519PublicKey = Brand<Uint8Array, 'X25519PublicKey'>;
/** 1568-byte ML-KEM-1024 encapsulation key (FIPS 203 §7.1) that passed the §7.2 modulus check. */
export type MlKemPublicKey = Brand<Uint8Array, 'MlKemPublicKey'>;

/** PQXDH §2.1 EncodeEC(K) = 0x05 || u. */
export function encodeEc(key: X25519PublicKey | IdentityDhPublicKey): Uint8Array {
  return concatBytes(Uint8Array.of(KEY_TYPE_X25519), key);
}

/** PQXDH §2.1 EncodeKEM(K) = 0x0A || ek. */
export function encodeKem(key: MlKemPublicKey): Uint8Array {
  return concatBytes(Uint8Array.of(KEY_TYPE_MLKEM1024), key);
}

/** Ed25519 identity encoding 0x06 || A (RFC 8032 §5.1.2), used in AD (docs/protocol/04 §4.5). */
export function encodeIdentity(key: IdentityPublicKey): Uint8Array {
  return concatBytes(Uint8Array.of(KEY_TYPE_ED25519), key);
}

// ---------------------------------------------------------------------------------------------
// Public-key validation.

const P25519 = (1n << 255n) - 19n;
/** u-coordinates of the points of small order on curve25519 and its twist, canonical forms only
 *  (RFC 7748 §6.1; the list from https://cr.yp.to/ecdh.html#validate). */
const SMALL_ORDER_U: readonly bigint[] = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P25519 - 1n,
];

function littleEndianToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] ?? 0);
  return n;
}

/**
 * Checks an X25519 public key and returns it branded. Stricter than RFC 7748 §5, which masks the top
 * bit and accepts u >= p: we reject both, so each key has exactly one encoding and no bit of a
 * message can be flipped without changing the key (docs/protocol/03 §3.2). Small-order points are
 * rejected here as well as by the all-zero DH check (RFC 7748 §6.1).
 */
export function parseX25519PublicKey(bytes: Uint8Array, what = 'X25519 public key'): X25519PublicKey {
  if (bytes.length !== X25519_KEY_BYTES) {
    throw new ProtocolError('ERR_KEY_INVALID', `${what}: expected ${X25519_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  if (((bytes[31] ?? 0) & 0x80) !== 0) throw new ProtocolError('ERR_KEY_INVALID', `${what}: top bit set (non-canonical)`);
  const u = littleEndianToBigInt(bytes);
  if (u >= P25519) throw new ProtocolError('ERR_KEY_INVALID', `${what}: u-coordinate not reduced mod p (non-canonical)`);
  if (SMALL_ORDER_U.includes(u)) throw new ProtocolError('ERR_KEY_INVALID', `${what}: point of small order`);
  return bytes.slice() as X25519PublicKey;
}

const MLKEM_Q = 3329; // FIPS 203 §2.4
const MLKEM1024_T_BYTES = 384 * 4; // FIPS 203 §7.2: ek = ByteEncode12(t̂) (384k bytes, k = 4) || ρ

/**
 * Checks an ML-KEM-1024 encapsulation key: the length, and the FIPS 203 §7.2 "modulus check"
 * ByteEncode12(ByteDecode12(ek[0:384k])) = ek[0:384k], i.e. every 12-bit coefficient is below q.
 */
export function parseMlKemPublicKey(bytes: Uint8Array, what = 'ML-KEM-1024 public key'): MlKemPublicKey {
  if (bytes.length !== MLKEM1024_PUBLIC_KEY_BYTES) {
    throw new ProtocolError('ERR_KEY_INVALID', `${what}: expected ${MLKEM1024_PUBLIC_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  for (let i = 0; i < MLKEM1024_T_BYTES; i += 3) {
    const b0 = bytes[i] ?? 0;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    const d1 = b0 | ((b1 & 0x0f) << 8);
    const d2 = (b1 >> 4) | (b2 << 4);
    if (d1 >= MLKEM_Q || d2 >= MLKEM_Q) {
      throw new ProtocolError('ERR_KEY_INVALID', `${what}: coefficient not reduced mod q (FIPS 203 §7.2 modulus check)`);
    }
  }
  return bytes.slice() as MlKemPublicKey;
}

/** Ids are u32 (PQXDH §4.13: not security-critical, must rarely collide; we use sequential ids from a random offset). */
export function checkPrekeyId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new ProtocolError('ERR_ARGUMENT', `${what}: expected a u32 id, got ${id}`);
}

// ---------------------------------------------------------------------------------------------
// Signature inputs (docs/protocol/03 §3.3). Each starts with its own label and a zero byte, so a
// signature made for one purpose can never verify as another (the labels differ within their first
// bytes, and no other Sotto signature uses these labels).

/** docs/protocol/03 §3.3: signed-prekey signature label (from the identity's label registry). */
export const SIG_LABEL_SIGNED_PREKEY = IDENTITY_SIGNATURE_LABELS.signedPrekey;
/** docs/protocol/03 §3.3: one-time-prekey signature label (Sotto-specific; PQXDH leaves OPK unsigned). */
export const SIG_LABEL_ONE_TIME_PREKEY = IDENTITY_SIGNATURE_LABELS.oneTimePrekey;
/** docs/protocol/03 §3.3: KEM-prekey signature label. */
export const SIG_LABEL_KEM_PREKEY = IDENTITY_SIGNATURE_LABELS.kemPrekey;

/** label || 0x00 || id (u32 BE) || EncodeEC(SPK) — PQXDH §3.2 Sig(IK_B, EncodeEC(SPK_B)), domain-separated. */
export function signedPrekeySignatureInput(id: number, key: X25519PublicKey): Uint8Array {
  return concatBytes(SIG_LABEL_SIGNED_PREKEY, Uint8Array.of(0), u32be(id), encodeEc(key));
}

/** label || 0x00 || id (u32 BE) || EncodeEC(OPK). */
export function oneTimePrekeySignatureInput(id: number, key: X25519PublicKey): Uint8Array {
  return concatBytes(SIG_LABEL_ONE_TIME_PREKEY, Uint8Array.of(0), u32be(id), encodeEc(key));
}

/** label || 0x00 || id (u32 BE) || lastResort (0x00 | 0x01) || EncodeKEM(PQPK) — PQXDH §3.2 Sig(IK_B, EncodeKEM(PQPK_B)). */
export function kemPrekeySignatureInput(id: number, lastResort: boolean, key: MlKemPublicKey): Uint8Array {
  return concatBytes(SIG_LABEL_KEM_PREKEY, Uint8Array.of(0), u32be(id), Uint8Array.of(lastResort ? 1 : 0), encodeKem(key));
}

// ---------------------------------------------------------------------------------------------
// Public parts: what a device uploads and a server hands out. Plain readonly data.

export interface SignedPrekeyPublic {
  readonly id: number;
  readonly publicKey: X25519PublicKey;
  readonly signature: Uint8Array;
}

export interface OneTimePrekeyPublic {
  readonly id: number;
  readonly publicKey: X25519PublicKey;
  readonly signature: Uint8Array;
}

export interface KemPrekeyPublic {
  readonly id: number;
  /** True for the signed last-resort key PQSPK (PQXDH §2.5), false for a one-time PQOPK. */
  readonly lastResort: boolean;
  readonly publicKey: MlKemPublicKey;
  readonly signature: Uint8Array;
}

async function verifyOrThrow(crypto: CryptoProvider, identityKey: IdentityPublicKey, input: Uint8Array, signature: Uint8Array, what: string): Promise<void> {
  if (!(await crypto.ed25519Verify(identityKey, input, signature))) {
    throw new ProtocolError('ERR_SIGNATURE_INVALID', `${what}: signature does not verify under the identity key`);
  }
}

/** Verifies a signed prekey's signature (ERR_SIGNATURE_INVALID). */
export function verifySignedPrekey(crypto: CryptoProvider, identityKey: IdentityPublicKey, p: SignedPrekeyPublic): Promise<void> {
  return verifyOrThrow(crypto, identityKey, signedPrekeySignatureInput(p.id, p.publicKey), p.signature, 'signed prekey');
}

/** Verifies a one-time prekey's signature (ERR_SIGNATURE_INVALID). */
export function verifyOneTimePrekey(crypto: CryptoProvider, identityKey: IdentityPublicKey, p: OneTimePrekeyPublic): Promise<void> {
  return verifyOrThrow(crypto, identityKey, oneTimePrekeySignatureInput(p.id, p.publicKey), p.signature, 'one-time prekey');
}

/** Verifies a KEM prekey's signature (ERR_SIGNATURE_INVALID). */
export function verifyKemPrekey(crypto: CryptoProvider, identityKey: IdentityPublicKey, p: KemPrekeyPublic): Promise<void> {
  return verifyOrThrow(crypto, identityKey, kemPrekeySignatureInput(p.id, p.lastResort, p.publicKey), p.signature, 'KEM prekey');
}

// ---------------------------------------------------------------------------------------------
// Private records. The secret lives in an ECMAScript private field and never prints (STYLE.md §10);
// `exportSecret()` hands it to a keystore, `restore()` rebuilds the record from it.

/** What signed and one-time X25519 prekeys share: the private scalar, its public record, DH. */
abstract class X25519PrekeyPrivate<P extends SignedPrekeyPublic | OneTimePrekeyPublic> extends Redacted {
  readonly #privateKey: Uint8Array;
  readonly public: P;

  protected constructor(privateKey: Uint8Array, pub: P) {
    super();
    this.#privateKey = privateKey;
    this.public = pub;
  }

  get id(): number {
    return this.public.id;
  }

  /** The 32-byte X25519 private scalar, for a keystore to persist. Handle as a secret. */
  exportSecret(): Uint8Array {
    return this.#privateKey.slice();
  }

  /** @internal X25519 with this prekey's private key (PQXDH §3.4). */
  dh(crypto: CryptoProvider, peer: X25519PublicKey | IdentityDhPublicKey): Promise<Uint8Array> {
    return crypto.x25519(this.#privateKey, peer);
  }
}

/** The public key of an exported (restored) X25519 prekey secret, checked like any received key. */
async function restoredX25519Public(crypto: CryptoProvider, privateKey: Uint8Array, what: string): Promise<X25519PublicKey> {
  if (privateKey.length !== X25519_KEY_BYTES) throw new ProtocolError('ERR_KEY_INVALID', `${what} secret: expected ${X25519_KEY_BYTES} bytes, got ${privateKey.length}`);
  return parseX25519PublicKey(await crypto.x25519PublicKey(privateKey), what);
}

/** A fresh X25519 key pair (PQXDH §3.2) and the identity's signature over `signatureInput(id, key)`. */
async function freshSignedX25519(
  crypto: CryptoProvider,
  rng: Rng,
  identity: IdentityKeyPair,
  id: number,
  what: string,
  signatureInput: (id: number, key: X25519PublicKey) => Uint8Array,
): Promise<{ privateKey: Uint8Array; pub: SignedPrekeyPublic }> {
  checkPrekeyId(id, what);
  const privateKey = rng(X25519_KEY_BYTES);
  const publicKey = parseX25519PublicKey(await crypto.x25519PublicKey(privateKey), what);
  const signature = await identity.sign(crypto, signatureInput(id, publicKey));
  return { privateKey, pub: { id, publicKey, signature } };
}

/** A signed X25519 prekey with its private key. */
export class SignedPrekeyPrivate extends X25519PrekeyPrivate<SignedPrekeyPublic> {
  protected readonly kind = 'SignedPrekeyPrivate';

  /** Rebuilds the record from its exported secret and signature (the public key is recomputed). */
  static async restore(crypto: CryptoProvider, id: number, privateKey: Uint8Array, signature: Uint8Array): Promise<SignedPrekeyPrivate> {
    checkPrekeyId(id, 'signed prekey');
    const publicKey = await restoredX25519Public(crypto, privateKey, 'signed prekey');
    return new SignedPrekeyPrivate(privateKey.slice(), { id, publicKey, signature: signature.slice() });
  }

  /** PQXDH §3.2: a fresh X25519 key pair, signed by the identity key. */
  static async generate(crypto: CryptoProvider, rng: Rng, identity: IdentityKeyPair, id: number): Promise<SignedPrekeyPrivate> {
    const { privateKey, pub } = await freshSignedX25519(crypto, rng, identity, id, 'signed prekey', signedPrekeySignatureInput);
    return new SignedPrekeyPrivate(privateKey, pub);
  }
}

/** A one-time X25519 prekey with its private key (signed too: docs/protocol/03, stricter than PQXDH). */
export class OneTimePrekeyPrivate extends X25519PrekeyPrivate<OneTimePrekeyPublic> {
  protected readonly kind = 'OneTimePrekeyPrivate';

  static async restore(crypto: CryptoProvider, id: number, privateKey: Uint8Array, signature: Uint8Array): Promise<OneTimePrekeyPrivate> {
    checkPrekeyId(id, 'one-time prekey');
    const publicKey = await restoredX25519Public(crypto, privateKey, 'one-time prekey');
    return new OneTimePrekeyPrivate(privateKey.slice(), { id, publicKey, signature: signature.slice() });
  }

  static async generate(crypto: CryptoProvider, rng: Rng, identity: IdentityKeyPair, id: number): Promise<OneTimePrekeyPrivate> {
    const { privateKey, pub } = await freshSignedX25519(crypto, rng, identity, id, 'one-time prekey', oneTimePrekeySignatureInput);
    return new OneTimePrekeyPrivate(privateKey, pub);
  }
}

/** An ML-KEM-1024 prekey (one-time or last-resort) with its private key. */
export class KemPrekeyPrivate extends Redacted {
  protected readonly kind = 'KemPrekeyPrivate';
  /** FIPS 203 §7.1 seed d || z: 64 bytes, from which the key pair is regenerated on restore. */
  readonly #seed: Uint8Array;
  readonly #secretKey: Uint8Array;
  readonly public: KemPrekeyPublic;

  private constructor(seed: Uint8Array, secretKey: Uint8Array, pub: KemPrekeyPublic) {
    super();
    this.#seed = seed;
    this.#secretKey = secretKey;
    this.public = pub;
  }

  get id(): number {
    return this.public.id;
  }

  get lastResort(): boolean {
    return this.public.lastResort;
  }

  /** The 64-byte FIPS 203 key-generation seed, for a keystore to persist. Handle as a secret. */
  exportSecret(): Uint8Array {
    return this.#seed.slice();
  }

  static async restore(crypto: CryptoProvider, id: number, lastResort: boolean, seed: Uint8Array, signature: Uint8Array): Promise<KemPrekeyPrivate> {
    checkPrekeyId(id, 'KEM prekey');
    if (seed.length !== MLKEM_SEED_BYTES) throw new ProtocolError('ERR_KEY_INVALID', `KEM prekey secret: expected ${MLKEM_SEED_BYTES} bytes, got ${seed.length}`);
    const kp = await crypto.mlKem1024KeyGen(seed);
    const publicKey = parseMlKemPublicKey(kp.publicKey, 'KEM prekey');
    return new KemPrekeyPrivate(seed.slice(), kp.secretKey, { id, lastResort, publicKey, signature: signature.slice() });
  }

  /** PQXDH §3.2: a fresh ML-KEM-1024 key pair (FIPS 203 §7.1 from a 64-byte seed), signed by the identity key. */
  static async generate(crypto: CryptoProvider, rng: Rng, identity: IdentityKeyPair, id: number, lastResort: boolean): Promise<KemPrekeyPrivate> {
    checkPrekeyId(id, 'KEM prekey');
    const seed = rng(MLKEM_SEED_BYTES);
    const kp = await crypto.mlKem1024KeyGen(seed);
    const publicKey = parseMlKemPublicKey(kp.publicKey, 'KEM prekey');
    const signature = await identity.sign(crypto, kemPrekeySignatureInput(id, lastResort, publicKey));
    return new KemPrekeyPrivate(seed, kp.secretKey, { id, lastResort, publicKey, signature });
  }

  /** @internal PQKEM-DEC(PQPK_B, CT) (PQXDH §3.4). */
  decapsulate(crypto: CryptoProvider, ciphertext: Uint8Array): Promise<Uint8Array> {
    return crypto.mlKem1024Decapsulate(ciphertext, this.#secretKey);
  }
}

/** Convenience: `count` one-time X25519 prekeys with ids firstId, firstId+1, … (PQXDH §4.13 sequential ids). */
export async function generateOneTimePrekeys(crypto: CryptoProvider, rng: Rng, identity: IdentityKeyPair, firstId: number, count: number): Promise<OneTimePrekeyPrivate[]> {
  checkPrekeyId(firstId, 'first one-time prekey');
  checkPrekeyId(firstId + Math.max(count - 1, 0), 'last one-time prekey');
  const out: OneTimePrekeyPrivate[] = [];
  for (let i = 0; i < count; i++) out.push(await OneTimePrekeyPrivate.generate(crypto, rng, identity, firstId + i));
  return out;
}

/** Convenience: `count` one-time ML-KEM-1024 prekeys with ids firstId, firstId+1, … */
export async function generateKemPrekeys(crypto: CryptoProvider, rng: Rng, identity: IdentityKeyPair, firstId: number, count: number): Promise<KemPrekeyPrivate[]> {
  checkPrekeyId(firstId, 'first KEM prekey');
  checkPrekeyId(firstId + Math.max(count - 1, 0), 'last KEM prekey');
  const out: KemPrekeyPrivate[] = [];
  for (let i = 0; i < count; i++) out.push(await KemPrekeyPrivate.generate(crypto, rng, identity, firstId + i, false));
  return out;
}
