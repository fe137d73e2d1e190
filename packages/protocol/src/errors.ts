// One error class for the protocol package, with a stable string code (STYLE.md §9).
// Messages say what was expected and what was got, never a key, a plaintext or a username.
// Every code is listed with its meaning in docs/errors.md; a test keeps the two in step.

/** Stable error codes of @sotto/protocol. docs/errors.md lists each with its meaning. */
export type ProtocolErrorCode =
  // wire codecs (docs/protocol.md §2)
  | 'ERR_WIRE_TRUNCATED'
  | 'ERR_WIRE_TRAILING_BYTES'
  | 'ERR_WIRE_UNKNOWN_VERSION'
  | 'ERR_WIRE_UNKNOWN_TYPE'
  | 'ERR_WIRE_BAD_LENGTH'
  | 'ERR_WIRE_NON_CANONICAL'
  | 'ERR_WIRE_TOO_LARGE'
  // keys and bundles (docs/protocol.md §3)
  | 'ERR_KEY_INVALID'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_BUNDLE_INVALID'
  // session start (docs/protocol.md §4)
  | 'ERR_PREKEY_UNKNOWN'
  | 'ERR_PREKEY_REUSED'
  | 'ERR_HANDSHAKE_FAILED'
  // Double Ratchet (docs/protocol.md §5)
  | 'ERR_DECRYPT_FAILED'
  | 'ERR_DUPLICATE_MESSAGE'
  | 'ERR_TOO_MANY_SKIPPED'
  | 'ERR_COUNTER_EXHAUSTED'
  | 'ERR_SESSION_MISMATCH'
  // sealed envelopes (docs/protocol.md §6)
  | 'ERR_SEALED_DECRYPT_FAILED'
  | 'ERR_SEALED_SENDER_MISMATCH'
  | 'ERR_PADDING_INVALID'
  | 'ERR_SENDER_CERTIFICATE_EXPIRED'
  | 'ERR_HPKE_OPEN_FAILED'
  // safety numbers (docs/protocol.md §7)
  | 'ERR_FINGERPRINT_INVALID'
  | 'ERR_FINGERPRINT_VERSION'
  // call media: SFrame (docs/protocol/11 §11.5, RFC 9605)
  | 'ERR_SFRAME_MALFORMED'
  | 'ERR_SFRAME_UNKNOWN_KID'
  | 'ERR_SFRAME_REPLAY'
  | 'ERR_SFRAME_AUTH'
  // calls: key agreement, commitment, SDP (docs/protocol/11 §11.2–11.4)
  | 'ERR_CALL_SDP'
  | 'ERR_CALL_COMMITMENT'
  | 'ERR_CALL_STATE'
  // crypto provider
  | 'ERR_CRYPTO_SMALL_ORDER'
  | 'ERR_CRYPTO_PARAMETER'
  // caller errors
  | 'ERR_ARGUMENT'
  // server API codecs (docs/protocol/09)
  | 'ERR_API_DECODE'
  | 'ERR_USERNAME_INVALID';

/** The error every @sotto/protocol operation throws (or rejects with). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** True when `e` is a ProtocolError, optionally with the given code. */
export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}
