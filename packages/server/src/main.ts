// startServer: wires node:http and `ws` to createApp and listens (STYLE.md §8). Nothing here decides
// anything about the protocol; it converts between Node's request/response objects and WHATWG ones,
// hands WebSocket upgrades of /v1/ws to the app, opens the store (SQLite file under dataDir by
// default, PostgreSQL when databaseUrl is given) and shuts everything down in order on close().
// It prints nothing: the embedder (the CLI's `sotto serve`) reports the URL.
//
// The fast path: building a WHATWG Request and Response costs several times what node:http itself
// costs per request, so the hot routes (sealed send, fetch, ack — every message goes through them)
// skip both: app.fastFetch runs the fetch handler's own routing, checks, route code, metrics and
// error answers on node:http's request, and the Reply it gives is written as writeResponse would
// write the Response (test/server-fast-path.test.ts compares the two byte for byte). Only request
// targets that URL parsing leaves as they are take it; anything else goes through fetch.
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { fastProvider } from '@sotto/crypto';
import { openPostgresStore, openSqliteStore, type Store } from '@sotto/store';
import { installBase64urlDecoder, SEALED_WEBSOCKET_PATH } from '@sotto/protocol';
import { nativeBase64url } from './internal/base64url.ts';
import { createApp, type App, type FastRequest, type HeaderSource, type Reply, type RequestInfo } from './app.ts';
import { ServerError } from './errors.ts';
import { checkDeclaredLength, tooLarge } from './internal/http.ts';
import { MAX_JSON_BODY_BYTES, MAX_WS_FRAME_BYTES, type RateLimitSettings, type ServerLimits } from './limits.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { TurnOptions } from './turn.ts';

export interface ServerOptions {
  /** Interface to listen on, e.g. "127.0.0.1" or "0.0.0.0". */
  readonly host: string;
  /** TCP port; 0 picks a free one (see the returned url). */
  readonly port: number;
  /** Directory for the SQLite database (`<dataDir>/sotto.db`), created if missing. Unused with databaseUrl. */
  readonly dataDir: string;
  /** postgres://… to use PostgreSQL instead of SQLite. */
  readonly databaseUrl?: string | undefined;
  readonly logger?: Logger | undefined;
  readonly limits?: Partial<ServerLimits> | undefined;
  readonly rateLimits?: Partial<RateLimitSettings> | undefined;
  /** The web client's built files, served at `/` (docs/protocol/09 §9.11); default: DEFAULT_WEB_DIR
   *  (packages/web/dist). Read on each request: while it has no index.html, `/` answers with a short
   *  text saying the web client is not built. `false`: serve no web client (404 outside the API). */
  readonly webDir?: string | false | undefined;
  /** The TURN server (coturn with `use-auth-secret` and this `static-auth-secret`) whose short-lived
   *  credentials `GET /v1/calls/turn` hands out (docs/protocol/11 §11.7); without it, 404. */
  readonly turn?: TurnOptions | undefined;
}

/** packages/web/dist, next to this package in the repository: where `vite build` puts the web client. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface RunningServer {
  /** "http://host:port", with the real port when 0 was asked for. */
  readonly url: string;
  /** Stops accepting, closes every WebSocket and connection, then the store. Idempotent. */
  close(): Promise<void>;
}

/** The SQLite file name inside dataDir. */
export const SQLITE_FILE = 'sotto.db';

async function openStore(options: ServerOptions): Promise<Store> {
  if (options.databaseUrl !== undefined) {
    if (!/^postgres(?:ql)?:\/\//.test(options.databaseUrl)) throw new ServerError('ERR_SERVER_CONFIG', 'databaseUrl: expected postgres://…');
    return openPostgresStore(options.databaseUrl);
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore(join(options.dataDir, SQLITE_FILE));
}

/** Node's request as a WHATWG Request; the body streams (nothing is read until the app reads it). */
function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    if (name !== undefined && value !== undefined) headers.append(name, value);
  }
  // The Host header is the client's to choose; the app reads only path and query, so the origin is fixed.
  const url = new URL(req.url ?? '/', 'http://sotto.invalid');
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // `duplex: 'half'` is what Node's fetch requires for a streamed body (not yet in the DOM typings).
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (hasBody) {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

async function writeResponse(res: ServerResponse, response: Response, req: IncomingMessage): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  // HEAD: the app declares the length of the body a GET would get, and sends none.
  const declared = req.method === 'HEAD' ? response.headers.get('content-length') : null;
  res.setHeader('content-length', declared ?? body.length);
  closeIfUnread(res, req);
  res.end(body);
}

/** A body the app did not read (e.g. refused with 413 from Content-Length) and the client is still
 *  sending is not read here either: the connection is closed after the response instead of draining
 *  it. A request that has fully arrived (`complete`: no body, or all of it buffered) keeps the
 *  connection; node:http discards what nobody read. */
function closeIfUnread(res: ServerResponse, req: IncomingMessage): void {
  if (!req.complete) res.setHeader('connection', 'close');
}

/** writeResponse for a Reply: the same status line, headers in the same order, the same body. */
function writeReply(res: ServerResponse, reply: Reply, req: IncomingMessage): void {
  const body = Buffer.from(reply.body, 'utf8');
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('content-length', body.length);
  closeIfUnread(res, req);
  res.end(body);
}

/** Request targets of the hot routes that URL parsing leaves unchanged: /v1/messages, its /ack, or
 *  /v1/messages/{username}/{deviceId} with segments of unreserved characters (never "." or ".."),
 *  and a query of characters that need no percent-encoding. Anything else takes the fetch path. */
const FAST_TARGET = /^\/v1\/messages(?:\/ack|\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*\/[0-9]+)?(?:\?[A-Za-z0-9._~=&%+-]*)?$/;

/** Headers.get over node:http's raw headers: case-insensitive, repeated headers joined with ", ",
 *  leading and trailing whitespace removed (what `new Headers()` does to each value). */
function rawHeaders(raw: readonly string[]): HeaderSource {
  return {
    get(name: string): string | null {
      const want = name.toLowerCase();
      let out: string | null = null;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const key = raw[i] ?? '';
        if (key.length !== want.length || key.toLowerCase() !== want) continue;
        const value = (raw[i + 1] ?? '').replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
        out = out === null ? value : `${out}, ${value}`;
      }
      return out;
    },
  };
}

/** The whole body of a fast-path request under readBody's rules. Over the limit while streaming,
 *  reading stops, as cancelling the WHATWG body stream does on the fetch path. */
function readNodeBody(req: IncomingMessage, headers: HeaderSource, limit: number): Promise<Uint8Array> {
  try {
    checkDeclaredLength(headers, limit);
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        done();
        req.pause(); // the rest is never read: the answer closes the connection (closeIfUnread)
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, total));
    };
    const onError = (e: Error): void => {
      done();
      reject(e);
    };
    const onClose = (): void => {
      done();
      reject(Object.assign(new Error('the request was aborted'), { code: 'ECONNRESET' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** The fast path's view of a request, or null when its target is not one it takes. */
function fastRequest(req: IncomingMessage): FastRequest | null {
  const target = req.url ?? '';
  const method = req.method ?? '';
  if ((method !== 'PUT' && method !== 'GET' && method !== 'POST') || !FAST_TARGET.test(target)) return null;
  const q = target.indexOf('?');
  const headers = rawHeaders(req.rawHeaders);
  return {
    method,
    pathname: q < 0 ? target : target.slice(0, q),
    // URL.search is "" for an empty query, also when the target ends in "?".
    search: q < 0 || q === target.length - 1 ? '' : target.slice(q),
    headers,
    readBody: (limit) => readNodeBody(req, headers, limit),
  };
}

const requestInfo = (socket: Socket): RequestInfo => ({ remoteAddress: socket.remoteAddress ?? 'unknown' });

/**
 * node:http's request listener for `app`: the hot routes through app.fastFetch (unless `fastPath` is
 * false), everything else as a WHATWG Request through app.fetch. Internal: startServer uses it, and
 * the test that compares both paths makes one of each.
 */
export function createNodeListener(app: App, fastPath = true): RequestListener {
  return (req, res) => {
    // A client that disconnects mid-request makes these emit 'error': never a crash of the process.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const fast = fastPath ? fastRequest(req) : null;
    const replied = fast === null ? null : app.fastFetch(fast, requestInfo(req.socket));
    if (replied !== null) {
      replied.then(
        (reply) => {
          writeReply(res, reply, req);
        },
        () => {
          res.destroy();
        },
      );
      return;
    }
    let request: Request;
    try {
      request = toRequest(req);
    } catch {
      res.statusCode = 400;
      res.setHeader('connection', 'close');
      res.end();
      return;
    }
    app
      .fetch(request, requestInfo(req.socket))
      .then((response) => writeResponse(res, response, req))
      .catch(() => {
        // Only a broken connection gets here (the app answers every request itself).
        res.destroy();
      });
  };
}

function refuseUpgrade(socket: Socket, response: Response): void {
  response
    .text()
    .then((text) => {
      socket.end(`HTTP/1.1 ${response.status} ${response.statusText || 'Refused'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n${response.headers.has('retry-after') ? `retry-after: ${response.headers.get('retry-after') ?? ''}\r\n` : ''}\r\n${text}`);
    })
    .catch(() => socket.destroy());
}

function rawToBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** Opens the store, creates the app, and listens on host:port. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  installBase64urlDecoder(nativeBase64url);
  const logger = options.logger ?? silentLogger;
  const store = await openStore(options);
  let app: App;
  try {
    const webDir = options.webDir ?? DEFAULT_WEB_DIR;
    app = createApp({
      store,
      crypto: fastProvider,
      logger,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
      ...(webDir === false ? {} : { staticFiles: webDir }),
      ...(options.turn ? { turn: options.turn } : {}),
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const info = requestInfo;

  const server = createServer(createNodeListener(app));
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_FRAME_BYTES });
  // Sealed sends carry an envelope each: their frames are bounded like a send's JSON body (§9.7.1).
  const sealedWss = new WebSocketServer({ noServer: true, maxPayload: options.limits?.maxJsonBodyBytes ?? MAX_JSON_BODY_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let refusal: Response | null;
    let request: Request;
    try {
      request = toRequest(req);
      refusal = app.checkWebSocketUpgrade(request, info(socket));
    } catch {
      socket.destroy();
      return;
    }
    if (refusal !== null) {
      refuseUpgrade(socket, refusal);
      return;
    }
    // The path as checkWebSocketUpgrade saw it (URL-normalised), so both agree on the endpoint.
    const sealed = new URL(request.url).pathname === SEALED_WEBSOCKET_PATH;
    (sealed ? sealedWss : wss).handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // Frames sent in one pass of callbacks and microtasks — a group commit's pushes to this
      // device, or its answers to sealed sends, one per message — leave in one write instead of one
      // system call each.
      let corked = false;
      const uncork = (): void => {
        corked = false;
        socket.uncork();
      };
      const peer = {
        send: (text: string): void => {
          if (!corked) {
            corked = true;
            socket.cork();
            process.nextTick(uncork);
          }
          ws.send(text);
        },
        close: (code: number, reason: string): void => {
          ws.close(code, reason);
        },
      };
      const session = sealed ? app.acceptSealedWebSocket(peer, info(socket)) : app.acceptWebSocket(peer);
      ws.on('message', (data: RawData, isBinary: boolean) => {
        session.onMessage(rawToBytes(data), isBinary);
      });
      ws.on('close', () => {
        session.onClose();
      });
      ws.on('error', () => {
        // `close` follows; nothing to log about a client's broken socket
      });
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await app.close();
    await store.close();
    throw new ServerError('ERR_SERVER_LISTEN', `could not listen on ${options.host}:${options.port} (${e instanceof Error && 'code' in e ? String(e.code) : 'error'})`, { cause: e });
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.log('info', 'server.listening', { port: address.port });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      await app.close();
      for (const ws of wss.clients) ws.terminate();
      for (const ws of sealedWss.clients) ws.terminate();
      wss.close();
      sealedWss.close();
      server.closeAllConnections();
      await stopped;
      await store.close();
      logger.log('info', 'server.closed');
    })();
    return closing;
  };
  return { url, close };
}
