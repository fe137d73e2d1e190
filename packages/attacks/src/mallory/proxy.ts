// Mallory in front of the Sotto server: a loopback HTTP and WebSocket proxy that every client request and every
// server push passes through, and that records all of it — request and response bodies and headers, every
// WebSocket frame in both directions. It is the "every byte relayed" half of a provider compromise (the
// server's database file is the other half), and the place where mallory rewrites what the server says
// (key substitution, downgrade) or injects what it recorded (replay).
//
// Tests and the scorecard use plain HTTP on loopback, so the proxy sees what a TLS-terminating server sees:
// the worst case. Recorded at the HTTP-message and WebSocket-frame level (not TCP segments): bodies, headers,
// methods, paths, status codes and frame payloads are all there, byte for byte.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { AttacksError } from '../errors.ts';
import { MAX_CAPTURE_BYTES, MAX_PROXY_BODY_BYTES } from '../limits.ts';

/** One HTTP exchange as it crossed the proxy (the response as the server sent it, before any rewrite). */
export interface RecordedHttp {
  readonly kind: 'http';
  readonly n: number;
  readonly method: string;
  readonly path: string;
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly requestBody: Uint8Array;
  readonly status: number;
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly responseBody: Uint8Array;
  /** Set when mallory answered the request itself (ProxyHooks.request) and the server never saw it. */
  readonly answeredByMallory?: true;
}

/** One WebSocket frame as it crossed the proxy (before any rewrite; injected frames are recorded as such). */
export interface RecordedFrame {
  readonly kind: 'ws';
  readonly n: number;
  readonly connection: number;
  readonly direction: 'to-server' | 'to-client';
  readonly data: Uint8Array;
  readonly injected: boolean;
}

export type Recorded = RecordedHttp | RecordedFrame;

/** A response as mallory may rewrite it. */
export interface ProxyResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** A client request as the proxy received it (before it is forwarded). */
export interface ProxyRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface ProxyHooks {
  /** Answers a client request in the server's place, without forwarding it (undefined: forwarded as usual). */
  readonly request?: (req: ProxyRequest) => ProxyResponse | undefined | Promise<ProxyResponse | undefined>;
  /** Rewrites the server's HTTP response before the client sees it (undefined: unchanged). */
  readonly response?: (req: { readonly method: string; readonly path: string }, res: ProxyResponse) => ProxyResponse | undefined;
  /** Rewrites a server → client WebSocket text frame (undefined: unchanged; null: dropped). */
  readonly toClientFrame?: (connection: number, text: string) => string | null | undefined;
  /** Whether a WebSocket upgrade to `path` is let through (false: refused with 404, as a server may). */
  readonly upgrade?: (path: string) => boolean;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those node:http recomputes. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length', 'host']);

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function forwardable(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

async function readBody(stream: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > MAX_PROXY_BODY_BYTES) throw new AttacksError('ERR_ATTACKS_NETWORK', 'proxied body exceeds MAX_PROXY_BODY_BYTES');
    chunks.push(b);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function rawToBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data);
}

/** Close codes a WebSocket endpoint may send (RFC 6455 §7.4): 1005/1006/1015 are reserved for reporting. */
function sendableCode(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
}

export class RecordingProxy {
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #upstream: URL;
  readonly #records: Recorded[] = [];
  readonly #clients = new Map<number, WebSocket>();
  /** The path each client WebSocket was opened on. */
  readonly #paths = new Map<number, string>();
  readonly #sockets = new Set<Duplex>();
  #bytes = 0;
  #connections = 0;
  #hooks: ProxyHooks = {};
  #failure: unknown;

  private constructor(server: Server, upstream: URL) {
    this.#server = server;
    this.#upstream = upstream;
    this.#wss = new WebSocketServer({ noServer: true });
    server.on('request', (req, res) => {
      this.#onRequest(req, res).catch((e: unknown) => {
        this.#failure ??= e;
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
    });
    server.on('upgrade', (req, socket, head) => {
      this.#onUpgrade(req, socket, head);
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts the proxy on an ephemeral loopback port in front of `upstream` (e.g. "http://127.0.0.1:4567"). */
  static async start(upstream: string): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server, new URL(upstream));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The URL clients are given instead of the server's. */
  get url(): string {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'proxy is not listening on TCP');
    return `http://127.0.0.1:${a.port}`;
  }

  /** Everything recorded so far, in order. */
  get records(): readonly Recorded[] {
    return this.#records;
  }

  setHooks(hooks: ProxyHooks): void {
    this.#hooks = hooks;
  }

  /** Closes every client WebSocket opened on `path` (the client sees its connection drop). */
  closeConnections(path: string): void {
    for (const [connection, ws] of this.#clients) if (this.#paths.get(connection) === path) ws.close(1001, 'going away');
  }

  /** Sends a text frame to every open client WebSocket, as if the server had pushed it; returns how many got it. */
  injectToClients(text: string): number {
    let sent = 0;
    for (const [connection, ws] of this.#clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.send(text);
      this.#record({ kind: 'ws', n: 0, connection, direction: 'to-client', data: new TextEncoder().encode(text), injected: true });
      sent++;
    }
    return sent;
  }

  /** Sends a text frame to one client WebSocket (by its connection number), as if the server had pushed it. */
  injectToConnection(connection: number, text: string): boolean {
    const ws = this.#clients.get(connection);
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    this.#record({ kind: 'ws', n: 0, connection, direction: 'to-client', data: new TextEncoder().encode(text), injected: true });
    return true;
  }

  /** Number of client WebSockets currently open through the proxy. */
  get openClients(): number {
    return [...this.#clients.values()].filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  /** Throws the first internal failure, if any, so a broken proxy fails the scenario instead of skewing it. */
  checkHealthy(): void {
    if (this.#failure !== undefined) throw new AttacksError('ERR_ATTACKS_NETWORK', 'the recording proxy failed', { cause: this.#failure });
  }

  async close(): Promise<void> {
    for (const ws of this.#clients.values()) ws.terminate();
    this.#wss.close();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => { resolve(); }));
  }

  #record(r: Recorded): void {
    const size = r.kind === 'http' ? r.requestBody.length + r.responseBody.length : r.data.length;
    this.#bytes += size;
    if (this.#bytes > MAX_CAPTURE_BYTES) throw new AttacksError('ERR_ATTACKS_NETWORK', 'recording exceeds MAX_CAPTURE_BYTES');
    this.#records.push({ ...r, n: this.#records.length });
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const requestHeaders = flatHeaders(req.headers);
    const requestBody = await readBody(req);
    const answered = await this.#hooks.request?.({ method, path, headers: requestHeaders, body: requestBody });
    if (answered !== undefined) {
      this.#record({ kind: 'http', n: 0, method, path, requestHeaders, requestBody, status: answered.status, responseHeaders: answered.headers, responseBody: answered.body, answeredByMallory: true });
      res.writeHead(answered.status, { ...forwardable(answered.headers), 'content-length': String(answered.body.length) });
      res.end(answered.body);
      return;
    }
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpRequest(
        { host: this.#upstream.hostname, port: this.#upstream.port, method, path, headers: { ...forwardable(requestHeaders), 'content-length': String(requestBody.length) } },
        resolve,
      );
      out.on('error', reject);
      out.end(requestBody);
    });
    const original: ProxyResponse = { status: upstream.statusCode ?? 502, headers: flatHeaders(upstream.headers), body: await readBody(upstream) };
    this.#record({ kind: 'http', n: 0, method, path, requestHeaders, requestBody, status: original.status, responseHeaders: original.headers, responseBody: original.body });
    const sent = this.#hooks.response?.({ method, path }, original) ?? original;
    res.writeHead(sent.status, { ...forwardable(sent.headers), 'content-length': String(sent.body.length) });
    res.end(sent.body);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#hooks.upgrade?.(new URL(req.url ?? '/', this.#upstream).pathname) === false) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const connection = ++this.#connections;
    const target = new URL(req.url ?? '/', this.#upstream);
    this.#paths.set(connection, target.pathname);
    target.protocol = 'ws:';
    this.#wss.handleUpgrade(req, socket, head, (client) => {
      this.#clients.set(connection, client);
      const upstream = new WebSocket(target);
      const pending: { data: RawData; isBinary: boolean }[] = [];
      upstream.on('open', () => {
        for (const p of pending.splice(0)) upstream.send(p.data, { binary: p.isBinary });
      });
      client.on('message', (data, isBinary) => {
        this.#record({ kind: 'ws', n: 0, connection, direction: 'to-server', data: rawToBytes(data), injected: false });
        if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
        else pending.push({ data, isBinary });
      });
      upstream.on('message', (data, isBinary) => {
        const bytes = rawToBytes(data);
        this.#record({ kind: 'ws', n: 0, connection, direction: 'to-client', data: bytes, injected: false });
        if (client.readyState !== WebSocket.OPEN) return;
        const hook = this.#hooks.toClientFrame;
        if (hook === undefined || isBinary) {
          client.send(data, { binary: isBinary });
          return;
        }
        const rewritten = hook(connection, new TextDecoder().decode(bytes));
        if (rewritten === null) return;
        client.send(rewritten ?? data, { binary: false });
      });
      upstream.on('close', (code, reason) => {
        if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close(sendableCode(code), reason);
        this.#clients.delete(connection);
      });
      client.on('close', (code, reason) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.close(sendableCode(code), reason);
        else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
        this.#clients.delete(connection);
      });
      upstream.on('error', () => {
        client.terminate();
      });
      client.on('error', () => {
        upstream.terminate();
      });
    });
  }
}
