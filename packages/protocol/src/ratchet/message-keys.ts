// Per-message encryption: ENCRYPT / DECRYPT of "The Double Ratchet Algorithm" rev 1 (Signal,
// 2016-11-20), §3.1, used as in §3.4 ENCRYPT(mk, plaintext, CONCAT(AD, header));
// docs/protocol/05-double-ratchet.md §5.5.
//
//   key   = HKDF-Expand-SHA-256(PRK = mk, info = MESSAGE_KEYS_INFO, L = 32) = HMAC-SHA-256(mk, info || 0x01)
//   nonce = 12 zero bytes
//   ciphertext || tag = AES-256-GCM(key, nonce, plaintext, aad = AD || header)
//
// Expand without Extract (RFC 5869 §3.3): mk = HMAC(ck, 0x01) is already a uniformly random 32-byte
// key, so Extract adds nothing. A constant nonce is sound because a key encrypts exactly one message
// (below), so no (key, nonce) pair ever repeats (NIST SP 800-38D §8.2); deriving only the key halves
// the per-message KDF cost (one HMAC instead of three), measured in bench/.
//
// Deliberate deviation from the §5.2 recommendation (AES-256-CBC + HMAC-SHA-256, 80 bytes of HKDF):
//  - AES-GCM is a standard AEAD with a single pass, hardware-accelerated in node:crypto and WebCrypto;
//    CBC + HMAC needs two passes, PKCS#7 padding (up to 16 more bytes per message) and a separate MAC
//    (libsignal sends 8 of its 32 bytes), so GCM is both faster and smaller on the wire.
//  - GCM's weak spot, nonce reuse under one key, cannot happen: every message key is used for exactly
//    one encryption (spec §3.1 "each message key is only used once"), and the AEAD key is derived from
//    it with its own label.
//  - GCM is not key-committing, which matters only where a receiver tries several keys on one
//    ciphertext (partitioning oracles). A Sotto receiver tries exactly one message key per message:
//    the one selected by the (authenticated) header.
import type { AeadAlgorithm, CryptoProvider } from '../crypto/provider.ts';
import { concatBytes, utf8 } from '../internal/bytes.ts';
import type { MessageKey } from './chain-key.ts';

/** The message AEAD (docs/protocol/05-double-ratchet.md §5.5). */
export const MESSAGE_AEAD: AeadAlgorithm = 'aes-256-gcm';
/** HKDF-Expand info for the per-message AEAD key (docs/protocol/05-double-ratchet.md §5.5). */
export const MESSAGE_KEYS_INFO = utf8('Sotto v1 message keys');
/** AES-256 key (FIPS 197) and 96-bit GCM nonce (NIST SP 800-38D §5.2.1.1). */
export const MESSAGE_AEAD_KEY_BYTES = 32;
export const MESSAGE_AEAD_NONCE_BYTES = 12;

/** RFC 5869 §2.3: T(1) = HMAC(PRK, T(0) || info || 0x01) with T(0) empty; L = 32 needs only T(1). */
const EXPAND_BLOCK_1 = concatBytes(MESSAGE_KEYS_INFO, Uint8Array.of(0x01));
/** The single-use key's nonce: all zeros (see the file header). */
const ZERO_NONCE = new Uint8Array(MESSAGE_AEAD_NONCE_BYTES);

/** HKDF-Expand(mk) → the AES-256-GCM key, single-use because mk is; the nonce is constant. */
export function deriveMessageAeadKeys(crypto: CryptoProvider, messageKey: MessageKey): { key: Uint8Array; nonce: Uint8Array } {
  return { key: crypto.hmacSha256(messageKey, EXPAND_BLOCK_1), nonce: ZERO_NONCE };
}

/** Spec §3.1 ENCRYPT(mk, plaintext, associated_data): ciphertext || 16-byte tag. */
export async function sealWithMessageKey(
  crypto: CryptoProvider,
  messageKey: MessageKey,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): Promise<Uint8Array> {
  const { key, nonce } = deriveMessageAeadKeys(crypto, messageKey);
  try {
    return await crypto.aeadSeal(MESSAGE_AEAD, key, nonce, plaintext, associatedData);
  } finally {
    key.fill(0);
  }
}

/** Spec §3.1 DECRYPT(mk, ciphertext, associated_data): the plaintext, or null when authentication fails. */
export async function openWithMessageKey(
  crypto: CryptoProvider,
  messageKey: MessageKey,
  ciphertext: Uint8Array,
  associatedData: Uint8Array,
): Promise<Uint8Array | null> {
  const { key, nonce } = deriveMessageAeadKeys(crypto, messageKey);
  try {
    return await crypto.aeadOpen(MESSAGE_AEAD, key, nonce, ciphertext, associatedData);
  } finally {
    key.fill(0);
  }
}
