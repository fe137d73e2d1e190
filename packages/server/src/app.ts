// createApp(deps): the whole server as a function from WHATWG Request to Response, plus a WebSocket
// session factory (STYLE.md §8: unit tests call `fetch` without sockets; main.ts only wires node:http
// and `ws` to it). Behaviour: docs/protocol/09, one file per resource under routes/.
//
// Every request: the per-address rate limit (§9.9), then routing (404 / 405), then the route. Any
// error becomes the error body of §9.1: a ServerError with its code, a refused store call as 503 when
// the store is unreachable, anything else as 500 — logged by error code only, never with request
// contents. Routes check everything they can refuse before they change anything, so a refused
// request changes nothing.
import { randomFillSync } from 'node:crypto';
import { SEALED_WEBSOCKET_PATH, type CryptoProvider, type Rng } from '@sotto/protocol';
import { isStoreError, type Store } from '@sotto/store';
import { isServerError, ServerError } from './errors.ts';
import { DEFAULT_LIMITS, DEFAULT_RATE_LIMITS, type RateLimitSettings, type ServerLimits } from './limits.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { AppState, Handler, HotHandler, RequestContext } from './internal/context.ts';
import { AccountCache } from './internal/accounts.ts';
import { Credentials } from './internal/credentials.ts';
import { Fanout } from './internal/fanout.ts';
import { errorReply, replyResponse, type HeaderSource, type Reply } from './internal/http.ts';
import { Metrics } from './internal/metrics.ts';
import { RateLimiter } from './internal/rate-limit.ts';
import { createRouter, type Route } from './internal/router.ts';
import * as accounts from './routes/accounts.ts';
import * as attachments from './routes/attachments.ts';
import * as auth from './routes/auth.ts';
import * as calls from './routes/calls.ts';
import { health } from './routes/health.ts';
import * as keys from './routes/keys.ts';
import * as messages from './routes/messages.ts';
import { metrics } from './routes/metrics.ts';
import { createStaticHandler, isStaticPath, type StaticFiles } from './routes/static.ts';
import { SealedConnection, type ApiError, type SealedDeps } from './routes/sealed-ws.ts';
import { LiveConnection, type WebSocketPeer, type WebSocketSession } from './routes/ws.ts';
import { TurnConfig, type TurnOptions } from './turn.ts';

/** What the server is built from. Only `store` and `crypto` are required. */
export interface AppDeps {
  readonly store: Store;
  readonly crypto: CryptoProvider;
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: () => number;
  /** Randomness for challenges, tokens and attachment ids (default: the platform CSPRNG). */
  readonly rng?: Rng;
  readonly limits?: Partial<ServerLimits>;
  readonly rateLimits?: Partial<RateLimitSettings>;
  readonly logger?: Logger;
  /** The web client's files, served at `/` for GET and HEAD outside /v1 (docs/protocol/09 §9.11).
   *  Without it, such paths are 404 like any unknown route. */
  readonly staticFiles?: StaticFiles;
  /** The TURN server whose credentials `GET /v1/calls/turn` hands out (docs/protocol/11 §11.7).
   *  Without it, that route answers 404. */
  readonly turn?: TurnOptions;
}

/** Per-request facts the transport knows and a WHATWG Request does not carry. */
export interface RequestInfo {
  /** The peer's network address: the key of the per-address rate limit (never logged). */
  readonly remoteAddress: string;
}

/** A request of a hot route as startServer's node:http fast path hands it to fastFetch: no WHATWG
 *  Request, nothing read before the route reads it. */
export interface FastRequest {
  readonly method: string;
  /** The path exactly as URL.pathname gives it (the fast path takes only request targets that URL
   *  parsing leaves as they are). */
  readonly pathname: string;
  /** The query exactly as URL.search gives it: "" or "?…". */
  readonly search: string;
  readonly headers: HeaderSource;
  /** The whole body, under the fetch handler's rules (400 for a malformed Content-Length, 413 over
   *  `limit`, from Content-Length before reading or while reading). */
  readBody(limit: number): Promise<Uint8Array>;
}

export type { HeaderSource, Reply } from './internal/http.ts';

/** What the expiry sweep deleted. */
export interface SweepResult {
  readonly messages: number;
  readonly attachments: number;
}

export interface App {
  /** Answers one HTTP request (every route of docs/protocol/09 except the WebSocket upgrade). */
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  /** fetch's answer for the hot routes (sealed send, fetch, ack: docs/protocol/09 §9.7, §9.8) — the
   *  same checks, code, metrics and answer — without building a WHATWG Request and Response; null
   *  for any other route, which the caller then hands to fetch. */
  fastFetch(request: FastRequest, info?: RequestInfo): Promise<Reply> | null;
  /** Before a WebSocket upgrade of GET /v1/ws or GET /v1/ws/sealed: null to go ahead, or the refusal
   *  to send instead (404 for another path, 429 when the address is rate-limited, 503 after close). */
  checkWebSocketUpgrade(request: Request, info?: RequestInfo): Response | null;
  /** Takes over an upgraded WebSocket of /v1/ws (§9.8); the transport forwards frames and the close
   *  to the result. */
  acceptWebSocket(peer: WebSocketPeer): WebSocketSession;
  /** Takes over an upgraded WebSocket of /v1/ws/sealed (§9.7.1): anonymous sealed sends. */
  acceptSealedWebSocket(peer: WebSocketPeer, info?: RequestInfo): WebSocketSession;
  /** Deletes expired messages, attachments, challenges and tokens now (also run every sweepIntervalMs). */
  sweep(): Promise<SweepResult>;
  /** Stops the sweep, closes every WebSocket (1001) and refuses further requests (503). Does not
   *  close the store: whoever opened it closes it. Idempotent. */
  close(): Promise<void>;
}

/** The WebSocket path (§9.8). */
export const WEBSOCKET_PATH = '/v1/ws';
/** The sealed-send WebSocket path (§9.7.1). */
export { SEALED_WEBSOCKET_PATH };

const LOCAL: RequestInfo = { remoteAddress: 'local' };

function checkLimits(limits: ServerLimits): void {
  for (const [name, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ServerError('ERR_SERVER_CONFIG', `limits.${name}: expected a non-negative integer`);
  }
  if (limits.maxInflight < 1) throw new ServerError('ERR_SERVER_CONFIG', 'limits.maxInflight: expected at least 1');
}

function checkBucket(name: string, b: { capacity: number; refillPerSecond: number }): void {
  if (!(b.capacity >= 1) || !(b.refillPerSecond > 0) || !Number.isFinite(b.capacity) || !Number.isFinite(b.refillPerSecond)) {
    throw new ServerError('ERR_SERVER_CONFIG', `rateLimits.${name}: expected capacity >= 1 and refillPerSecond > 0`);
  }
}

export function createApp(deps: AppDeps): App {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  checkLimits(limits);
  const rateLimits: RateLimitSettings = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  checkBucket('perAddress', rateLimits.perAddress);
  checkBucket('perAccount', rateLimits.perAccount);
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const state: AppState = {
    store: deps.store,
    crypto: deps.crypto,
    now,
    rng: deps.rng ?? ((n) => randomFillSync(new Uint8Array(n))),
    limits,
    logger,
    credentials: new Credentials(deps.crypto),
    fanout: new Fanout(),
    metrics: new Metrics(),
    accountLimiter: new RateLimiter(rateLimits.perAccount),
    accounts: new AccountCache(deps.store),
    turn: deps.turn === undefined ? undefined : new TurnConfig(deps.turn),
  };
  const addressLimiter = new RateLimiter(rateLimits.perAddress);
  const live = new Map<string, LiveConnection>();
  const connections = new Set<LiveConnection>();
  const sealedConnections = new Set<SealedConnection>();
  let closed = false;

  const routes: Route<Handler>[] = [
    { method: 'GET', path: '/health', handler: health },
    { method: 'GET', path: '/metrics', handler: metrics },
    { method: 'POST', path: '/v1/accounts', handler: accounts.register },
    { method: 'GET', path: '/v1/accounts/:username', handler: accounts.lookup },
    { method: 'POST', path: '/v1/auth/challenge', handler: auth.challenge },
    { method: 'POST', path: '/v1/auth/token', handler: auth.token },
    { method: 'PUT', path: '/v1/keys', handler: keys.upload },
    { method: 'GET', path: '/v1/keys', handler: keys.status },
    { method: 'GET', path: '/v1/keys/:username/:deviceId', handler: keys.bundle },
    { method: 'PUT', path: '/v1/messages/:username/:deviceId', handler: messages.send },
    { method: 'GET', path: '/v1/messages', handler: messages.fetch },
    { method: 'POST', path: '/v1/messages/ack', handler: messages.ack },
    { method: 'POST', path: '/v1/attachments', handler: attachments.upload },
    { method: 'GET', path: '/v1/attachments/:id', handler: attachments.download },
    { method: 'GET', path: '/v1/calls/turn', handler: calls.turn },
  ];
  const route = createRouter(routes);
  /** The hot routes' own handlers (their table entries run them through whatwgHandler): fastFetch
   *  runs these directly, after the same routing. */
  const hotHandlers = new Map<Handler, HotHandler>([
    [messages.send, messages.sendHot],
    [messages.fetch, messages.fetchHot],
    [messages.ack, messages.ackHot],
  ]);
  const serveStatic = deps.staticFiles === undefined ? undefined : createStaticHandler(deps.staticFiles);

  /** Any error as the §9.1 error body: a ServerError with its code, an unreachable store as 503
   *  (logged), anything else as 500 (logged by code only). */
  function toApiError(e: unknown, routeName: string): ApiError {
    if (isServerError(e) && e.code.startsWith('ERR_API_')) {
      return { code: e.code as ApiError['code'], message: e.message.replace(/^ERR_API_[A-Z_]+: /, ''), retryAfterSeconds: e.retryAfterSeconds };
    }
    if (isStoreError(e, 'ERR_STORE_BACKEND') || isStoreError(e, 'ERR_STORE_CLOSED')) {
      logger.log('error', 'store.unavailable', { route: routeName, error: e.code });
      return { code: 'ERR_API_UNAVAILABLE', message: 'the store is unavailable; retry later', retryAfterSeconds: undefined };
    }
    const code = e instanceof Error ? ('code' in e && typeof e.code === 'string' ? e.code : e.name) : 'unknown';
    logger.log('error', 'request.failed', { route: routeName, error: code });
    return { code: 'ERR_API_INTERNAL', message: 'the server failed; retry later', retryAfterSeconds: undefined };
  }

  function toReply(e: unknown, routeName: string): Reply {
    const a = toApiError(e, routeName);
    return errorReply(a.code, a.message, { retryAfterSeconds: a.retryAfterSeconds });
  }

  function toResponse(e: unknown, routeName: string): Response {
    return replyResponse(toReply(e, routeName));
  }

  /** The per-address bucket; a ServerError 429 when it is empty. */
  function chargeAddress(info: RequestInfo, at: number): void {
    const wait = addressLimiter.take(info.remoteAddress, at);
    if (wait > 0) {
      state.metrics.add('rate_limited');
      throw new ServerError('ERR_API_RATE_LIMITED', 'too many requests from this address', { retryAfterSeconds: wait });
    }
  }

  async function fetch(request: Request, info: RequestInfo = LOCAL): Promise<Response> {
    const started = now();
    let routeName = 'unmatched';
    let response: Response;
    try {
      if (closed) throw new ServerError('ERR_API_UNAVAILABLE', 'the server is shutting down');
      chargeAddress(info, started);
      const url = new URL(request.url);
      const match = route(request.method, url.pathname);
      if (match.kind === 'not-found' && serveStatic !== undefined && (request.method === 'GET' || request.method === 'HEAD') && isStaticPath(url.pathname)) {
        routeName = 'static';
        response = await serveStatic(request.method, url.pathname);
      } else if (match.kind === 'not-found') {
        throw new ServerError('ERR_API_NOT_FOUND', url.pathname === WEBSOCKET_PATH || url.pathname === SEALED_WEBSOCKET_PATH ? `${url.pathname} is a WebSocket endpoint: expected an upgrade` : 'no such route');
      } else if (match.kind === 'method-not-allowed') {
        routeName = match.path;
        response = replyResponse(errorReply('ERR_API_METHOD_NOT_ALLOWED', `expected ${match.allow}`, { allow: match.allow }));
      } else {
        routeName = match.route.path;
        const ctx: RequestContext = { app: state, request, url, params: match.params, now: started };
        response = await match.route.handler(ctx);
      }
    } catch (e) {
      response = toResponse(e, routeName);
    }
    state.metrics.request(request.method, routeName, response.status);
    logger.log('debug', 'request', { method: request.method, route: routeName, status: response.status, ms: now() - started });
    return response;
  }

  function fastFetch(request: FastRequest, info: RequestInfo = LOCAL): Promise<Reply> | null {
    const match = route(request.method, request.pathname);
    if (match.kind !== 'found') return null;
    const hot = hotHandlers.get(match.route.handler);
    return hot === undefined ? null : runHot(hot, match.route.path, match.params, request, info);
  }

  /** fetch's steps for a found hot route, in fetch's order, with its metrics and log line. */
  async function runHot(hot: HotHandler, path: string, params: Readonly<Record<string, string>>, request: FastRequest, info: RequestInfo): Promise<Reply> {
    const started = now();
    let routeName = 'unmatched';
    let reply: Reply;
    try {
      if (closed) throw new ServerError('ERR_API_UNAVAILABLE', 'the server is shutting down');
      chargeAddress(info, started);
      routeName = path;
      reply = await hot({ app: state, request, params, now: started, search: request.search, readBody: (limit) => request.readBody(limit) });
    } catch (e) {
      reply = toReply(e, routeName);
    }
    state.metrics.request(request.method, routeName, reply.status);
    logger.log('debug', 'request', { method: request.method, route: routeName, status: reply.status, ms: now() - started });
    return reply;
  }

  function checkWebSocketUpgrade(request: Request, info: RequestInfo = LOCAL): Response | null {
    try {
      if (closed) throw new ServerError('ERR_API_UNAVAILABLE', 'the server is shutting down');
      chargeAddress(info, now());
      const path = new URL(request.url).pathname;
      if ((path !== WEBSOCKET_PATH && path !== SEALED_WEBSOCKET_PATH) || request.method !== 'GET') throw new ServerError('ERR_API_NOT_FOUND', 'no such route');
      return null;
    } catch (e) {
      const response = toResponse(e, WEBSOCKET_PATH);
      state.metrics.request(request.method, WEBSOCKET_PATH, response.status);
      return response;
    }
  }

  function acceptWebSocket(peer: WebSocketPeer): WebSocketSession {
    state.metrics.request('GET', WEBSOCKET_PATH, 101);
    const connection = new LiveConnection(state, peer, live, connections);
    if (closed) connection.goAway();
    return connection;
  }

  const sealedDeps: SealedDeps = {
    app: state,
    admit(remoteAddress, at) {
      if (closed) throw new ServerError('ERR_API_UNAVAILABLE', 'the server is shutting down');
      chargeAddress({ remoteAddress }, at);
    },
    toApiError,
  };

  function acceptSealedWebSocket(peer: WebSocketPeer, info: RequestInfo = LOCAL): WebSocketSession {
    state.metrics.request('GET', SEALED_WEBSOCKET_PATH, 101);
    const connection = new SealedConnection(sealedDeps, peer, info.remoteAddress, sealedConnections);
    if (closed) connection.goAway();
    return connection;
  }

  let sweeping: Promise<SweepResult> | undefined;
  function sweep(): Promise<SweepResult> {
    sweeping ??= (async () => {
      try {
        const at = now();
        state.credentials.prune(at);
        addressLimiter.prune(at);
        state.accountLimiter.prune(at);
        const deletedMessages = await deps.store.expireMessages(at);
        const deletedAttachments = await deps.store.expireAttachments(at);
        state.metrics.add('messages_expired', deletedMessages);
        state.metrics.add('attachments_expired', deletedAttachments);
        if (deletedMessages + deletedAttachments > 0) logger.log('info', 'sweep', { messages: deletedMessages, attachments: deletedAttachments });
        return { messages: deletedMessages, attachments: deletedAttachments };
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  }

  const timer =
    limits.sweepIntervalMs > 0
      ? setInterval(() => {
          sweep().catch((e: unknown) => {
            logger.log('error', 'sweep.failed', { error: isStoreError(e) ? e.code : e instanceof Error ? e.name : 'unknown' });
          });
        }, limits.sweepIntervalMs)
      : undefined;
  timer?.unref();

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    for (const c of [...connections]) c.goAway();
    for (const c of [...sealedConnections]) c.goAway();
    state.credentials.clear();
    await sweeping?.catch(() => undefined);
  }

  return { fetch, fastFetch, checkWebSocketUpgrade, acceptWebSocket, acceptSealedWebSocket, sweep, close };
}
