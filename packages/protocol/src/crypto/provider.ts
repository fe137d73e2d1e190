// The crypto-provider interface: the only way the protocol core reaches cryptographic primitives.
// Two implementations must agree byte for byte (test/crypto-providers.test.ts):
//   - the portable one in this package (@noble/*), usable everywhere;
//   - the fast one in @sotto/crypto (node:crypto on Node, WebCrypto in browsers), chosen per platform.
// Randomness is not part of a provider: callers inject an `Rng`, so a seeded Rng gives the same
// transcript with either provider. Hashes, HMAC and HKDF are synchronous (cheap, and WebCrypto's
// async overhead dominates them); everything that may run on WebCrypto is asynchronous.

/** Source of randomness. Production code passes a CSPRNG; tests may pass a seeded one. */
export type Rng = (length: number) => Uint8Array;

/** AEAD algorithms the protocol uses (docs/protocol.md §1.2). */
export type AeadAlgorithm = 'aes-256-gcm' | 'aes-128-gcm' | 'chacha20-poly1305';

export interface MlKemKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export interface MlKemEncapsulation {
  readonly ciphertext: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

export interface CryptoProvider {
  /** Human-readable name, for benchmarks and test names. */
  readonly name: string;

  // FIPS 180-4
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  // RFC 2104 with SHA-256
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  // RFC 5869 with SHA-256; an empty salt means HashLen zero bytes (RFC 5869 §2.2)
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  // RFC 7748 §5: public key from a 32-byte private scalar (clamped by the function)
  x25519PublicKey(privateKey: Uint8Array): Promise<Uint8Array>;
  // RFC 7748 §6.1; rejects with ERR_CRYPTO_SMALL_ORDER when the output is all zeros
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;

  // RFC 8032 §5.1 (pure Ed25519, deterministic): 32-byte seed → 32-byte public key
  ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array>;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  /** Resolves false for any invalid signature or key; never rejects for bad input. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;

  /** Returns ciphertext || 16-byte tag. */
  aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array>;
  /** Returns the plaintext, or null when authentication fails. */
  aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Uint8Array | null>;

  // FIPS 203 ML-KEM-1024: keygen from the 64-byte seed d || z (§7.1), encapsulation from the
  // 32-byte message m (§7.2), decapsulation (§7.3, implicit rejection).
  mlKem1024KeyGen(seed: Uint8Array): Promise<MlKemKeyPair>;
  mlKem1024Encapsulate(publicKey: Uint8Array, message: Uint8Array): Promise<MlKemEncapsulation>;
  mlKem1024Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
}

/** Lengths fixed by the primitives above. */
export const X25519_KEY_BYTES = 32; // RFC 7748 §5
export const ED25519_PUBLIC_KEY_BYTES = 32; // RFC 8032 §5.1.5
export const ED25519_SEED_BYTES = 32; // RFC 8032 §5.1.5
export const ED25519_SIGNATURE_BYTES = 64; // RFC 8032 §5.1.6
export const AEAD_TAG_BYTES = 16; // NIST SP 800-38D / RFC 8439
export const MLKEM1024_PUBLIC_KEY_BYTES = 1568; // FIPS 203 Table 3
export const MLKEM1024_SECRET_KEY_BYTES = 3168; // FIPS 203 Table 3
export const MLKEM1024_CIPHERTEXT_BYTES = 1568; // FIPS 203 Table 3
export const MLKEM_SEED_BYTES = 64; // FIPS 203 §7.1 (d || z)
export const MLKEM_MESSAGE_BYTES = 32; // FIPS 203 §7.2
export const MLKEM_SHARED_SECRET_BYTES = 32; // FIPS 203 §7.2
