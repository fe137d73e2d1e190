// One error class for the client package, with a stable string code (STYLE.md §9). Messages say what
// was expected and what was got; they never contain a passphrase, a key, a token, plaintext, an
// entry's name, a username or an address. Every code is listed with its meaning in docs/errors.md; a
// test keeps the two in step.

/** Stable error codes of @sotto/client. docs/errors.md lists each with its meaning. */
export type ClientErrorCode =
  // the device keystore (src/keystore/)
  | 'ERR_KEYSTORE_WRONG_PASSPHRASE'
  | 'ERR_KEYSTORE_CORRUPT'
  | 'ERR_KEYSTORE_VERSION'
  | 'ERR_KEYSTORE_NOT_FOUND'
  | 'ERR_KEYSTORE_EXISTS'
  | 'ERR_KEYSTORE_CLOSED'
  | 'ERR_KEYSTORE_ARGUMENT'
  | 'ERR_KEYSTORE_IO'
  // the browser keystore (src/keystore/browser.ts, docs/protocol/10 §10.6)
  | 'ERR_KEYSTORE_DEVICE_KEY_MISSING'
  | 'ERR_KEYSTORE_IN_USE'
  | 'ERR_KEYSTORE_UNSUPPORTED'
  // caller errors and local state
  | 'ERR_ARGUMENT'
  | 'ERR_STATE_CORRUPT'
  | 'ERR_CLIENT_CLOSED'
  // content and messaging (src/content/, src/messaging/, docs/protocol/10)
  | 'ERR_CONTENT_INVALID'
  | 'ERR_MESSAGE_REJECTED'
  | 'ERR_OUTBOX_FULL'
  // the server and the network (src/transport/, docs/protocol/09)
  | 'ERR_NETWORK'
  | 'ERR_SERVER'
  | 'ERR_BAD_RESPONSE'
  | 'ERR_NOT_FOUND'
  | 'ERR_USERNAME_TAKEN'
  | 'ERR_USERNAME_INVALID'
  // trust (src/trust/, docs/protocol/10 §10.4)
  | 'ERR_TRUST_CHANGED'
  | 'ERR_TRUST_STATE'
  | 'ERR_SAFETY_NUMBER_MISMATCH'
  // attachments (src/attachments/, docs/protocol/10 §10.3)
  | 'ERR_ATTACHMENT_CORRUPT'
  | 'ERR_ATTACHMENT_TOO_LARGE'
  // calls (src/calls/, docs/protocol/11)
  | 'ERR_CALL_BUSY'
  | 'ERR_CALL_STATE'
  | 'ERR_CALL_FAILED';

/** Extra facts about a server error: the HTTP status and the server's `ApiErrorCode` (docs/protocol/09 §9.1). */
export interface ServerErrorInfo {
  readonly status: number;
  readonly serverCode: string;
  /** From a 429's Retry-After header (§9.9). */
  readonly retryAfterMs?: number;
}

/** The error every @sotto/client operation rejects with. `cause` carries the underlying error (the
 *  file system's for ERR_KEYSTORE_IO, fetch's for ERR_NETWORK, the protocol's for a rejected message);
 *  it may name a path, never contents. `status` and `serverCode` are set when the server answered
 *  with an error body (ERR_SERVER, ERR_NOT_FOUND, ERR_USERNAME_TAKEN, ...). `wasVerified` is set on
 *  ERR_TRUST_CHANGED when the contact is `changed`: whether it had been verified before its key
 *  changed, which decides what the user is told to do (docs/protocol/10 §10.4). */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly wasVerified: boolean | undefined;
  /** Set when a send gave up but its message stays in the outbox under this id (base64url): it is
   *  delivered by flushOutbox later, so the caller must not send it again (that would be a copy). */
  readonly queuedId: string | undefined;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown; server?: ServerErrorInfo; wasVerified?: boolean; queuedId?: string }) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.server?.status;
    this.serverCode = options?.server?.serverCode;
    this.retryAfterMs = options?.server?.retryAfterMs;
    this.wasVerified = options?.wasVerified;
    this.queuedId = options?.queuedId;
  }
}

/** True when `e` is a ClientError, optionally with the given code. */
export function isClientError(e: unknown, code?: ClientErrorCode): e is ClientError {
  return e instanceof ClientError && (code === undefined || e.code === code);
}
