// One error class for the escrow package, with a stable string code (STYLE.md §9); docs/errors.md lists them.

export type EscrowErrorCode = 'ERR_ESCROW_INVALID_POINT' | 'ERR_ESCROW_INVALID_SIGNATURE' | 'ERR_ESCROW_INVALID_ENCAPSULATION' | 'ERR_ESCROW_ARGUMENT' | 'ERR_ESCROW_MALFORMED_MESSAGE' | 'ERR_ESCROW_UNSUPPORTED_MESSAGE' | 'ERR_ESCROW_IDENTIFIER_MISMATCH' | 'ERR_ESCROW_REPLAY';

export class EscrowError extends Error {
  override readonly name = 'EscrowError';
  readonly code: EscrowErrorCode;

  constructor(code: EscrowErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
