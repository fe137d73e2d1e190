// The HTTP client of the server API (docs/protocol/09). Every body goes through @sotto/protocol's
// strict codecs, in both directions; nothing here parses JSON by hand. `fetch` is injected (the
// platform's own by default), so the client runs in Node and browsers alike and tests can inject
// network faults.
//
// Credentials (§9.4, §9.7): a bearer token is acquired on first need with the challenge/token exchange
// (the device's identity key signs the challenge), cached until shortly before it expires, and
// acquired again once when a request is refused with 401 (a server restart logs every device out).
// Sealed sends carry the recipient's access key instead, and no Authorization header.
//
// Errors are ClientError: ERR_NETWORK when no answer came (fetch failed, timeout), the server's answer
// mapped per route otherwise (ERR_NOT_FOUND, ERR_USERNAME_TAKEN, ERR_SERVER, ...) with the HTTP status
// and the server's ApiErrorCode attached, and ERR_BAD_RESPONSE when an answer does not decode.
import {
  ACCESS_KEY_HEADER,
  decodeAccountResponse,
  decodeAckResponse,
  decodeAttachmentResponse,
  decodeChallengeResponse,
  decodeErrorBody,
  decodeFetchResponse,
  decodeKeyCountsResponse,
  decodeKeyStatusResponse,
  decodeRegistrationResponse,
  decodeSendMessageResponse,
  decodeTokenResponse,
  decodeTurnCredentialsResponse,
  encodeAccessKeyHeader,
  encodeAckRequest,
  encodeBase64url,
  encodeBearerAuthorization,
  encodeFetchQuery,
  encodeRegistrationRequest,
  encodeSendMessageRequest,
  encodeTokenRequest,
  isProtocolError,
  type AccountResponse,
  type AckResponse,
  type AttachmentResponse,
  type FetchResponse,
  type KeyCountsResponse,
  type KeyStatusResponse,
  type RegistrationRequest,
  type RegistrationResponse,
  type SendMessageRequest,
  type SendMessageResponse,
  type TurnCredentialsResponse,
} from '@sotto/protocol';
import { ClientError, type ClientErrorCode } from '../errors.ts';
import { HTTP_TIMEOUT_MS, MAX_ATTACHMENT_BLOB_BYTES, MAX_RESPONSE_BYTES } from '../limits.ts';

/** The part of the Fetch API the client uses (the platform's `fetch` satisfies it). */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;
export interface FetchInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | string;
  readonly signal?: AbortSignal;
}
export interface FetchResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What the device proves it holds (§9.4): its name, device id, and a signer over its identity key. */
export interface DeviceCredentials {
  readonly username: string;
  readonly deviceId: number;
  /** Signs `buildServerAuthMessage(challenge, username, deviceId)` with the identity key. */
  signServerAuth(challenge: Uint8Array): Promise<Uint8Array>;
}

type Auth = { readonly kind: 'none' } | { readonly kind: 'bearer' } | { readonly kind: 'access'; readonly accessKey: Uint8Array };

interface Request {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly auth: Auth;
  readonly json?: string;
  readonly binary?: Uint8Array;
  /** Maps a server error to the client's code; ERR_SERVER when it returns undefined. */
  readonly mapError?: (status: number, serverCode: string) => ClientErrorCode | undefined;
  readonly maxResponseBytes?: number;
}

const JSON_TYPE = 'application/json';
const BINARY_TYPE = 'application/octet-stream';
/** A cached token is renewed this long before the server says it expires, so it never expires in flight. */
const TOKEN_RENEW_MARGIN_MS = 60_000;

function notFoundIs(code: ClientErrorCode) {
  return (_status: number, serverCode: string): ClientErrorCode | undefined => (serverCode === 'ERR_API_NOT_FOUND' ? code : undefined);
}

/** The base URL without a trailing slash; http(s) only. ERR_ARGUMENT otherwise. */
export function normalizeServerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ClientError('ERR_ARGUMENT', 'server URL: expected an absolute http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ClientError('ERR_ARGUMENT', 'server URL: expected http or https');
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new ClientError('ERR_ARGUMENT', 'server URL: expected no query, fragment or credentials');
  }
  return parsed.href.replace(/\/+$/, '');
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  #credentials: DeviceCredentials | undefined;
  #token: { value: Uint8Array; renewAt: number } | undefined;
  #pendingToken: Promise<Uint8Array> | undefined;

  constructor(opts: { baseUrl: string; fetch: FetchLike; now: () => number; credentials?: DeviceCredentials }) {
    this.baseUrl = normalizeServerUrl(opts.baseUrl);
    this.#fetch = opts.fetch;
    this.#now = opts.now;
    this.#credentials = opts.credentials;
  }

  setCredentials(credentials: DeviceCredentials): void {
    this.#credentials = credentials;
    this.#token = undefined;
  }

  /** A bearer token, acquired if none is cached or it is about to expire (§9.4). */
  async bearerToken(): Promise<Uint8Array> {
    const cached = this.#token;
    if (cached !== undefined && this.#now() < cached.renewAt) return cached.value;
    // One acquisition at a time: concurrent requests share it instead of each spending a challenge.
    this.#pendingToken ??= this.#acquireToken().finally(() => {
      this.#pendingToken = undefined;
    });
    return this.#pendingToken;
  }

  /** Drops the cached token (after a 401), so the next request authenticates again. */
  invalidateToken(): void {
    this.#token = undefined;
  }

  async #acquireToken(): Promise<Uint8Array> {
    const creds = this.#credentials;
    if (creds === undefined) throw new ClientError('ERR_ARGUMENT', 'bearer request: expected device credentials');
    const { challenge } = await this.#send({ method: 'POST', path: '/v1/auth/challenge', auth: { kind: 'none' } }, decodeChallengeResponse);
    const signature = await creds.signServerAuth(challenge);
    const issuedAt = this.#now();
    const res = await this.#send(
      { method: 'POST', path: '/v1/auth/token', auth: { kind: 'none' }, json: encodeTokenRequest({ username: creds.username, deviceId: creds.deviceId, challenge, signature }) },
      decodeTokenResponse,
    );
    // Trust the server's expiry only as far as our clock goes: renew a minute early, and at the
    // latest an hour after issue (§9.4's lifetime), whatever the server claims.
    const renewAt = Math.min(res.expiresAt - TOKEN_RENEW_MARGIN_MS, issuedAt + 60 * 60 * 1000 - TOKEN_RENEW_MARGIN_MS);
    this.#token = { value: res.token, renewAt };
    return res.token;
  }

  // ---------------------------------------------------------------------------------------------
  // Routes (docs/protocol/09 §9.3–§9.10)

  /** §9.3 POST /v1/accounts. 409 → ERR_USERNAME_TAKEN. */
  register(req: RegistrationRequest): Promise<RegistrationResponse> {
    return this.#send(
      {
        method: 'POST',
        path: '/v1/accounts',
        auth: { kind: 'none' },
        json: encodeRegistrationRequest(req),
        mapError: (_s, code) => (code === 'ERR_API_CONFLICT' ? 'ERR_USERNAME_TAKEN' : undefined),
      },
      decodeRegistrationResponse,
    );
  }

  /** §9.5 PUT /v1/keys with an encoded PrekeyUpload. */
  uploadPrekeys(upload: Uint8Array): Promise<KeyCountsResponse> {
    return this.#send({ method: 'PUT', path: '/v1/keys', auth: { kind: 'bearer' }, binary: upload }, decodeKeyCountsResponse);
  }

  /** §9.5 GET /v1/keys. */
  prekeyStatus(): Promise<KeyStatusResponse> {
    return this.#send({ method: 'GET', path: '/v1/keys', auth: { kind: 'bearer' } }, decodeKeyStatusResponse);
  }

  /** §9.5 GET /v1/keys/{username}/{deviceId}: the encoded bundle. 404 → ERR_NOT_FOUND. */
  prekeyBundle(username: string, deviceId: number, accessKey?: Uint8Array): Promise<Uint8Array> {
    return this.#send(
      {
        method: 'GET',
        path: `/v1/keys/${encodeURIComponent(username)}/${deviceId}`,
        auth: accessKey === undefined ? { kind: 'bearer' } : { kind: 'access', accessKey },
        mapError: notFoundIs('ERR_NOT_FOUND'),
      },
      'binary',
    );
  }

  /** §9.6 GET /v1/accounts/{username}, with that account's access key or the bearer token. 404 → ERR_NOT_FOUND. */
  account(username: string, accessKey?: Uint8Array): Promise<AccountResponse> {
    return this.#send(
      {
        method: 'GET',
        path: `/v1/accounts/${encodeURIComponent(username)}`,
        auth: accessKey === undefined ? { kind: 'bearer' } : { kind: 'access', accessKey },
        mapError: notFoundIs('ERR_NOT_FOUND'),
      },
      decodeAccountResponse,
    );
  }

  /** §9.7 PUT /v1/messages/{username}/{deviceId}, sealed (access key) or with the bearer token. */
  sendMessage(username: string, deviceId: number, req: SendMessageRequest, accessKey: Uint8Array | undefined): Promise<SendMessageResponse> {
    return this.#send(
      {
        method: 'PUT',
        path: `/v1/messages/${encodeURIComponent(username)}/${deviceId}`,
        auth: accessKey === undefined ? { kind: 'bearer' } : { kind: 'access', accessKey },
        json: encodeSendMessageRequest(req),
        mapError: notFoundIs('ERR_NOT_FOUND'),
      },
      decodeSendMessageResponse,
    );
  }

  /** §9.8 GET /v1/messages?after&limit. */
  fetchMessages(after: number, limit: number): Promise<FetchResponse> {
    return this.#send({ method: 'GET', path: `/v1/messages?${encodeFetchQuery({ after, limit })}`, auth: { kind: 'bearer' } }, decodeFetchResponse);
  }

  /** §9.8 POST /v1/messages/ack. */
  ack(ids: readonly Uint8Array[]): Promise<AckResponse> {
    return this.#send({ method: 'POST', path: '/v1/messages/ack', auth: { kind: 'bearer' }, json: encodeAckRequest({ ids }) }, decodeAckResponse);
  }

  /** §9.9 POST /v1/attachments. 413 → ERR_ATTACHMENT_TOO_LARGE. */
  uploadAttachment(blob: Uint8Array): Promise<AttachmentResponse> {
    return this.#send(
      {
        method: 'POST',
        path: '/v1/attachments',
        auth: { kind: 'bearer' },
        binary: blob,
        mapError: (_s, code) => (code === 'ERR_API_TOO_LARGE' ? 'ERR_ATTACHMENT_TOO_LARGE' : undefined),
      },
      decodeAttachmentResponse,
    );
  }

  /** §9.9 GET /v1/attachments/{id} (no credential). 404 → ERR_NOT_FOUND. */
  downloadAttachment(id: Uint8Array): Promise<Uint8Array> {
    return this.#send(
      { method: 'GET', path: `/v1/attachments/${encodeBase64url(id)}`, auth: { kind: 'none' }, mapError: notFoundIs('ERR_NOT_FOUND'), maxResponseBytes: MAX_ATTACHMENT_BLOB_BYTES },
      'binary',
    );
  }

  /** docs/protocol/11 §11.7 GET /v1/calls/turn (bearer). undefined when the server has no TURN server
   *  (404: started without --turn-url, or a server without the route). */
  async turnCredentials(): Promise<TurnCredentialsResponse | undefined> {
    try {
      return await this.#send({ method: 'GET', path: '/v1/calls/turn', auth: { kind: 'bearer' }, mapError: (status) => (status === 404 ? 'ERR_NOT_FOUND' : undefined) }, decodeTurnCredentialsResponse);
    } catch (e) {
      if (e instanceof ClientError && e.code === 'ERR_NOT_FOUND') return undefined;
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------

  async #send<T>(req: Request, decode: ((body: Uint8Array) => T) | 'binary'): Promise<T> {
    let res = await this.#attemptTwiceIfSafe(req);
    if (res.status === 401 && req.auth.kind === 'bearer') {
      // §9.4: tokens live in the server's memory; a restart (or expiry) means authenticating again.
      this.invalidateToken();
      res = await this.#attemptTwiceIfSafe(req);
    }
    const body = await readBody(res, req.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    if (res.status < 200 || res.status > 299) throw serverError(res, body, req.mapError);
    if (decode === 'binary') return body as T;
    try {
      return decode(body);
    } catch (e) {
      if (isProtocolError(e)) throw new ClientError('ERR_BAD_RESPONSE', `${req.method} ${routeName(req.path)}: the answer does not decode (${e.code})`, { cause: e });
      throw e;
    }
  }

  /** A request whose repetition changes nothing (reads, a new challenge, an acknowledgement) is
   *  tried once more at once when no answer came: a pooled keep-alive connection that the server
   *  closed (a restart) fails the first request on it. Others are retried by their callers. */
  async #attemptTwiceIfSafe(req: Request): Promise<FetchResponseLike> {
    const repeatable = req.method === 'GET' || req.path === '/v1/auth/challenge' || req.path === '/v1/messages/ack';
    try {
      return await this.#attempt(req);
    } catch (e) {
      if (!repeatable || !(e instanceof ClientError) || e.code !== 'ERR_NETWORK') throw e;
      return this.#attempt(req);
    }
  }

  async #attempt(req: Request): Promise<FetchResponseLike> {
    const headers: Record<string, string> = {};
    let body: Uint8Array | string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = JSON_TYPE;
      body = req.json;
    } else if (req.binary !== undefined) {
      headers['content-type'] = BINARY_TYPE;
      body = req.binary;
    }
    if (req.auth.kind === 'bearer') headers.authorization = encodeBearerAuthorization(await this.bearerToken());
    if (req.auth.kind === 'access') headers[ACCESS_KEY_HEADER.toLowerCase()] = encodeAccessKeyHeader(req.auth.accessKey);
    try {
      return await this.#fetch(this.baseUrl + req.path, {
        method: req.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
    } catch (e) {
      throw new ClientError('ERR_NETWORK', `${req.method} ${routeName(req.path)}: no answer from the server`, { cause: e });
    }
  }
}

/** The route without its parameters, for error messages (no usernames or ids in messages). */
function routeName(path: string): string {
  const p = path.split('?')[0] ?? path;
  const parts = p.split('/');
  if (parts[2] === 'keys' && parts.length > 3) return '/v1/keys/{username}/{deviceId}';
  if (parts[2] === 'accounts' && parts.length > 3) return '/v1/accounts/{username}';
  if (parts[2] === 'messages' && parts.length > 3 && parts[3] !== 'ack') return '/v1/messages/{username}/{deviceId}';
  if (parts[2] === 'attachments' && parts.length > 3) return '/v1/attachments/{id}';
  return p;
}

async function readBody(res: FetchResponseLike, max: number): Promise<Uint8Array> {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max) throw new ClientError('ERR_BAD_RESPONSE', `expected an answer of at most ${max} bytes, got ${declared}`);
  try {
    if (res.body === null) return new Uint8Array(await res.arrayBuffer());
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        throw new ClientError('ERR_BAD_RESPONSE', `expected an answer of at most ${max} bytes, got more`);
      }
      chunks.push(value);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  } catch (e) {
    if (e instanceof ClientError) throw e;
    throw new ClientError('ERR_NETWORK', 'the connection failed while reading the answer', { cause: e });
  }
}

function serverError(res: FetchResponseLike, body: Uint8Array, map: Request['mapError']): ClientError {
  let serverCode: string;
  let serverMessage = '';
  try {
    const e = decodeErrorBody(body);
    serverCode = e.code;
    serverMessage = e.message;
  } catch {
    return new ClientError('ERR_BAD_RESPONSE', `the server answered ${res.status} without a valid error body`, { server: { status: res.status, serverCode: 'none' } });
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  const server = {
    status: res.status,
    serverCode,
    ...(Number.isSafeInteger(retryAfter) && retryAfter >= 0 && res.headers.get('retry-after') !== null ? { retryAfterMs: retryAfter * 1000 } : {}),
  };
  const code = map?.(res.status, serverCode) ?? 'ERR_SERVER';
  // The server's message says what it expected and got (§9.1); it never holds secrets by contract,
  // but it is the server's text, so it is kept short.
  return new ClientError(code, `${serverCode} (${res.status}): ${serverMessage.slice(0, 200)}`, { server });
}
