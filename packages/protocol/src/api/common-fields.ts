// Field codecs shared by several bodies of docs/protocol/09.
import { ProtocolError } from '../errors.ts';
import { MAX_API_ENVELOPE_BYTES } from '../limits.ts';
import { isSealedBucket } from '../sealed/padding.ts';
import { MESSAGE_ID_BYTES } from './constants.ts';
import { bytes, string, type FieldCodec } from './fields.ts';
import { foldUsername, isFoldedUsername } from './username.ts';
import { USERNAME_MAX_CHARS, USERNAME_MIN_CHARS } from '../limits.ts';

/** A username as a request carries it: valid per §9.2 in any case (the server folds it). */
export const usernameAnyCase: FieldCodec<string> = string(USERNAME_MIN_CHARS, USERNAME_MAX_CHARS, (s, what) => {
  try {
    foldUsername(s);
  } catch (e) {
    throw new ProtocolError('ERR_API_DECODE', `${what}: ${e instanceof ProtocolError ? e.message.replace(/^ERR_USERNAME_INVALID: username: /, '') : 'invalid'}`);
  }
});

/** A username as a response carries it: valid and already folded (§9.2 "every response shows the folded form"). */
export const usernameFolded: FieldCodec<string> = string(USERNAME_MIN_CHARS, USERNAME_MAX_CHARS, (s, what) => {
  if (!isFoldedUsername(s)) throw new ProtocolError('ERR_API_DECODE', `${what}: expected a valid username in folded form (§9.2)`);
});

/** A message id: b64[16] (§9.7). */
export const messageId = bytes({ length: MESSAGE_ID_BYTES });

/** A sealed envelope: b64[≤ MAX_API_ENVELOPE_BYTES] whose length is a bucket (§9.7, docs/protocol/06 §6.7). */
export const envelope = bytes({ max: MAX_API_ENVELOPE_BYTES }, (b, what) => {
  if (!isSealedBucket(b.length)) throw new ProtocolError('ERR_API_DECODE', `${what}: expected a sealed-envelope bucket size, got ${b.length} bytes`);
});
