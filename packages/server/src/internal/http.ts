// HTTP plumbing shared by the routes: JSON and error responses (docs/protocol/09 §9.1), media-type
// checks, and bounded body reading — a body over the route's limit is refused with 413 as soon as
// that is known (from Content-Length, or while streaming), never after reading it all.
//
// The hot routes (sealed send, fetch, ack) answer with a Reply — status, headers and a JSON body as
// plain data — which the fetch handler turns into a WHATWG Response and startServer's node:http fast
// path writes as it is: one answer, two transports, byte for byte the same.
import { API_ERROR_STATUS, encodeErrorBody, type ApiErrorCode } from '@sotto/protocol';
import { ServerError } from '../errors.ts';

const JSON_TYPE = 'application/json';
const BINARY_TYPE = 'application/octet-stream';

/** A JSON answer as plain data. `headers` are lower-case names in ascending order (the order a
 *  WHATWG Headers object iterates them in, so both transports write them in the same order). */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Request headers as both transports can give them: a WHATWG Headers object, or startServer's view
 *  of node:http's raw headers (repeated headers joined with ", ", as Headers.get does). */
export interface HeaderSource {
  get(name: string): string | null;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': 'no-store', 'content-type': JSON_TYPE });

export function jsonReply(status: number, body: string): Reply {
  return { status, headers: JSON_HEADERS, body };
}

/** The error body of §9.1 with its status; 429 carries Retry-After, 405 carries Allow. */
export function errorReply(code: ApiErrorCode, message: string, extra?: { retryAfterSeconds?: number | undefined; allow?: string | undefined }): Reply {
  const headers: Record<string, string> = {};
  if (extra?.allow !== undefined) headers.allow = extra.allow;
  headers['cache-control'] = 'no-store';
  headers['content-type'] = JSON_TYPE;
  if (extra?.retryAfterSeconds !== undefined) headers['retry-after'] = String(extra.retryAfterSeconds);
  return { status: API_ERROR_STATUS[code], headers, body: encodeErrorBody({ code, message: message.slice(0, 1024) }) };
}

export function replyResponse(reply: Reply): Response {
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}

export function jsonResponse(status: number, body: string): Response {
  return replyResponse(jsonReply(status, body));
}

export function binaryResponse(status: number, body: Uint8Array): Response {
  // A fresh ArrayBuffer-backed copy: Response wants a BufferSource it may keep.
  return new Response(body.slice(), { status, headers: { 'content-type': BINARY_TYPE, 'cache-control': 'no-store' } });
}

/** errorReply as a WHATWG Response. */
export function errorResponse(code: ApiErrorCode, message: string, extra?: { retryAfterSeconds?: number | undefined; allow?: string | undefined }): Response {
  return replyResponse(errorReply(code, message, extra));
}

/** Throws 415 unless the request's media type is `expected` (parameters: only charset=utf-8 for JSON). */
export function requireContentType(request: { readonly headers: HeaderSource }, expected: 'json' | 'binary'): void {
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

/** readBody's first step, shared with the fast path: a malformed Content-Length is 400, one over
 *  `limit` is 413 before a byte of the body is read. */
export function checkDeclaredLength(headers: HeaderSource, limit: number): void {
  const declared = headers.get('content-length');
  if (declared !== null) {
    if (!DECIMAL.test(declared.trim())) throw new ServerError('ERR_API_BAD_REQUEST', 'Content-Length: expected a decimal integer');
    const n = Number(declared.trim());
    if (n > limit) throw new ServerError('ERR_API_TOO_LARGE', `body: at most ${limit} bytes, Content-Length says ${n}`);
  }
}

/** The message of a body that grew past `limit` while it was read (413). */
export function tooLarge(limit: number): ServerError {
  return new ServerError('ERR_API_TOO_LARGE', `body: at most ${limit} bytes`);
}

/**
 * Reads the whole body, refusing with 413 (ERR_API_TOO_LARGE) as soon as it is known to exceed
 * `limit` bytes: up front from Content-Length, else while streaming (the stream is cancelled, so the
 * rest is never read). A malformed Content-Length is 400.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  checkDeclaredLength(request.headers, limit);
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
      throw tooLarge(limit);
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
