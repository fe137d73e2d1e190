// HTTP plumbing shared by the routes: JSON and error responses (docs/protocol/09 §9.1), media-type
// checks, and bounded body reading — a body over the route's limit is refused with 413 as soon as
// that is known (from Content-Length, or while streaming), never after reading it all.
import { API_ERROR_STATUS, encodeErrorBody, type ApiErrorCode } from '@sotto/protocol';
import { ServerError } from '../errors.ts';

const JSON_TYPE = 'application/json';
const BINARY_TYPE = 'application/octet-stream';

export function jsonResponse(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' } });
}

export function binaryResponse(status: number, body: Uint8Array): Response {
  // A fresh ArrayBuffer-backed copy: Response wants a BufferSource it may keep.
  return new Response(body.slice(), { status, headers: { 'content-type': BINARY_TYPE, 'cache-control': 'no-store' } });
}

/** The error body of §9.1 with its status; 429 carries Retry-After, 405 carries Allow. */
export function errorResponse(code: ApiErrorCode, message: string, extra?: { retryAfterSeconds?: number | undefined; allow?: string | undefined }): Response {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
  if (extra?.retryAfterSeconds !== undefined) headers['retry-after'] = String(extra.retryAfterSeconds);
  if (extra?.allow !== undefined) headers.allow = extra.allow;
  return new Response(encodeErrorBody({ code, message: message.slice(0, 1024) }), { status: API_ERROR_STATUS[code], headers });
}

/** Throws 415 unless the request's media type is `expected` (parameters: only charset=utf-8 for JSON). */
export function requireContentType(request: Request, expected: 'json' | 'binary'): void {
  const header = request.headers.get('content-type');
  const want = expected === 'json' ? JSON_TYPE : BINARY_TYPE;
  const fail = (): never => {
    throw new ServerError('ERR_API_UNSUPPORTED_MEDIA_TYPE', `expected Content-Type ${want}`);
  };
  if (header === null) fail();
  const [type = '', ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (type !== want) fail();
  for (const p of params) if (!(expected === 'json' && p.replace(/\s+/g, '') === 'charset=utf-8')) fail();
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * Reads the whole body, refusing with 413 (ERR_API_TOO_LARGE) as soon as it is known to exceed
 * `limit` bytes: up front from Content-Length, else while streaming (the stream is cancelled, so the
 * rest is never read). A malformed Content-Length is 400.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!DECIMAL.test(declared.trim())) throw new ServerError('ERR_API_BAD_REQUEST', 'Content-Length: expected a decimal integer');
    const n = Number(declared.trim());
    if (n > limit) throw new ServerError('ERR_API_TOO_LARGE', `body: at most ${limit} bytes, Content-Length says ${n}`);
  }
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ServerError('ERR_API_TOO_LARGE', `body: at most ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** For routes without a body: any byte is 400 (a client that sends one misunderstands the route). */
export async function requireEmptyBody(request: Request): Promise<void> {
  const body = await readBody(request, 0).catch((e: unknown) => {
    if (e instanceof ServerError && e.code === 'ERR_API_TOO_LARGE') throw new ServerError('ERR_API_BAD_REQUEST', 'expected an empty body');
    throw e;
  });
  if (body.length !== 0) throw new ServerError('ERR_API_BAD_REQUEST', 'expected an empty body');
}
