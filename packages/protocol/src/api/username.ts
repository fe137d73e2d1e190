// Usernames (docs/protocol/09 §9.2): 3 to 32 characters of a-z, 0-9 and _, starting with a letter,
// after ASCII case folding. Every other character — every non-ASCII one included — is refused, so
// homoglyph look-alikes (a Cyrillic "а" in "alice") cannot exist. The folded form is the name.
import { ProtocolError } from '../errors.ts';
import { USERNAME_MAX_CHARS, USERNAME_MIN_CHARS } from '../limits.ts';

/**
 * The canonical (folded) form of a username: ASCII A-Z become a-z; anything outside §9.2 is
 * ERR_USERNAME_INVALID. The message says what is wrong, never the name itself.
 */
export function foldUsername(input: string): string {
  if (typeof input !== 'string') throw new ProtocolError('ERR_USERNAME_INVALID', 'username: expected a string');
  if (input.length < USERNAME_MIN_CHARS || input.length > USERNAME_MAX_CHARS) {
    throw new ProtocolError('ERR_USERNAME_INVALID', `username: expected ${USERNAME_MIN_CHARS} to ${USERNAME_MAX_CHARS} characters, got ${input.length}`);
  }
  let out = '';
  for (let i = 0; i < input.length; i++) {
    let c = input.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20; // A-Z → a-z
    const letter = c >= 0x61 && c <= 0x7a;
    if (i === 0 && !letter) throw new ProtocolError('ERR_USERNAME_INVALID', 'username: expected a letter first');
    if (!letter && !(c >= 0x30 && c <= 0x39) && c !== 0x5f) {
      throw new ProtocolError('ERR_USERNAME_INVALID', `username: expected only a-z, 0-9 and _ (any case), got another character at position ${i}`);
    }
    out += String.fromCharCode(c);
  }
  return out;
}

/** True when `s` is a valid username already in its folded form (what every response carries). */
export function isFoldedUsername(s: string): boolean {
  try {
    return foldUsername(s) === s;
  } catch {
    return false;
  }
}
