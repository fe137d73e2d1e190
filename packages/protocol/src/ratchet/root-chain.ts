// The root chain: KDF_RK of "The Double Ratchet Algorithm" rev 1 (Signal, 2016-11-20), §3.1 and the
// recommended instantiation of §5.2; docs/protocol/05-double-ratchet.md §5.3.
//
//   KDF_RK(rk, dh_out) = HKDF-SHA-256(salt = rk, ikm = dh_out, info = ROOT_KDF_INFO, L = 64)
//                        → new root key = OKM[0..32], chain key = OKM[32..64]
//
// The shape is libsignal's RootKey::create_chain (info "WhisperRatchet"); the label is Sotto's own,
// so Sotto keys can never be confused with Signal keys derived from the same secrets.
import type { CryptoProvider } from '../crypto/provider.ts';
import { utf8 } from '../internal/bytes.ts';
import type { Brand } from '../keys/redacted.ts';
import type { ChainKey } from './chain-key.ts';

/** 32-byte root key RK (spec §3.2). */
export type RootKey = Brand<Uint8Array, 'RootKey'>;

/** HKDF info of KDF_RK (docs/protocol/05-double-ratchet.md §5.3; spec §5.2 "info = application-specific"). */
export const ROOT_KDF_INFO = utf8('Sotto v1 root ratchet');

/** Root and chain keys are 32 bytes (spec §3.1 KDF_RK). */
export const ROOT_KEY_BYTES = 32;
export const CHAIN_KEY_BYTES = 32;

/** Spec §3.1 KDF_RK(rk, dh_out) → (32-byte root key, 32-byte chain key), per §5.2. */
export function kdfRk(crypto: CryptoProvider, rootKey: RootKey, dhOutput: Uint8Array): { rootKey: RootKey; chainKey: ChainKey } {
  const okm = crypto.hkdfSha256(dhOutput, rootKey, ROOT_KDF_INFO, ROOT_KEY_BYTES + CHAIN_KEY_BYTES);
  return {
    rootKey: okm.slice(0, ROOT_KEY_BYTES) as RootKey,
    chainKey: okm.slice(ROOT_KEY_BYTES) as ChainKey,
  };
}
