// One error class for the client package, with a stable string code (STYLE.md §9). Messages say what
// was expected and what was got; they never contain a passphrase, a key, an entry's name or its bytes.
// Every code is listed with its meaning in docs/errors.md; a test keeps the two in step.

/** Stable error codes of @sotto/client. docs/errors.md lists each with its meaning. */
export type ClientErrorCode =
  | 'ERR_KEYSTORE_WRONG_PASSPHRASE'
  | 'ERR_KEYSTORE_CORRUPT'
  | 'ERR_KEYSTORE_VERSION'
  | 'ERR_KEYSTORE_NOT_FOUND'
  | 'ERR_KEYSTORE_EXISTS'
  | 'ERR_KEYSTORE_CLOSED'
  | 'ERR_KEYSTORE_ARGUMENT'
  | 'ERR_KEYSTORE_IO';

/** The error every @sotto/client operation rejects with. `cause` carries the file system's error for
 *  ERR_KEYSTORE_IO (it may name a path, never contents). */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** True when `e` is a ClientError, optionally with the given code. */
export function isClientError(e: unknown, code?: ClientErrorCode): e is ClientError {
  return e instanceof ClientError && (code === undefined || e.code === code);
}
