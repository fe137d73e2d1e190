// One error class for the CLI package, with a stable string code (STYLE.md §9). Every code is listed
// with its meaning in docs/errors.md; packages/test-support/test/errors-doc.test.ts keeps the two in
// step. Messages are shown to the user as they are (`sotto: <message>`), so they say what was expected
// and what was got, in words — never a passphrase, a key or message contents.

/** Stable error codes of @sotto/cli. docs/errors.md lists each with its meaning. */
export type CliErrorCode =
  | 'ERR_CLI_USAGE'
  | 'ERR_CLI_NO_PASSPHRASE'
  | 'ERR_CLI_PASSPHRASE_MISMATCH'
  | 'ERR_CLI_CANCELLED'
  | 'ERR_CLI_FILE'
  | 'ERR_CLI_SAVE'
  | 'ERR_CLI_SERVE'
  | 'ERR_CLI_AUDIO'
  | 'ERR_CLI_CALL';

/** The error every CLI-side failure throws. ERR_CLI_USAGE exits with status 2, every other code with 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `e` is a CliError, optionally with the given code. */
export function isCliError(e: unknown, code?: CliErrorCode): e is CliError {
  return e instanceof CliError && (code === undefined || e.code === code);
}
