// One error class for the server package, with a stable string code (STYLE.md §9). The ERR_API_*
// codes are the ones an error body carries (docs/protocol/09 §9.1; the closed list and its HTTP
// statuses live in @sotto/protocol, API_ERROR_STATUS, shared with clients); the others are thrown to
// whoever embeds the server. Messages say what was expected and what was got — never a key, a
// token, a username other than the caller's own, or an address. docs/errors.md lists every code.
import type { ApiErrorCode } from '@sotto/protocol';

/** Stable error codes of @sotto/server. docs/errors.md lists each with its meaning. */
export type ServerErrorCode =
  // answered to HTTP and WebSocket clients (docs/protocol/09 §9.1)
  | 'ERR_API_BAD_REQUEST'
  | 'ERR_API_UNAUTHORIZED'
  | 'ERR_API_NOT_FOUND'
  | 'ERR_API_METHOD_NOT_ALLOWED'
  | 'ERR_API_CONFLICT'
  | 'ERR_API_TOO_LARGE'
  | 'ERR_API_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_API_RATE_LIMITED'
  | 'ERR_API_INTERNAL'
  | 'ERR_API_UNAVAILABLE'
  // thrown to the embedder (createApp, startServer)
  | 'ERR_SERVER_CONFIG'
  | 'ERR_SERVER_LISTEN';

// The API codes here and in @sotto/protocol must be the same set: a compile error otherwise.
type ApiCodesHere = Extract<ServerErrorCode, `ERR_API_${string}`>;
export type SameApiCodes = [ApiCodesHere, ApiErrorCode] extends [ApiErrorCode, ApiCodesHere] ? true : never;
/** Compile-time only: `never` (and an error here) if the two lists differ. */
export const API_CODES_MATCH_PROTOCOL: SameApiCodes = true;

/** The error every @sotto/server operation throws (or rejects with). */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  readonly code: ServerErrorCode;
  /** For ERR_API_RATE_LIMITED: seconds until a retry can succeed (the Retry-After header). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** True when `e` is a ServerError, optionally with the given code. */
export function isServerError(e: unknown, code?: ServerErrorCode): e is ServerError {
  return e instanceof ServerError && (code === undefined || e.code === code);
}
