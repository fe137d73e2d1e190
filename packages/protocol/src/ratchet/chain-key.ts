// Sending and receiving chains: KDF_CK of "The Double Ratchet Algorithm" rev 1 (Signal, 2016-11-20),
// §3.1 and the recommended instantiation of §5.2; docs/protocol/05-double-ratchet.md §5.4.
//
//   message key  = HMAC-SHA-256(ck, 0x01)
//   next ck      = HMAC-SHA-256(ck, 0x02)
//
// Byte for byte libsignal's ChainKey (MESSAGE_KEY_SEED = 0x01, CHAIN_KEY_SEED = 0x02), checked against
// its test vector in test/ratchet-vectors.test.ts.
import type { CryptoProvider } from '../crypto/provider.ts';
import type { Brand } from '../keys/redacted.ts';

/** 32-byte chain key CKs / CKr (spec §3.2). */
export type ChainKey = Brand<Uint8Array, 'ChainKey'>;
/** 32-byte message key mk (spec §3.1 KDF_CK output); AEAD keys derive from it (message-keys.ts). */
export type MessageKey = Brand<Uint8Array, 'MessageKey'>;

/** HMAC input for the message key (spec §5.2: "0x01 as the input to produce the message key"). */
export const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
/** HMAC input for the next chain key (spec §5.2: "0x02 as the input to produce the next chain key"). */
export const CHAIN_KEY_SEED = Uint8Array.of(0x02);

/** Spec §5.2 KDF_CK, message-key half: HMAC-SHA-256(ck, 0x01). */
export function messageKeyOf(crypto: CryptoProvider, chainKey: ChainKey): MessageKey {
  return crypto.hmacSha256(chainKey, MESSAGE_KEY_SEED) as MessageKey;
}

/** Spec §5.2 KDF_CK, chain-key half: HMAC-SHA-256(ck, 0x02). */
export function nextChainKey(crypto: CryptoProvider, chainKey: ChainKey): ChainKey {
  return crypto.hmacSha256(chainKey, CHAIN_KEY_SEED) as ChainKey;
}

/** Spec §3.1 KDF_CK(ck) → (next chain key, message key). */
export function kdfCk(crypto: CryptoProvider, chainKey: ChainKey): { chainKey: ChainKey; messageKey: MessageKey } {
  return { chainKey: nextChainKey(crypto, chainKey), messageKey: messageKeyOf(crypto, chainKey) };
}
