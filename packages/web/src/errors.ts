// One error class for the web client, with a stable string code (STYLE.md §9). Every code is listed
// with its meaning in docs/errors.md; packages/test-support/test/errors-doc.test.ts keeps the two in
// step. The UI never shows these messages raw: src/describe-error.ts turns every error into plain
// language; messages here say what was expected and what was got, never a passphrase, key or content.

/** Stable error codes of @sotto/web. docs/errors.md lists each with its meaning. */
export type WebErrorCode =
  | 'ERR_WEB_PASSPHRASE_MISMATCH'
  | 'ERR_WEB_UNSUPPORTED'
  | 'ERR_WEB_CAMERA'
  | 'ERR_WEB_HISTORY'
  | 'ERR_WEB_FILE';

export class WebError extends Error {
  override readonly name = 'WebError';
  readonly code: WebErrorCode;

  constructor(code: WebErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `e` is a WebError, optionally with the given code. */
export function isWebError(e: unknown, code?: WebErrorCode): e is WebError {
  return e instanceof WebError && (code === undefined || e.code === code);
}
