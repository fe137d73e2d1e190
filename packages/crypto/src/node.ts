// The fast crypto provider on Node: node:crypto's synchronous API (OpenSSL 3) behind @sotto/protocol's
// CryptoProvider interface. It must agree byte for byte with the reference nobleProvider, including
// which inputs are rejected and with which error code (test/crypto-providers*.test.ts).
//
// Speeds measured here (Node 20.20, 2 vCPU; /work/shared/notes/node-crypto.md and bench/): X25519 DH
// ~30–40 µs versus ~1 ms in noble; AES-GCM on a 160-byte frame ~5 µs versus ~28 µs.
//
// Key material crosses into OpenSSL as JWK, never DER (DER import costs ~3× the DH itself). Importing
// a *private* 25519 JWK makes OpenSSL recompute the public key (one scalar multiplication, ~40 µs),
// which is why imported private keys are cached (see `KeyCache`). The `x` member of a private JWK is
// ignored by that recomputation, so any fixed 32 bytes will do (IGNORED_JWK_X). Two traps, both avoided here:
//   - `createPublicKey({ kty, crv, d, x })` does NOT derive the public key from d: it returns x as
//     given. Always import the private key first, then `createPublicKey(privateKeyObject)`.
//   - Node 20 can deadlock exporting a freshly *generated* key object as JWK; we never generate keys
//     here (randomness is the caller's Rng), we only import.
//
// ML-KEM-1024 is not in Node 20's node:crypto; it runs in WebAssembly (PQClean's C implementation,
// internal/mlkem-wasm.ts, ~5× faster than @noble/post-quantum), byte for byte the reference's results.
import {
  createCipheriv,
  createDecipheriv,
  hash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  sign as nodeSign,
  verify as nodeVerify,
  type CipherChaCha20Poly1305,
  type CipherGCM,
  type DecipherChaCha20Poly1305,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';
import { nobleProvider, type AeadAlgorithm, type CryptoProvider } from '@sotto/protocol';
import {
  AEAD_TAG_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  SHA256_BYTES,
  X25519_KEY_BYTES,
  checkAeadParameters,
  checkHkdfLength,
  checkLength,
  ed25519Precheck,
  isAllZero,
  own,
  smallOrder,
} from './internal/checks.ts';
import { KeyCache } from './internal/key-cache.ts';
import { mlKem1024Decapsulate, mlKem1024Encapsulate, mlKem1024KeyGen } from './internal/mlkem-wasm.ts';

type Curve = 'X25519' | 'Ed25519';

/** Any 32 bytes: OpenSSL recomputes the public key from d and ignores x (verified in the tests). */
const IGNORED_JWK_X = Buffer.alloc(32, 9).toString('base64url');

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

function importPrivate(crv: Curve, d: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv, d: b64(d), x: IGNORED_JWK_X }, format: 'jwk' });
}

function importPublic(crv: Curve, x: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: b64(x) }, format: 'jwk' });
}

function exportPublic(key: KeyObject): Uint8Array {
  const { x } = createPublicKey(key).export({ format: 'jwk' });
  if (typeof x !== 'string') throw new Error('node:crypto exported an OKP public key without x');
  return own(Buffer.from(x, 'base64url'));
}

// One cache per kind of key, so an X25519 scalar can never be served as an Ed25519 seed.
const x25519Private = new KeyCache((d) => importPrivate('X25519', d));
const x25519Public = new KeyCache((x) => importPublic('X25519', x));
const ed25519Private = new KeyCache((d) => importPrivate('Ed25519', d));
const ed25519Public = new KeyCache((x) => importPublic('Ed25519', x));

// HMAC-SHA-256 (RFC 2104) on node:crypto's one-shot `hash()`: two hash calls on preassembled buffers.
// Measured ~30 % faster than createHmac on the ratchet's 1–64-byte inputs (createHmac's cost is
// almost all object set-up), which matters because every message runs 5 HMACs on each side.
// Byte-for-byte equality with createHmac and the reference is tested over keys of 0–3000 bytes.
const HMAC_BLOCK = 64; // SHA-256 block size (FIPS 180-4 §5.1.1), RFC 2104 "B"
const IPAD = 0x36; // RFC 2104 §2
const OPAD = 0x5c; // RFC 2104 §2

const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer');

/** K XOR ipad and K XOR opad (RFC 2104 §2 steps 1–2, 5), keys longer than B hashed first. */
interface Pads {
  readonly inner: Uint8Array;
  readonly outer: Uint8Array;
}

function pads(key: Uint8Array): Pads {
  const k = key.length > HMAC_BLOCK ? sha256(key) : key;
  const inner = new Uint8Array(HMAC_BLOCK).fill(IPAD);
  const outer = new Uint8Array(HMAC_BLOCK).fill(OPAD);
  for (let i = 0; i < k.length; i++) {
    const x = k[i] ?? 0;
    inner[i] = IPAD ^ x;
    outer[i] = OPAD ^ x;
  }
  if (k !== key) k.fill(0);
  return { inner, outer };
}

function wipePads(p: Pads): void {
  p.inner.fill(0);
  p.outer.fill(0);
}

/** H(K ^ opad || H(K ^ ipad || data...)) (RFC 2104 §2 steps 3–7). */
function hmacWith(p: Pads, ...data: Uint8Array[]): Uint8Array {
  let n = HMAC_BLOCK;
  for (const d of data) n += d.length;
  const inner = new Uint8Array(n);
  inner.set(p.inner);
  let off = HMAC_BLOCK;
  for (const d of data) {
    inner.set(d, off);
    off += d.length;
  }
  const outer = new Uint8Array(HMAC_BLOCK + SHA256_BYTES);
  outer.set(p.outer);
  const innerHash = sha256(inner);
  outer.set(innerHash, HMAC_BLOCK);
  const out = own(sha256(outer));
  inner.fill(0, 0, HMAC_BLOCK);
  outer.fill(0);
  innerHash.fill(0);
  return out;
}

function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const p = pads(key);
  const out = hmacWith(p, data);
  wipePads(p);
  return out;
}

/** RFC 5869 §2.2: an absent salt is HashLen zero bytes; its pads are constant. */
const ZERO_SALT_PADS = pads(new Uint8Array(SHA256_BYTES));

/**
 * RFC 5869 with HMAC-SHA-256 as above: ~9 µs against ~13 µs for hkdfSync on 32–64-byte outputs, and
 * hkdfSync also refuses info longer than 1024 bytes, which RFC 5869 allows.
 */
function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkHkdfLength(length);
  const saltPads = salt.length === 0 ? ZERO_SALT_PADS : pads(salt);
  const prk = hmacWith(saltPads, ikm); // §2.2 PRK = HMAC-Hash(salt, IKM)
  if (saltPads !== ZERO_SALT_PADS) wipePads(saltPads);
  const prkPads = pads(prk);
  prk.fill(0);
  const okm = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, off = 0; off < length; i++) {
    const next = hmacWith(prkPads, t, info, Uint8Array.of(i)); // §2.3 T(i) = HMAC-Hash(PRK, T(i-1) | info | i)
    t.fill(0);
    t = next;
    okm.set(t.subarray(0, Math.min(t.length, length - off)), off);
    off += t.length;
  }
  t.fill(0);
  wipePads(prkPads);
  return okm;
}

// The ternaries only select createCipheriv's typed overload; both arms do the same.
function newCipher(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): CipherGCM | CipherChaCha20Poly1305 {
  const options = { authTagLength: AEAD_TAG_BYTES };
  return alg === 'chacha20-poly1305' ? createCipheriv(alg, key, nonce, options) : createCipheriv(alg, key, nonce, options);
}

function newDecipher(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): DecipherGCM | DecipherChaCha20Poly1305 {
  const options = { authTagLength: AEAD_TAG_BYTES };
  return alg === 'chacha20-poly1305' ? createDecipheriv(alg, key, nonce, options) : createDecipheriv(alg, key, nonce, options);
}

function aeadSeal(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  checkAeadParameters(alg, key, nonce);
  const c = newCipher(alg, key, nonce);
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
  const head = c.update(plaintext);
  out.set(head, 0);
  const tail = c.final();
  out.set(tail, head.length);
  out.set(c.getAuthTag(), plaintext.length);
  return out;
}

function aeadOpen(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null {
  // Same order as the reference: a too-short input is an authentication failure before any key check.
  if (ciphertext.length < AEAD_TAG_BYTES) return null;
  checkAeadParameters(alg, key, nonce);
  const n = ciphertext.length - AEAD_TAG_BYTES;
  const d = newDecipher(alg, key, nonce);
  d.setAAD(ad, { plaintextLength: n });
  d.setAuthTag(ciphertext.subarray(n));
  const out = new Uint8Array(n);
  const head = d.update(ciphertext.subarray(0, n));
  try {
    const tail = d.final();
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch {
    head.fill(0); // unauthenticated plaintext never leaves
    return null;
  }
}

function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkLength('X25519 private key', privateKey, X25519_KEY_BYTES);
  checkLength('X25519 public key', publicKey, X25519_KEY_BYTES);
  const keys = { privateKey: x25519Private.get(privateKey), publicKey: x25519Public.get(publicKey) };
  let out: Buffer;
  try {
    out = diffieHellman(keys);
  } catch {
    // OpenSSL refuses to return the all-zero output of a small-order peer key (RFC 7748 §6.1);
    // any 32 bytes import as an X25519 key, so this is the only way derivation fails.
    throw smallOrder();
  }
  if (isAllZero(out)) throw smallOrder(); // RFC 7748 §6.1, in case a build returns it
  return own(out);
}

/** Runs a synchronous primitive as the interface's promise: a throw becomes a rejection. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** node:crypto on Node (OpenSSL 3); ML-KEM-1024 in WebAssembly (PQClean, internal/mlkem-wasm.ts). */
export const nodeProvider: CryptoProvider = {
  name: 'node',
  sha256: (data) => own(sha256(data)),
  sha512: (data) => own(hash('sha512', data, 'buffer')),
  hmacSha256: hmac,
  hkdfSha256: hkdf,

  x25519PublicKey(privateKey) {
    return settle(() => {
      checkLength('X25519 private key', privateKey, X25519_KEY_BYTES);
      return exportPublic(x25519Private.get(privateKey));
    });
  },
  x25519: (privateKey, publicKey) => settle(() => x25519(privateKey, publicKey)),

  ed25519PublicKey(seed) {
    return settle(() => {
      checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
      return exportPublic(ed25519Private.get(seed));
    });
  },
  ed25519Sign(seed, message) {
    return settle(() => {
      checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
      return own(nodeSign(null, message, ed25519Private.get(seed)));
    });
  },
  async ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    // Reject what the reference rejects from the encodings alone (internal/checks.ts explains why).
    if (!ed25519Precheck(publicKey, signature)) return false;
    try {
      if (nodeVerify(null, message, ed25519Public.get(publicKey), signature)) return true;
    } catch {
      // a public key OpenSSL cannot decode as a point; the reference says false for it too
    }
    // OpenSSL's cofactorless check rejects signatures that the reference's cofactored check accepts.
    return nobleProvider.ed25519Verify(publicKey, message, signature);
  },

  aeadSeal: (alg, key, nonce, plaintext, ad) => settle(() => aeadSeal(alg, key, nonce, plaintext, ad)),
  aeadOpen: (alg, key, nonce, ciphertext, ad) => settle(() => aeadOpen(alg, key, nonce, ciphertext, ad)),

  mlKem1024KeyGen,
  mlKem1024Encapsulate,
  mlKem1024Decapsulate,
};

/** The fast provider for this platform. */
export const fastProvider: CryptoProvider = nodeProvider;
