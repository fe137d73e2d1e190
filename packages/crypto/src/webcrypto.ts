// The fast crypto provider for browsers: WebCrypto (SubtleCrypto) where it beats pure TypeScript,
// @noble/* (through @sotto/protocol's reference provider) everywhere else. No node: imports, so it
// bundles for the web; it also runs on Node 20, whose globalThis.crypto.subtle lets the tests check it
// byte for byte against the reference (test/crypto-providers*.test.ts).
//
// What goes where, and why (measured on Node 20; browsers show the same shape):
//   - X25519, Ed25519: WebCrypto. A scalar multiplication costs ~1 ms in noble and well under 0.1 ms
//     natively, so WebCrypto's ~70–90 µs per-call promise overhead is worth paying.
//   - SHA-2, HMAC, HKDF: noble. The interface keeps them synchronous (they are tiny and on every
//     message), and WebCrypto's async overhead (~70 µs) is 10–20× the work itself (~5–10 µs in noble).
//   - AES-GCM: noble below AEAD_WEBCRYPTO_MIN_BYTES (message-sized inputs: ~25 µs in noble against
//     ~77 µs through WebCrypto for a 160-byte frame), WebCrypto above it (noble runs at ~40 MB/s,
//     WebCrypto at GB/s, so attachments and media go native).
//   - ChaCha20-Poly1305: noble (not in WebCrypto).
//   - ML-KEM-1024: WebAssembly (not in WebCrypto): PQClean's C implementation, internal/mlkem-wasm.ts,
//     ~5× faster than @noble/post-quantum; noble where the engine cannot run WebAssembly.
// Engines without WebCrypto X25519/Ed25519 (older browsers) fall back to noble for those, detected
// once on first use.
import { nobleProvider, type AeadAlgorithm, type CryptoProvider } from '@sotto/protocol';
import {
  AEAD_TAG_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  X25519_KEY_BYTES,
  checkAeadParameters,
  checkHkdfLength,
  checkLength,
  ed25519Precheck,
  fromB64url,
  isAllZero,
  smallOrder,
} from './internal/checks.ts';
import { KeyCache } from './internal/key-cache.ts';
import { mlKem1024Decapsulate, mlKem1024Encapsulate, mlKem1024KeyGen } from './internal/mlkem-wasm.ts';

/** From this input size on, AES-GCM runs in WebCrypto (bench/ measures the crossover). */
export const AEAD_WEBCRYPTO_MIN_BYTES = 4096;

// The slice of the WebCrypto API this file uses, typed here so the file needs neither DOM nor Node types.
interface WebKey {
  readonly type: string;
}
interface Algorithm {
  readonly name: string;
}
interface SubtleLike {
  importKey(format: 'raw' | 'pkcs8', keyData: Uint8Array, algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<WebKey>;
  exportKey(format: 'jwk', key: WebKey): Promise<{ readonly x?: string }>;
  deriveBits(algorithm: { readonly name: 'X25519'; readonly public: WebKey }, base: WebKey, length: number): Promise<ArrayBuffer>;
  sign(algorithm: Algorithm, key: WebKey, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: Algorithm, key: WebKey, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
  encrypt(algorithm: AesGcmParams, key: WebKey, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: AesGcmParams, key: WebKey, data: Uint8Array): Promise<ArrayBuffer>;
}
interface AesGcmParams {
  readonly name: 'AES-GCM';
  readonly iv: Uint8Array;
  readonly additionalData: Uint8Array;
  readonly tagLength: 128;
}

function subtle(): SubtleLike | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
}

// PKCS #8 wrappers for a raw 32-byte private key (RFC 8410 §7): SEQUENCE { version 0,
// AlgorithmIdentifier { OID 1.3.101.110 (X25519) | 1.3.101.112 (Ed25519) }, OCTET STRING { OCTET STRING { key } } }.
// WebCrypto imports 25519 private keys only as PKCS #8 or JWK; PKCS #8 needs no base64.
const PKCS8_X25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20);
const PKCS8_ED25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

function pkcs8(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix);
  out.set(key, prefix.length);
  return out;
}

async function importPkcs8(s: SubtleLike, prefix: Uint8Array, name: 'X25519' | 'Ed25519', key: Uint8Array, usages: string[]): Promise<WebKey> {
  const der = pkcs8(prefix, key);
  try {
    // extractable so that the public key can be read back as JWK `x`; the key object never leaves this file
    return await s.importKey('pkcs8', der, { name }, true, usages);
  } finally {
    der.fill(0);
  }
}

async function publicFromPrivate(s: SubtleLike, key: WebKey): Promise<Uint8Array> {
  const { x } = await s.exportKey('jwk', key);
  if (typeof x !== 'string') throw new Error('WebCrypto exported an OKP private key without x');
  return fromB64url(x);
}

/** Whether this engine's WebCrypto implements `name` (checked once per algorithm by importing a fixed public key). */
function detect(name: 'X25519' | 'Ed25519'): Promise<SubtleLike | undefined> {
  const s = subtle();
  if (s === undefined) return Promise.resolve(undefined);
  // The base point's encoding (RFC 7748 §4.1 u = 9; RFC 8032 §5.1 B) is a valid public key for both.
  const probe = name === 'X25519' ? Uint8Array.of(9, ...new Uint8Array(31)) : Uint8Array.of(0x58, ...new Uint8Array(31).fill(0x66));
  return s.importKey('raw', probe, { name }, true, name === 'X25519' ? [] : ['verify']).then(
    () => s,
    () => undefined,
  );
}

let x25519Engine: Promise<SubtleLike | undefined> | undefined;
let ed25519Engine: Promise<SubtleLike | undefined> | undefined;
const x25519Subtle = (): Promise<SubtleLike | undefined> => (x25519Engine ??= detect('X25519'));
const ed25519Subtle = (): Promise<SubtleLike | undefined> => (ed25519Engine ??= detect('Ed25519'));

// Imported keys, cached by the identity of the caller's array (internal/key-cache.ts explains why
// that is safe). The caches are filled only once an engine is known to support the algorithm.
function caches(s: SubtleLike) {
  return {
    x25519Private: new KeyCache((d) => importPkcs8(s, PKCS8_X25519_PREFIX, 'X25519', d, ['deriveBits'])),
    x25519Public: new KeyCache((x) => s.importKey('raw', x, { name: 'X25519' }, true, [])),
    ed25519Private: new KeyCache((d) => importPkcs8(s, PKCS8_ED25519_PREFIX, 'Ed25519', d, ['sign'])),
    ed25519Public: new KeyCache((x) => s.importKey('raw', x, { name: 'Ed25519' }, true, ['verify'])),
    aes: new KeyCache((k) => s.importKey('raw', k, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])),
  };
}
let keyCaches: ReturnType<typeof caches> | undefined;
function keys(s: SubtleLike): ReturnType<typeof caches> {
  return (keyCaches ??= caches(s));
}

function aesParams(nonce: Uint8Array, ad: Uint8Array): AesGcmParams {
  return { name: 'AES-GCM', iv: nonce, additionalData: ad, tagLength: 128 };
}

function useWebCryptoAes(alg: AeadAlgorithm, inputBytes: number): SubtleLike | undefined {
  return alg !== 'chacha20-poly1305' && inputBytes >= AEAD_WEBCRYPTO_MIN_BYTES ? subtle() : undefined;
}

/** WebCrypto for X25519, Ed25519 and large AES-GCM; WebAssembly for ML-KEM; @noble/* for the rest (see the header). */
export const webCryptoProvider: CryptoProvider = {
  name: 'webcrypto',
  sha256: (data) => nobleProvider.sha256(data),
  sha512: (data) => nobleProvider.sha512(data),
  hmacSha256: (key, data) => nobleProvider.hmacSha256(key, data),
  hkdfSha256(ikm, salt, info, length) {
    checkHkdfLength(length); // the same error as the node provider, where noble throws a plain Error
    return nobleProvider.hkdfSha256(ikm, salt, info, length);
  },

  async x25519PublicKey(privateKey) {
    checkLength('X25519 private key', privateKey, X25519_KEY_BYTES);
    const s = await x25519Subtle();
    if (s === undefined) return nobleProvider.x25519PublicKey(privateKey);
    return publicFromPrivate(s, await keys(s).x25519Private.get(privateKey));
  },
  async x25519(privateKey, publicKey) {
    checkLength('X25519 private key', privateKey, X25519_KEY_BYTES);
    checkLength('X25519 public key', publicKey, X25519_KEY_BYTES);
    const s = await x25519Subtle();
    if (s === undefined) return nobleProvider.x25519(privateKey, publicKey);
    const k = keys(s);
    let priv: WebKey;
    let pub: WebKey;
    try {
      [priv, pub] = await Promise.all([k.x25519Private.get(privateKey), k.x25519Public.get(publicKey)]);
    } catch {
      // An engine that refuses to import some 32-byte value (Node accepts every one) must not surface
      // a raw DOMException: the reference computes the answer every provider must give (review).
      return nobleProvider.x25519(privateKey, publicKey);
    }
    let out: Uint8Array;
    try {
      out = new Uint8Array(await s.deriveBits({ name: 'X25519', public: pub }, priv, 256));
    } catch {
      // WebCrypto must fail on the all-zero output of a small-order peer key (RFC 7748 §6.1,
      // WebCrypto "Secure Curves" X25519 deriveBits step); valid imports leave no other failure.
      throw smallOrder();
    }
    if (isAllZero(out)) throw smallOrder(); // RFC 7748 §6.1, for engines that return it
    return out;
  },

  async ed25519PublicKey(seed) {
    checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
    const s = await ed25519Subtle();
    if (s === undefined) return nobleProvider.ed25519PublicKey(seed);
    return publicFromPrivate(s, await keys(s).ed25519Private.get(seed));
  },
  async ed25519Sign(seed, message) {
    checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
    const s = await ed25519Subtle();
    if (s === undefined) return nobleProvider.ed25519Sign(seed, message);
    return new Uint8Array(await s.sign({ name: 'Ed25519' }, await keys(s).ed25519Private.get(seed), message));
  },
  async ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    // Reject what the reference rejects from the encodings alone (internal/checks.ts explains why).
    if (!ed25519Precheck(publicKey, signature)) return false;
    const s = await ed25519Subtle();
    if (s !== undefined) {
      try {
        if (await s.verify({ name: 'Ed25519' }, await keys(s).ed25519Public.get(publicKey), signature, message)) return true;
      } catch {
        // an encoding the engine cannot import as a point; the reference says false for it too
      }
    }
    // Engines check the cofactorless equation; the reference accepts cofactored-only signatures too.
    return nobleProvider.ed25519Verify(publicKey, message, signature);
  },

  async aeadSeal(alg, key, nonce, plaintext, ad) {
    checkAeadParameters(alg, key, nonce);
    const s = useWebCryptoAes(alg, plaintext.length);
    if (s === undefined) return nobleProvider.aeadSeal(alg, key, nonce, plaintext, ad);
    return new Uint8Array(await s.encrypt(aesParams(nonce, ad), await keys(s).aes.get(key), plaintext));
  },
  async aeadOpen(alg, key, nonce, ciphertext, ad) {
    // Same order as the reference: a too-short input is an authentication failure before any key check.
    if (ciphertext.length < AEAD_TAG_BYTES) return null;
    checkAeadParameters(alg, key, nonce);
    const s = useWebCryptoAes(alg, ciphertext.length);
    if (s === undefined) return nobleProvider.aeadOpen(alg, key, nonce, ciphertext, ad);
    const aesKey = await keys(s).aes.get(key);
    try {
      return new Uint8Array(await s.decrypt(aesParams(nonce, ad), aesKey, ciphertext));
    } catch {
      return null; // OperationError: the tag does not verify
    }
  },

  mlKem1024KeyGen,
  mlKem1024Encapsulate,
  mlKem1024Decapsulate,
};

/** The fast provider for this platform. */
export const fastProvider: CryptoProvider = webCryptoProvider;
