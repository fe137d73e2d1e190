// docs/protocol/09 §9.4 step 3 and §9.7: the two credentials a request can carry in a header.
import { ProtocolError } from '../errors.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { ACCESS_KEY_BYTES, AUTH_TOKEN_BYTES } from './constants.ts';

const BEARER = 'Bearer ';

/** "Bearer <token as base64url>". */
export function encodeBearerAuthorization(token: Uint8Array): string {
  if (!(token instanceof Uint8Array) || token.length !== AUTH_TOKEN_BYTES) throw new ProtocolError('ERR_ARGUMENT', `token: expected ${AUTH_TOKEN_BYTES} bytes`);
  return BEARER + encodeBase64url(token);
}

/** The token of an `Authorization` header value: exactly "Bearer " and b64[32]. ERR_API_DECODE otherwise. */
export function decodeBearerAuthorization(value: string): Uint8Array {
  if (typeof value !== 'string' || !value.startsWith(BEARER)) throw new ProtocolError('ERR_API_DECODE', 'Authorization: expected "Bearer <token>"');
  return decodeBase64url(value.slice(BEARER.length), 'Authorization token', { length: AUTH_TOKEN_BYTES });
}

/** The `Sotto-Access-Key` header value: the access key as base64url. */
export function encodeAccessKeyHeader(accessKey: Uint8Array): string {
  if (!(accessKey instanceof Uint8Array) || accessKey.length !== ACCESS_KEY_BYTES) throw new ProtocolError('ERR_ARGUMENT', `accessKey: expected ${ACCESS_KEY_BYTES} bytes`);
  return encodeBase64url(accessKey);
}

/** The access key of a `Sotto-Access-Key` header value: b64[16]. ERR_API_DECODE otherwise. */
export function decodeAccessKeyHeader(value: string): Uint8Array {
  return decodeBase64url(value, 'Sotto-Access-Key', { length: ACCESS_KEY_BYTES });
}
