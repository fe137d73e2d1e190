// HKDF-Extract and HKDF-Expand as two separate steps (RFC 5869 §2.2, §2.3), built from the
// provider's HMAC-SHA-256. HPKE's LabeledExtract / LabeledExpand (RFC 9180 §4) need the two halves
// separately, which the provider's combined `hkdfSha256` does not offer.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { wipe } from '../internal/bytes.ts';

/** HashLen of SHA-256 (RFC 5869 §2.1; RFC 9180 §7.2 Nh for HKDF-SHA256). */
export const HASH_LEN = 32;

/** Largest output of one HKDF-Expand: 255 blocks (RFC 5869 §2.3, "L <= 255*HashLen"). */
export const HKDF_MAX_OUTPUT = 255 * HASH_LEN;

/** RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an empty salt is HashLen zero bytes. */
export function hkdfExtract(crypto: CryptoProvider, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return crypto.hmacSha256(salt.length === 0 ? new Uint8Array(HASH_LEN) : salt, ikm);
}

/** RFC 5869 §2.3: OKM = first L bytes of T(1) || T(2) || ..., T(i) = HMAC(PRK, T(i-1) || info || i). */
export function hkdfExpand(crypto: CryptoProvider, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_MAX_OUTPUT) {
    throw new ProtocolError('ERR_ARGUMENT', `HKDF-Expand length: expected 0..${HKDF_MAX_OUTPUT}, got ${length}`);
  }
  const okm = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, off = 0; off < length; i++) {
    const block = new Uint8Array(t.length + info.length + 1);
    block.set(t, 0);
    block.set(info, t.length);
    block[t.length + info.length] = i; // the single-octet counter, 1..255
    const next = crypto.hmacSha256(prk, block);
    wipe(t, block);
    t = next;
    const take = Math.min(HASH_LEN, length - off);
    okm.set(t.subarray(0, take), off);
    off += take;
  }
  wipe(t);
  return okm;
}
