// Per-message encryption: ENCRYPT / DECRYPT of "The Double Ratchet Algorithm" rev 1 (Signal,
// 2016-11-20), §3.1, used as in §3.4 ENCRYPT(mk, plaintext, CONCAT(AD, header));
// docs/protocol/05-double-ratchet.md §5.5.
//
//   key || nonce = HKDF-SHA-256(salt = "" (32 zero bytes), ikm = mk, info = MESSAGE_KEYS_INFO, L = 44)
//   ciphertext || tag = AES-256-GCM(key, nonce, plaintext, aad = AD || header)
//
// Deliberate deviation from the §5.2 recommendation (AES-256-CBC + HMAC-SHA-256, 80 bytes of HKDF):
//  - AES-GCM is a standard AEAD with a single pass, hardware-accelerated in node:crypto and WebCrypto;
//    CBC + HMAC needs two passes, PKCS#7 padding (up to 16 more bytes per message) and a separate MAC
//    (libsignal sends 8 of its 32 bytes), so GCM is both faster and smaller on the wire.
//  - GCM's weak spot, nonce reuse under one key, cannot happen: every message key is used for exactly
//    one encryption (spec §3.1 "each message key is only used once"), and the key and the nonce are
//    both derived from it ("derived from mk alongside an independent AEAD encryption key", §3.1).
//  - GCM is not key-committing, which matters only where a receiver tries several keys on one
//    ciphertext (partitioning oracles). A Sotto receiver tries exactly one message key per message:
//    the one selected by the (authenticated) header.
import type { AeadAlgorithm, CryptoProvider } from '../crypto/provider.ts';
import { utf8 } from '../internal/bytes.ts';
import type { MessageKey } from './chain-key.ts';

/** The message AEAD (docs/protocol/05-double-ratchet.md §5.5). */
export const MESSAGE_AEAD: AeadAlgorithm = 'aes-256-gcm';
/** HKDF info for the per-message AEAD key and nonce (docs/protocol/05-double-ratchet.md §5.5). */
export const MESSAGE_KEYS_INFO = utf8('Sotto v1 message keys');
/** AES-256 key (FIPS 197) and 96-bit GCM nonce (NIST SP 800-38D §5.2.1.1). */
export const MESSAGE_AEAD_KEY_BYTES = 32;
export const MESSAGE_AEAD_NONCE_BYTES = 12;

const EMPTY = new Uint8Array(0);

/** HKDF(mk) → AES-256-GCM key and nonce, both single-use because mk is. */
export function deriveMessageAeadKeys(crypto: CryptoProvider, messageKey: MessageKey): { key: Uint8Array; nonce: Uint8Array } {
  const okm = crypto.hkdfSha256(messageKey, EMPTY, MESSAGE_KEYS_INFO, MESSAGE_AEAD_KEY_BYTES + MESSAGE_AEAD_NONCE_BYTES);
  return { key: okm.subarray(0, MESSAGE_AEAD_KEY_BYTES), nonce: okm.subarray(MESSAGE_AEAD_KEY_BYTES) };
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
    key.fill(0); // key and nonce share one buffer
    nonce.fill(0);
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
    nonce.fill(0);
  }
}
