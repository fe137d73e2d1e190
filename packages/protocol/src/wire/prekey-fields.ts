// Field helpers shared by the prekey codecs (prekey-bundle, prekey-upload, prekey-message, session-state).
// Not a message: no version or type byte of its own.
import { ProtocolError } from '../errors.ts';
import type { Reader } from '../internal/codec.ts';

/** A boolean byte: exactly 0x00 or 0x01; anything else is non-canonical (docs/protocol/03 §3.4). */
export function readFlag(r: Reader, what: string): boolean {
  const v = r.u8();
  if (v > 1) throw new ProtocolError('ERR_WIRE_NON_CANONICAL', `${what}: expected 0 or 1, got ${v}`);
  return v === 1;
}

/** Reads the type byte and checks it (after `expectVersion`). */
export function expectType(r: Reader, expected: number, what: string): void {
  const t = r.u8();
  if (t !== expected) throw new ProtocolError('ERR_WIRE_UNKNOWN_TYPE', `${what}: expected type ${expected}, got ${t}`);
}
