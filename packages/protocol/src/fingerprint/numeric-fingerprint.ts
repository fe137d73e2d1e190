// Signal's numeric fingerprint ("safety number"), as libsignal implements it
// (rust/protocol/src/fingerprint.rs; docs/protocol/07-safety-numbers.md §7.1–7.3):
//   h_0 = SHA-512(0x0000 || key || stable_id || key), h_i = SHA-512(h_(i-1) || key), i < iterations;
// the first 30 bytes of the last hash give 30 digits per party, the first 32 bytes the scannable
// fingerprint. Inputs are byte strings, so libsignal's own vectors test this code directly.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { concatBytes } from '../internal/bytes.ts';

/** docs/protocol/07 §7.1: SHA-512 iterations. libsignal's table: 5200 gives > 112 bits of work factor. */
export const FINGERPRINT_ITERATIONS = 5200;
/** docs/protocol/07 §7.1: the 2-byte fingerprint version at the start of the hash input (libsignal FINGERPRINT_VERSION = 0). */
export const FINGERPRINT_HASH_VERSION = Uint8Array.of(0x00, 0x00);
/** docs/protocol/07 §7.2: digits per party, from six 5-byte chunks. */
export const FINGERPRINT_DIGITS_PER_PARTY = 30;
/** docs/protocol/07 §7.4: bytes of each party's hash in the scannable payload. */
export const SCANNABLE_FINGERPRINT_BYTES = 32;

/** One party's fingerprint inputs: the serialized identity key and the stable identifier, as bytes. */
export interface FingerprintParty {
  readonly identityKey: Uint8Array;
  readonly stableId: Uint8Array;
}

/** docs/protocol/07 §7.1: the 64-byte iterated hash of one party. */
export function fingerprintHash(crypto: CryptoProvider, party: FingerprintParty): Uint8Array {
  const key = party.identityKey;
  let h = crypto.sha512(concatBytes(FINGERPRINT_HASH_VERSION, key, party.stableId, key)); // h_0
  const buf = new Uint8Array(64 + key.length);
  buf.set(key, 64);
  for (let i = 1; i < FINGERPRINT_ITERATIONS; i++) {
    buf.set(h, 0);
    h = crypto.sha512(buf); // h_i = SHA-512(h_(i-1) || key)
  }
  return h;
}

/** docs/protocol/07 §7.2: 30 digits from the first 30 bytes: six 5-byte big-endian chunks, each mod 100000, zero-padded. */
export function displayDigits(hash: Uint8Array): string {
  if (hash.length < 30) throw new ProtocolError('ERR_ARGUMENT', `fingerprint hash: expected at least 30 bytes, got ${hash.length}`);
  let out = '';
  for (let c = 0; c < 6; c++) {
    let chunk = 0;
    // 40-bit value: exact in a double (< 2^53)
    for (let j = 0; j < 5; j++) chunk = chunk * 256 + (hash[c * 5 + j] ?? 0);
    out += (chunk % 100000).toString().padStart(5, '0');
  }
  return out;
}

/** docs/protocol/07 §7.3: the 60-digit string: the two 30-digit halves, the smaller (lexicographically) first. */
export function combineDisplay(local: string, remote: string): string {
  return local < remote ? local + remote : remote + local;
}
