// Input checks shared by the fast providers, so that they fail exactly where, and with exactly the
// error, that the reference provider (@sotto/protocol's nobleProvider) fails. Platform-neutral: the
// WebCrypto provider runs in browsers, so nothing here may import node: modules.
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { ProtocolError, type AeadAlgorithm } from '@sotto/protocol';

// Lengths fixed by the primitives (same values as packages/protocol/src/crypto/provider.ts).
export const X25519_KEY_BYTES = 32; // RFC 7748 §5
export const ED25519_PUBLIC_KEY_BYTES = 32; // RFC 8032 §5.1.5
export const ED25519_SEED_BYTES = 32; // RFC 8032 §5.1.5
export const ED25519_SIGNATURE_BYTES = 64; // RFC 8032 §5.1.6
export const AEAD_TAG_BYTES = 16; // NIST SP 800-38D / RFC 8439
export const AEAD_NONCE_BYTES = 12; // RFC 5116 §5.1–5.2, RFC 8439 §2.8
export const SHA256_BYTES = 32; // FIPS 180-4
/** RFC 5869 §2.3: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_OUTPUT = 255 * SHA256_BYTES;

export function checkLength(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new ProtocolError('ERR_CRYPTO_PARAMETER', `${what}: expected ${n} bytes, got ${b.length}`);
}

/** Key length per AEAD (RFC 5116 §5.1–5.2, RFC 8439 §2.8). */
export function aeadKeyBytes(alg: AeadAlgorithm): number {
  return alg === 'aes-128-gcm' ? 16 : 32;
}

/** The reference provider checks the key first, then the nonce (noble.ts `cipher`). Same order here. */
export function checkAeadParameters(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): void {
  checkLength(`${alg} key`, key, aeadKeyBytes(alg));
  checkLength(`${alg} nonce`, nonce, AEAD_NONCE_BYTES);
}

/**
 * HKDF output length check. @noble/hashes throws a plain Error for these; the fast providers throw
 * ERR_CRYPTO_PARAMETER. Either way the call throws for exactly the same inputs (tested).
 */
export function checkHkdfLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > HKDF_SHA256_MAX_OUTPUT) {
    throw new ProtocolError('ERR_CRYPTO_PARAMETER', `HKDF-SHA-256 length: expected an integer in 0..${HKDF_SHA256_MAX_OUTPUT}, got ${String(length)}`);
  }
}

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

export function smallOrder(): ProtocolError {
  return new ProtocolError('ERR_CRYPTO_SMALL_ORDER', 'X25519 output is all zeros');
}

/** Copies into a plain Uint8Array that owns its memory (Node Buffers may be views of a shared pool). */
export function own(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

export function b64url(b: Uint8Array): string {
  let bin = '';
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ed25519 verification policy.
//
// The reference (nobleProvider, `zip215: false`) follows RFC 8032 §5.1.7 with strict decoding and the
// COFACTORED equation [8][S]B = [8]R + [8][k]A, and additionally rejects small-order public keys.
// OpenSSL 3 (node:crypto and WebCrypto in Node) differs in two ways, both measured in
// test/crypto-providers-ed25519.test.ts:
//   1. it ACCEPTS small-order public keys (e.g. the identity 01 00..00: then (R = [S]B, S) verifies
//      for every message) — noble strict rejects them;
//   2. it checks the COFACTORLESS equation [S]B = R + [k]A by comparing encodings, so it REJECTS
//      signatures whose R (or A) carries a small-order component that the cofactored check absorbs.
// Browsers' engines (BoringSSL, NSS, CryptoKit) vary in the same two dimensions.
// To make every provider return exactly the reference's answer:
//   - `ed25519Precheck` rejects, before the backend runs, everything the reference rejects on the
//     encodings alone: S >= L, a non-canonical A or R (y >= p, or x = 0 with the sign bit set), and an A
//     of small order (its y is one of the eight torsion points' y);
//   - a backend "true" is then a "true" of the reference too (cofactorless implies cofactored);
//   - a backend "false" is re-checked with the reference, which accepts only the cofactored-only
//     forgeries of point 2. Honest signatures never take that path; an attacker sending invalid
//     signatures makes us spend one noble verification (~1.2 ms) per bad signature.
// ---------------------------------------------------------------------------------------------

const P25519 = (1n << 255n) - 19n; // RFC 8032 §5.1
const L25519 = (1n << 252n) + 27742317777372353535851937790883648493n; // RFC 8032 §5.1

function leInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] ?? 0);
  return n;
}

function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** y-coordinates (sign bit cleared) of the eight points of order dividing 8 (noble's torsion list). */
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set(
  ED25519_TORSION_SUBGROUP.map((h) => {
    const b = hexBytes(h);
    b[31] = (b[31] ?? 0) & 0x7f;
    return leInt(b);
  }),
);

/** RFC 8032 §5.1.3 decoding steps that need no field arithmetic: y < p, and not (x = 0 with x_0 = 1). */
function isCanonicalPointEncoding(enc: Uint8Array): { ok: boolean; y: bigint } {
  const last = enc[31] ?? 0;
  const copy = enc.slice(0, 32);
  copy[31] = last & 0x7f;
  const y = leInt(copy);
  if (y >= P25519) return { ok: false, y };
  // x = 0 exactly when y = ±1 (from -x² + y² = 1 + d·x²·y²); then the sign bit must be 0 (§5.1.3 step 4).
  if ((last & 0x80) !== 0 && (y === 1n || y === P25519 - 1n)) return { ok: false, y };
  return { ok: true, y };
}

/** False when the reference verifier rejects (publicKey, signature) from their encodings alone. */
export function ed25519Precheck(publicKey: Uint8Array, signature: Uint8Array): boolean {
  const s = leInt(signature.subarray(32, 64));
  if (s >= L25519) return false; // RFC 8032 §5.1.7 step 1
  const a = isCanonicalPointEncoding(publicKey);
  if (!a.ok || SMALL_ORDER_Y.has(a.y)) return false;
  return isCanonicalPointEncoding(signature.subarray(0, 32)).ok;
}
