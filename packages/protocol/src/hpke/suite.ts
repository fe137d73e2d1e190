// HPKE identifiers, sizes and the labelled KDF of RFC 9180 §4 for the one KEM and KDF Sotto
// implements: DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256, and the three AEADs of RFC 9180 §7.3.
import { ProtocolError } from '../errors.ts';
import type { AeadAlgorithm, CryptoProvider } from '../crypto/provider.ts';
import { concatBytes, utf8 } from '../internal/bytes.ts';
import { HASH_LEN, hkdfExpand, hkdfExtract } from './hkdf.ts';

/** The AEADs HPKE can use here (RFC 9180 §7.3; the export-only mode 0xFFFF is out of scope: Sotto never needs a context without an AEAD). */
export type HpkeAead = AeadAlgorithm;

/** RFC 9180 §7.1 Table 2: DHKEM(X25519, HKDF-SHA256). */
export const KEM_ID_X25519_HKDF_SHA256 = 0x0020;
/** RFC 9180 §7.2 Table 3: HKDF-SHA256. */
export const KDF_ID_HKDF_SHA256 = 0x0001;
/** RFC 9180 §7.3 Table 5. */
export const AEAD_ID: Readonly<Record<HpkeAead, number>> = {
  'aes-128-gcm': 0x0001,
  'aes-256-gcm': 0x0002,
  'chacha20-poly1305': 0x0003,
};
/** RFC 9180 §7.3 Table 5: Nk, the AEAD key length. */
export function aeadNk(aead: HpkeAead): number {
  return aead === 'aes-128-gcm' ? 16 : 32;
}
/** RFC 9180 §7.3 Table 5: Nn, the nonce length, 12 for all three. */
export const AEAD_NN = 12;
/** RFC 9180 §7.2 Table 3: Nh of HKDF-SHA256. */
export const KDF_NH = HASH_LEN;
/** RFC 9180 §7.1 Table 2 for DHKEM(X25519, HKDF-SHA256): Nsecret, Nenc, Npk, Nsk. */
export const KEM_NSECRET = 32;
export const KEM_NENC = 32;
export const KEM_NPK = 32;
export const KEM_NSK = 32;

/** RFC 9180 §5: mode identifiers. */
export const HpkeModeId = { base: 0x00, psk: 0x01, auth: 0x02, auth_psk: 0x03 } as const;
export type HpkeModeName = keyof typeof HpkeModeId;

/** RFC 9180 §4: the version label prefixed to every labelled KDF input. */
const HPKE_VERSION_LABEL = utf8('HPKE-v1');

/** RFC 9180 §4.1: suite_id = concat("KEM", I2OSP(kem_id, 2)) inside the KEM. */
export const KEM_SUITE_ID = concatBytes(utf8('KEM'), i2osp(KEM_ID_X25519_HKDF_SHA256, 2));

/** RFC 9180 §5.1: suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2), I2OSP(aead_id, 2)). */
export function hpkeSuiteId(aead: HpkeAead): Uint8Array {
  return concatBytes(utf8('HPKE'), i2osp(KEM_ID_X25519_HKDF_SHA256, 2), i2osp(KDF_ID_HKDF_SHA256, 2), i2osp(AEAD_ID[aead], 2));
}

/** RFC 8017 §4.1 I2OSP for safe integers (exact: every step divides a safe integer by 256). */
export function i2osp(value: number, n: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * n)) {
    throw new ProtocolError('ERR_ARGUMENT', `I2OSP: ${value} does not fit ${n} bytes`);
  }
  const out = new Uint8Array(n);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
export function labeledExtract(crypto: CryptoProvider, suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(crypto, salt, concatBytes(HPKE_VERSION_LABEL, suiteId, utf8(label), ikm));
}

/** RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L). */
export function labeledExpand(crypto: CryptoProvider, suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new ProtocolError('ERR_ARGUMENT', `LabeledExpand length: expected 0..65535, got ${length}`);
  }
  return hkdfExpand(crypto, prk, concatBytes(i2osp(length, 2), HPKE_VERSION_LABEL, suiteId, utf8(label), info), length);
}
