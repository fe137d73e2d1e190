// The two messages a device's identity key signs for the server (docs/protocol/09 §9.3, §9.4). Each
// starts with its own label of the identity-signature registry (docs/protocol/03 §3.3,
// IDENTITY_SIGNATURE_LABELS), so neither can be replayed as a prekey signature, a sender certificate
// or the other. The username inside is always the folded form (§9.2), so "Alice" and "alice" sign
// the same bytes.
import { ProtocolError } from '../errors.ts';
import { concatBytes, u32be, utf8 } from '../internal/bytes.ts';
import { IDENTITY_SIGNATURE_LABELS } from '../keys/identity.ts';
import { ACCESS_KEY_BYTES, AUTH_CHALLENGE_BYTES } from './constants.ts';
import { foldUsername } from './username.ts';

function deviceIdBytes(deviceId: number): Uint8Array {
  if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId > 0xffffffff) {
    throw new ProtocolError('ERR_ARGUMENT', `deviceId: expected a u32, got ${deviceId}`);
  }
  return u32be(deviceId);
}

function nameBytes(username: string): Uint8Array {
  const folded = utf8(foldUsername(username)); // ASCII only, at most 32 bytes
  return concatBytes(Uint8Array.of(folded.length), folded);
}

/** §9.3: "Sotto_v1_Registration" || u8(len(folded username)) || folded username || u32(deviceId) || accessKey. */
export function buildRegistrationMessage(username: string, deviceId: number, accessKey: Uint8Array): Uint8Array {
  if (!(accessKey instanceof Uint8Array) || accessKey.length !== ACCESS_KEY_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `accessKey: expected ${ACCESS_KEY_BYTES} bytes`);
  }
  return concatBytes(IDENTITY_SIGNATURE_LABELS.registration, nameBytes(username), deviceIdBytes(deviceId), accessKey);
}

/** §9.4: "Sotto_v1_ServerAuth" || challenge || u8(len(folded username)) || folded username || u32(deviceId). */
export function buildServerAuthMessage(challenge: Uint8Array, username: string, deviceId: number): Uint8Array {
  if (!(challenge instanceof Uint8Array) || challenge.length !== AUTH_CHALLENGE_BYTES) {
    throw new ProtocolError('ERR_ARGUMENT', `challenge: expected ${AUTH_CHALLENGE_BYTES} bytes`);
  }
  return concatBytes(IDENTITY_SIGNATURE_LABELS.serverAuth, challenge, nameBytes(username), deviceIdBytes(deviceId));
}
