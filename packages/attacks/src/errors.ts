// One error class for the attacks package, with a stable string code (STYLE.md §9); docs/errors.md lists them.
// These are failures of the HARNESS (a scenario that could not run to an outcome), never an attack's result:
// an attack's result is a scorecard row, and a row is only ever written from what actually happened.

export type AttacksErrorCode = 'ERR_ATTACKS_ARGUMENT' | 'ERR_ATTACKS_SCENARIO_FAILED' | 'ERR_ATTACKS_TIMEOUT' | 'ERR_ATTACKS_NETWORK' | 'ERR_ATTACKS_UNEXPECTED';

export class AttacksError extends Error {
  override readonly name = 'AttacksError';
  readonly code: AttacksErrorCode;

  constructor(code: AttacksErrorCode, message: string, options?: { cause: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}
