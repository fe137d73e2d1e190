// Safety numbers for Sotto identities (docs/protocol/07-safety-numbers.md): the 60-digit display
// string and the scannable payload from both parties' identity keys and stable identifiers, and the
// constant-time comparison of a scanned payload against our own.
import { ProtocolError } from '../errors.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { concatBytes, constantTimeEqual, utf8 } from '../internal/bytes.ts';
import type { IdentityPublicKey } from '../keys/identity.ts';
import { MAX_USERNAME_BYTES } from '../limits.ts';
import { ED25519_PUBLIC_KEY_BYTES } from '../crypto/provider.ts';
import { combineDisplay, displayDigits, fingerprintHash, SCANNABLE_FINGERPRINT_BYTES, type FingerprintParty } from './numeric-fingerprint.ts';
import { decodeScannableFingerprint, encodeScannableFingerprint } from './scannable.ts';

/** docs/protocol/07 §7.5: the key-type byte before a Sotto (Ed25519) identity key in the fingerprint
 *  input. Distinct from libsignal's 0x05 (Curve25519), so no Sotto input equals a Signal one. */
export const SOTTO_FINGERPRINT_KEY_TYPE = 0xed;
/** docs/protocol/07 §7.5: the scannable version Sotto writes and expects. libsignal uses 1 (phone
 *  numbers) and 2 (service ids); 3 marks Sotto's (username, Ed25519 key) inputs. */
export const SOTTO_SCANNABLE_VERSION = 3;

/** A computed safety number: what the UI shows and what the QR code carries. */
export interface SafetyNumber {
  /** 60 decimal digits, identical on both sides. */
  readonly displayable: string;
  /** Our scannable payload (our hash as `local`), for the QR code. */
  readonly scannable: Uint8Array;
}

/** Outcome of comparing a scanned QR payload with our own. */
export type ScanResult = 'match' | 'mismatch';

/** Safety number for any serialized keys and stable ids (libsignal's Fingerprint::new). */
export function computeSafetyNumber(crypto: CryptoProvider, version: number, local: FingerprintParty, remote: FingerprintParty): SafetyNumber {
  const localHash = fingerprintHash(crypto, local);
  const remoteHash = fingerprintHash(crypto, remote);
  const displayable = combineDisplay(displayDigits(localHash), displayDigits(remoteHash));
  const scannable = encodeScannableFingerprint({
    version,
    local: localHash.slice(0, SCANNABLE_FINGERPRINT_BYTES),
    remote: remoteHash.slice(0, SCANNABLE_FINGERPRINT_BYTES),
  });
  return { displayable, scannable };
}

/** docs/protocol/07 §7.5: the serialized identity key for Sotto: 0xED || 32-byte Ed25519 public key. */
export function sottoFingerprintKey(identityKey: IdentityPublicKey): Uint8Array {
  if (identityKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `identity key: expected ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${identityKey.length}`);
  }
  return concatBytes(Uint8Array.of(SOTTO_FINGERPRINT_KEY_TYPE), identityKey);
}

/** docs/protocol/07 §7.5: the stable identifier for Sotto: the username in UTF-8, as registered. */
export function sottoFingerprintId(username: string): Uint8Array {
  const id = utf8(username);
  if (id.length === 0 || id.length > MAX_USERNAME_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `username: expected 1..${MAX_USERNAME_BYTES} UTF-8 bytes, got ${id.length}`);
  }
  return id;
}

/** One Sotto party of a safety number. */
export interface SottoIdentity {
  readonly username: string;
  readonly identityKey: IdentityPublicKey;
}

/** The safety number between our identity and a contact's (docs/protocol/07 §7.5). */
export function sottoSafetyNumber(crypto: CryptoProvider, ours: SottoIdentity, theirs: SottoIdentity): SafetyNumber {
  return computeSafetyNumber(
    crypto,
    SOTTO_SCANNABLE_VERSION,
    { identityKey: sottoFingerprintKey(ours.identityKey), stableId: sottoFingerprintId(ours.username) },
    { identityKey: sottoFingerprintKey(theirs.identityKey), stableId: sottoFingerprintId(theirs.username) },
  );
}

/**
 * docs/protocol/07 §7.6 (libsignal ScannableFingerprint::compare): the scanned payload comes from the
 * other device, so its `local` must equal our `remote` and its `remote` our `local`. Both halves are
 * compared in constant time and combined without short-circuit. A payload of another version is
 * ERR_FINGERPRINT_VERSION (the message names both versions); a malformed one ERR_FINGERPRINT_INVALID.
 */
export function compareScannable(ours: Uint8Array, scanned: Uint8Array): ScanResult {
  const mine = decodeScannableFingerprint(ours);
  const theirs = decodeScannableFingerprint(scanned);
  if (theirs.version !== mine.version) {
    throw new ProtocolError('ERR_FINGERPRINT_VERSION', `scanned payload has version ${theirs.version}, expected ${mine.version}`);
  }
  const same1 = constantTimeEqual(theirs.local, mine.remote);
  const same2 = constantTimeEqual(theirs.remote, mine.local);
  return Number(same1) & Number(same2) ? 'match' : 'mismatch';
}
