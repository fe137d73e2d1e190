// Identity keys (docs/protocol.md §3.1). A Sotto identity is an Ed25519 key pair (RFC 8032). It
// signs prekeys, and takes part in PQXDH's Diffie-Hellman through the birational map to X25519
// (RFC 7748 §4.1: u = (1 + y) / (1 - y); secret: the clamped first half of SHA-512(seed), RFC 8032
// §5.1.5), the way Wire's Proteus uses one Ed25519 identity for both. Each key is used in one role
// per protocol step, and every signature and DH is bound to its purpose by the KDF labels.
import { ed25519 } from '@noble/curves/ed25519.js';
import { ProtocolError } from '../errors.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, type CryptoProvider, type Rng } from '../crypto/provider.ts';
import { Redacted, type Brand } from './redacted.ts';

/** 32-byte Ed25519 public key of an identity. */
export type IdentityPublicKey = Brand<Uint8Array, 'IdentityPublicKey'>;
/** 32-byte X25519 form of an identity public key (RFC 7748 §4.1). */
export type IdentityDhPublicKey = Brand<Uint8Array, 'IdentityDhPublicKey'>;

/** An identity key pair. The seed stays in a private field and never prints. */
export class IdentityKeyPair extends Redacted {
  protected readonly kind = 'IdentityKeyPair';
  readonly #seed: Uint8Array;
  readonly publicKey: IdentityPublicKey;

  private constructor(seed: Uint8Array, publicKey: IdentityPublicKey) {
    super();
    this.#seed = seed;
    this.publicKey = publicKey;
  }

  /** Builds the pair from its 32-byte seed (RFC 8032 §5.1.5), e.g. when loading from a keystore. */
  static async fromSeed(crypto: CryptoProvider, seed: Uint8Array): Promise<IdentityKeyPair> {
    if (seed.length !== ED25519_SEED_BYTES) {
      throw new ProtocolError('ERR_KEY_INVALID', `identity seed: expected ${ED25519_SEED_BYTES} bytes, got ${seed.length}`);
    }
    const s = seed.slice();
    return new IdentityKeyPair(s, (await crypto.ed25519PublicKey(s)) as IdentityPublicKey);
  }

  static async generate(crypto: CryptoProvider, rng: Rng): Promise<IdentityKeyPair> {
    return IdentityKeyPair.fromSeed(crypto, rng(ED25519_SEED_BYTES));
  }

  /** The seed, for a keystore to persist. Handle as a secret. */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }

  sign(crypto: CryptoProvider, message: Uint8Array): Promise<Uint8Array> {
    return crypto.ed25519Sign(this.#seed, message);
  }

  /** The X25519 private scalar for this identity: SHA-512(seed)[0..32] (RFC 8032 §5.1.5 step 1;
   *  X25519 clamps it, RFC 7748 §5, exactly as Ed25519 step 2 does). */
  dhPrivateKey(crypto: CryptoProvider): Uint8Array {
    return crypto.sha512(this.#seed).slice(0, 32);
  }
}

/** Checks that 32 bytes decode to an Ed25519 point (RFC 8032 §5.1.3) and returns them branded. */
export function parseIdentityPublicKey(bytes: Uint8Array): IdentityPublicKey {
  if (bytes.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new ProtocolError('ERR_KEY_INVALID', `identity key: expected ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  try {
    const p = ed25519.Point.fromBytes(bytes, false);
    // A small-order identity would make every DH with it predictable.
    if (p.isSmallOrder()) throw new Error('small order');
  } catch {
    throw new ProtocolError('ERR_KEY_INVALID', 'identity key is not a valid Ed25519 point of large order');
  }
  return bytes.slice() as IdentityPublicKey;
}

/** RFC 7748 §4.1 birational map from an Ed25519 public key to its X25519 u-coordinate. */
export function identityDhPublicKey(key: IdentityPublicKey): IdentityDhPublicKey {
  return ed25519.utils.toMontgomery(key) as IdentityDhPublicKey;
}
