// One error class for the store package, with a stable string code (STYLE.md §9). Messages say what
// was expected and what was got; they never contain a username, a key, an id or an envelope's bytes.
// Every code is listed with its meaning in docs/errors.md; a test keeps the two in step.

/** Stable error codes of @sotto/store. docs/errors.md lists each with its meaning. */
export type StoreErrorCode =
  | 'ERR_STORE_ARGUMENT'
  | 'ERR_STORE_CONFLICT'
  | 'ERR_STORE_NOT_FOUND'
  | 'ERR_STORE_CLOSED'
  | 'ERR_STORE_SCHEMA_TOO_NEW'
  | 'ERR_STORE_SCHEMA_INVALID'
  | 'ERR_STORE_BACKEND';

/** The error every @sotto/store operation rejects with. `cause` carries the database driver's error
 *  for ERR_STORE_BACKEND (it may name SQL, never row contents). */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** True when `e` is a StoreError, optionally with the given code. */
export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
