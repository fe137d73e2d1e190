// SessionState: a Session (session/session.ts) encoded for persistence (docs/protocol/08-sessions.md §8.6).
// Contains every secret of the session (inside the ratchet state): store it as a secret.
//
// | offset | size | field                                                                   |
// |--------|------|-------------------------------------------------------------------------|
// | 0      | 1    | WIRE_VERSION (0x01)                                                     |
// | 1      | 1    | WireType.SessionState (0x05)                                            |
// | 2      | 1    | role: 0x00 initiator, 0x01 responder                                    |
// | 3      | 32   | local identity key (Ed25519)                                            |
// | 35     | 32   | remote identity key (Ed25519)                                           |
// | 67     | …    | initiator: pending flag (0x00/0x01), then if 1: u16 length ‖ prekey header (wire/prekey-message.ts) |
// |        |      | responder: 32-byte SHA-256 of the prekey header that created the session |
// | …      | 4    | ratchet state length n (u32 BE, 1 ≤ n ≤ limits.MAX_SESSION_STATE_BYTES)  |
// | …      | n    | ratchet state (wire/ratchet-state.ts)                                   |
// No trailing bytes. Identity keys are re-validated on decoding.
import { ProtocolError } from '../errors.ts';
import { ED25519_PUBLIC_KEY_BYTES } from '../crypto/provider.ts';
import { Reader, Writer, expectHeader } from '../internal/codec.ts';
import { MAX_SESSION_STATE_BYTES } from '../limits.ts';
import { parseIdentityPublicKey } from '../keys/identity.ts';
import { PREKEY_HEADER_DIGEST_BYTES, makeSession, sessionRatchet, type Session, type SessionRole } from '../session/session.ts';
import { decodeRatchetState, encodeRatchetState } from './ratchet-state.ts';
import { decodePrekeyHeader, encodePrekeyHeader } from './prekey-message.ts';
import { WIRE_VERSION, WireType } from './version.ts';

const ROLE_INITIATOR = 0x00;
const ROLE_RESPONDER = 0x01;
/** A prekey header is 1643 or 1647 bytes; the u16 bound leaves room and rejects nonsense early. */
const MAX_PREKEY_HEADER_BYTES = 2048;

export function encodeSession(session: Session): Uint8Array {
  const w = new Writer().u8(WIRE_VERSION).u8(WireType.SessionState);
  w.u8(session.role === 'initiator' ? ROLE_INITIATOR : ROLE_RESPONDER);
  w.bytes(session.localIdentityKey).bytes(session.remoteIdentityKey);
  if (session.role === 'initiator') {
    if (session.pendingPrekey === undefined) w.u8(0);
    else w.u8(1).vec16(encodePrekeyHeader(session.pendingPrekey));
  } else {
    const d = session.prekeyHeaderDigest;
    if (d?.length !== PREKEY_HEADER_DIGEST_BYTES) throw new ProtocolError('ERR_ARGUMENT', 'responder session without a prekey header digest');
    w.bytes(d);
  }
  return w.vec32(encodeRatchetState(sessionRatchet(session))).finish();
}

export function decodeSession(bytes: Uint8Array): Session {
  const what = 'session state';
  const r = new Reader(bytes, what);
  expectHeader(r, WireType.SessionState, what);
  const roleByte = r.u8();
  if (roleByte !== ROLE_INITIATOR && roleByte !== ROLE_RESPONDER) {
    throw new ProtocolError('ERR_WIRE_NON_CANONICAL', `${what}: role byte expected 0 or 1, got ${roleByte}`);
  }
  const role: SessionRole = roleByte === ROLE_INITIATOR ? 'initiator' : 'responder';
  const localIdentityKey = parseIdentityPublicKey(r.bytes(ED25519_PUBLIC_KEY_BYTES));
  const remoteIdentityKey = parseIdentityPublicKey(r.bytes(ED25519_PUBLIC_KEY_BYTES));
  let pendingPrekey;
  let prekeyHeaderDigest;
  if (role === 'initiator') {
    if (r.flag(`${what} pending prekey flag`)) pendingPrekey = decodePrekeyHeader(r.vec16(1, MAX_PREKEY_HEADER_BYTES));
  } else {
    prekeyHeaderDigest = r.bytes(PREKEY_HEADER_DIGEST_BYTES);
  }
  const ratchet = decodeRatchetState(r.vec32(1, MAX_SESSION_STATE_BYTES));
  r.end();
  return makeSession({ role, localIdentityKey, remoteIdentityKey, pendingPrekey, prekeyHeaderDigest, ratchet });
}
