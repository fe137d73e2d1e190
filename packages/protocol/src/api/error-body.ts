// docs/protocol/09 §9.1: the error body {"error":{"code":C,"message":M}} and the closed set of codes.
// docs/errors.md lists each code under @sotto/server, which answers with them.
import { MAX_API_ERROR_MESSAGE_CHARS } from '../limits.ts';
import { body, literal, object, oneOf, string, type FieldCodec } from './fields.ts';

/** The codes an error body may carry (§9.1), with their HTTP status. */
export const API_ERROR_STATUS = {
  ERR_API_BAD_REQUEST: 400,
  ERR_API_UNAUTHORIZED: 401,
  ERR_API_NOT_FOUND: 404,
  ERR_API_METHOD_NOT_ALLOWED: 405,
  ERR_API_CONFLICT: 409,
  ERR_API_TOO_LARGE: 413,
  ERR_API_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_API_RATE_LIMITED: 429,
  ERR_API_INTERNAL: 500,
  ERR_API_UNAVAILABLE: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;
export const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as readonly ApiErrorCode[];

/** What an error body says. */
export interface ApiErrorBody {
  readonly code: ApiErrorCode;
  /** Expected vs got; never a key, a token, another user's name or an address. */
  readonly message: string;
}

/** `GET /health` answer. */
export interface HealthResponse {
  readonly status: 'ok';
}

const errorBody: FieldCodec<{ readonly error: ApiErrorBody }> = object({
  error: object({ code: oneOf(API_ERROR_CODES), message: string(0, MAX_API_ERROR_MESSAGE_CHARS) }),
});
const errorBodyCodec = body(errorBody, 'error body');
const healthResponseBody = body<HealthResponse>(object({ status: literal('ok') }), 'health response');

/** {"error":{"code":C,"message":M}}. ERR_ARGUMENT for an unknown code or an over-long message. */
export function encodeErrorBody(error: ApiErrorBody): string {
  return errorBodyCodec.encode({ error });
}

export function decodeErrorBody(input: string | Uint8Array): ApiErrorBody {
  return errorBodyCodec.decode(input).error;
}

export const encodeHealthResponse = healthResponseBody.encode;
export const decodeHealthResponse = healthResponseBody.decode;
