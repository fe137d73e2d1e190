// The portable crypto provider: audited pure-TypeScript primitives from @noble/*. It runs on every
// platform and is the reference the fast provider is checked against.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { ProtocolError } from '../errors.ts';
import {
  AEAD_TAG_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  MLKEM1024_CIPHERTEXT_BYTES,
  MLKEM1024_PUBLIC_KEY_BYTES,
  MLKEM1024_SECRET_KEY_BYTES,
  MLKEM_MESSAGE_BYTES,
  MLKEM_SEED_BYTES,
  X25519_KEY_BYTES,
  type AeadAlgorithm,
  type CryptoProvider,
} from './provider.ts';

export function checkLength(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new ProtocolError('ERR_CRYPTO_PARAMETER', `${what}: expected ${n} bytes, got ${b.length}`);
}

/** Key and nonce lengths per AEAD (RFC 5116 §5.1–5.2, RFC 8439 §2.8). */
export function aeadKeyBytes(alg: AeadAlgorithm): number {
  return alg === 'aes-128-gcm' ? 16 : 32;
}
export const AEAD_NONCE_BYTES = 12;

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

function cipher(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array) {
  checkLength(`${alg} key`, key, aeadKeyBytes(alg));
  checkLength(`${alg} nonce`, nonce, AEAD_NONCE_BYTES);
  return alg === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, ad) : gcm(key, nonce, ad);
}

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  sha256: (data) => sha256(data),
  sha512: (data) => sha512(data),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt.length === 0 ? undefined : salt, info, length),

  x25519PublicKey(privateKey) {
    checkLength('X25519 private key', privateKey, X25519_KEY_BYTES);
    return Promise.resolve(x25519.getPublicKey(privateKey));
  },
  x25519(privateKey, publicKey) {
    checkLength('X25519 private key', privateKey, X25519_KEY_BYTES);
    checkLength('X25519 public key', publicKey, X25519_KEY_BYTES);
    let out: Uint8Array;
    try {
      out = x25519.getSharedSecret(privateKey, publicKey);
    } catch {
      return Promise.reject(new ProtocolError('ERR_CRYPTO_SMALL_ORDER', 'X25519 output is all zeros'));
    }
    // RFC 7748 §6.1: an all-zero output means a small-order peer key.
    if (isAllZero(out)) return Promise.reject(new ProtocolError('ERR_CRYPTO_SMALL_ORDER', 'X25519 output is all zeros'));
    return Promise.resolve(out);
  },

  ed25519PublicKey(seed) {
    checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
    return Promise.resolve(ed25519.getPublicKey(seed));
  },
  ed25519Sign(seed, message) {
    checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
    return Promise.resolve(ed25519.sign(message, seed));
  },
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return Promise.resolve(false);
    try {
      // zip215: false → RFC 8032 strict verification (canonical encodings), like OpenSSL.
      return Promise.resolve(ed25519.verify(signature, message, publicKey, { zip215: false }));
    } catch {
      return Promise.resolve(false);
    }
  },

  aeadSeal(alg, key, nonce, plaintext, ad) {
    return Promise.resolve(cipher(alg, key, nonce, ad).encrypt(plaintext));
  },
  aeadOpen(alg, key, nonce, ciphertext, ad) {
    if (ciphertext.length < AEAD_TAG_BYTES) return Promise.resolve(null);
    const c = cipher(alg, key, nonce, ad);
    try {
      return Promise.resolve(c.decrypt(ciphertext));
    } catch {
      return Promise.resolve(null);
    }
  },

  mlKem1024KeyGen(seed) {
    checkLength('ML-KEM seed', seed, MLKEM_SEED_BYTES);
    const { publicKey, secretKey } = ml_kem1024.keygen(seed);
    return Promise.resolve({ publicKey, secretKey });
  },
  mlKem1024Encapsulate(publicKey, message) {
    checkLength('ML-KEM-1024 public key', publicKey, MLKEM1024_PUBLIC_KEY_BYTES);
    checkLength('ML-KEM message', message, MLKEM_MESSAGE_BYTES);
    try {
      const { cipherText, sharedSecret } = ml_kem1024.encapsulate(publicKey, message);
      return Promise.resolve({ ciphertext: cipherText, sharedSecret });
    } catch {
      // FIPS 203 §7.2 input checks (modulus check of the encapsulation key)
      return Promise.reject(new ProtocolError('ERR_KEY_INVALID', 'ML-KEM-1024 public key fails the FIPS 203 §7.2 modulus check'));
    }
  },
  mlKem1024Decapsulate(ciphertext, secretKey) {
    checkLength('ML-KEM-1024 ciphertext', ciphertext, MLKEM1024_CIPHERTEXT_BYTES);
    checkLength('ML-KEM-1024 secret key', secretKey, MLKEM1024_SECRET_KEY_BYTES);
    try {
      return Promise.resolve(ml_kem1024.decapsulate(ciphertext, secretKey));
    } catch {
      return Promise.reject(new ProtocolError('ERR_KEY_INVALID', 'ML-KEM-1024 secret key fails the FIPS 203 §7.3 hash check'));
    }
  },
};
