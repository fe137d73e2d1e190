// Identity keys (docs/protocol.md §3.1). A Sotto identity is an Ed25519 key pair (RFC 8032). It
// signs prekeys, and takes part in PQXDH's Diffie-Hellman through the birational map to X25519
// (RFC 7748 §4.1: u = (1 + y) / (1 - y); secret: the clamped first half of SHA-512(seed), RFC 8032
// §5.1.5), the way Wire's Proteus uses one Ed25519 identity for both. Each key is used in one role
// per protocol step, and every signature and DH is bound to its purpose by the KDF labels.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { ProtocolError } from '../errors.ts';
import { toHex, utf8 } from '../internal/bytes.ts';
import { Lru } from '../internal/lru.ts';
import { IDENTITY_KEY_CACHE_ENTRIES } from '../limits.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, type CryptoProvider, type Rng } from '../crypto/provider.ts';
import { Redacted, type Brand } from './redacted.ts';

/**
 * docs/protocol/03 §3.3: the closed registry of what an identity key signs. Every message it signs
 * starts with one of these labels; no label is a prefix of another, so a signature made for one
 * purpose never verifies as another, and `IdentityKeyPair.sign` refuses any other message — a server
 * that asks a device to sign a "challenge" cannot get a prekey signature out of it: the challenge
 * goes after the serverAuth label (docs/protocol/09 §9.4). A new purpose gets a new label here.
 */
export const IDENTITY_SIGNATURE_LABELS = {
  signedPrekey: utf8('Sotto_v1_SignedPrekey'),
  oneTimePrekey: utf8('Sotto_v1_OneTimePrekey'),
  kemPrekey: utf8('Sotto_v1_KemPrekey'),
  senderCertificate: utf8('Sotto v1 sender certificate'),
  // docs/protocol/09 §9.3: proof, at registration, that the registrant holds the identity key.
  registration: utf8('Sotto_v1_Registration'),
  // docs/protocol/09 §9.4: a device's answer to a server's authentication challenge.
  serverAuth: utf8('Sotto_v1_ServerAuth'),
} as const;

function hasRegisteredLabel(message: Uint8Array): boolean {
  return Object.values(IDENTITY_SIGNATURE_LABELS).some((label) => message.length >= label.length && label.every((b, i) => message[i] === b));
}

/** 32-byte Ed25519 public key of an identity. */
export type IdentityPublicKey = Brand<Uint8Array, 'IdentityPublicKey'>;
/** 32-byte X25519 form of an identity public key (RFC 7748 §4.1). */
export type IdentityDhPublicKey = Brand<Uint8Array, 'IdentityDhPublicKey'>;

/** An identity key pair. The seed stays in a private field and never prints. */
export class IdentityKeyPair extends Redacted {
  protected readonly kind = 'IdentityKeyPair';
  readonly #seed: Uint8Array;
  /** The X25519 scalar, derived once: the same array on every DH lets the fast provider reuse its
   *  imported key object. Never handed out (dhPrivateKey() returns a copy). */
  #dhScalar: Uint8Array | undefined;
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

  /** Signs a message that starts with a label of IDENTITY_SIGNATURE_LABELS; anything else is ERR_ARGUMENT. */
  sign(crypto: CryptoProvider, message: Uint8Array): Promise<Uint8Array> {
    if (!hasRegisteredLabel(message)) {
      return Promise.reject(new ProtocolError('ERR_ARGUMENT', 'an identity key signs only messages that start with a registered label (docs/protocol/03 §3.3)'));
    }
    return crypto.ed25519Sign(this.#seed, message);
  }

  /** The X25519 private scalar for this identity: SHA-512(seed)[0..32] (RFC 8032 §5.1.5 step 1;
   *  X25519 clamps it, RFC 7748 §5, exactly as Ed25519 step 2 does). */
  dhPrivateKey(crypto: CryptoProvider): Uint8Array {
    return this.#scalar(crypto).slice();
  }

  /** X25519 between this identity (its §1.3 scalar) and a peer's X25519 public key. */
  dh(crypto: CryptoProvider, peerPublicKey: Uint8Array): Promise<Uint8Array> {
    return crypto.x25519(this.#scalar(crypto), peerPublicKey);
  }

  #scalar(crypto: CryptoProvider): Uint8Array {
    this.#dhScalar ??= crypto.sha512(this.#seed).slice(0, 32);
    return this.#dhScalar;
  }
}

// Validated identity keys and their X25519 forms, by hex. Public data only; decoding a point costs
// a square root (~100 µs in JavaScript) and every handshake and envelope meets the same keys again.
const validated = new Lru<IdentityDhPublicKey>(IDENTITY_KEY_CACHE_ENTRIES);

/** Checks that 32 bytes are the canonical encoding of an Ed25519 point in the prime-order subgroup
 *  (RFC 8032 §5.1.3, strict; not small order, no torsion component) and returns a branded copy. */
export function parseIdentityPublicKey(bytes: Uint8Array): IdentityPublicKey {
  if (bytes.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new ProtocolError('ERR_KEY_INVALID', `identity key: expected ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  const key = bytes.slice() as IdentityPublicKey;
  const hex = toHex(key);
  if (validated.get(hex) !== undefined) return key;
  try {
    const p = ed25519.Point.fromBytes(key, false); // zip215 = false: canonical y < p only
    // A small-order identity would make every DH with it predictable.
    if (p.isSmallOrder()) throw new Error('small order');
    // A torsion component (A + T) would give one secret eight valid public keys: one key per
    // identity is what safety numbers, the trust store and key transparency compare (found in review).
    if (!p.isTorsionFree()) throw new Error('torsion component');
  } catch {
    throw new ProtocolError('ERR_KEY_INVALID', 'identity key is not a valid Ed25519 point of prime order');
  }
  validated.set(hex, montgomeryU(key));
  return key;
}

/** RFC 7748 §4.1 birational map from an Ed25519 public key to its X25519 u-coordinate. */
export function identityDhPublicKey(key: IdentityPublicKey): IdentityDhPublicKey {
  const hex = toHex(key);
  const known = validated.get(hex);
  if (known !== undefined) return known.slice() as IdentityDhPublicKey;
  // A branded key always came through parseIdentityPublicKey; parse again in case it was evicted.
  parseIdentityPublicKey(key);
  return (validated.get(hex) ?? montgomeryU(key)).slice() as IdentityDhPublicKey;
}

/** u = (1 + y) / (1 − y) mod p (RFC 7748 §4.1), for a key already known to be a canonical point of
 *  large order (so y < p and y ≠ 1). One field inversion instead of a full point decompression. */
function montgomeryU(key: IdentityPublicKey): IdentityDhPublicKey {
  const Fp = ed25519.Point.Fp;
  const yBytes = key.slice();
  yBytes[31] = (yBytes[31] ?? 0) & 0x7f; // RFC 8032 §5.1.3 step 1: the top bit is the sign of x
  const y = bytesToNumberLE(yBytes);
  const u = Fp.mul(Fp.add(Fp.ONE, y), Fp.inv(Fp.sub(Fp.ONE, y)));
  return numberToBytesLE(u, 32) as IdentityDhPublicKey;
}
