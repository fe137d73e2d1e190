// Access keys for sealed delivery (docs/protocol/09 §9.7, the scheme of Signal's "unidentified
// access"): a send is authorised by a key derived from the recipient's profile key, which only the
// recipient's contacts hold; the server stores SHA-256 of the access key only.
import type { CryptoProvider } from '../crypto/provider.ts';
import { ProtocolError } from '../errors.ts';
import { utf8 } from '../internal/bytes.ts';
import { ACCESS_KEY_BYTES, PROFILE_KEY_BYTES } from './constants.ts';

/** §9.7 HKDF info label. */
export const ACCESS_KEY_INFO = utf8('Sotto_v1_AccessKey');

/** accessKey = HKDF(profileKey, salt = empty, info = "Sotto_v1_AccessKey", L = 16) (§9.7). */
export function accessKeyFromProfileKey(crypto: CryptoProvider, profileKey: Uint8Array): Uint8Array {
  if (!(profileKey instanceof Uint8Array) || profileKey.length !== PROFILE_KEY_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `profileKey: expected ${PROFILE_KEY_BYTES} bytes`);
  }
  return crypto.hkdfSha256(profileKey, new Uint8Array(0), ACCESS_KEY_INFO, ACCESS_KEY_BYTES);
}
