// Shared set-up for the client's end-to-end tests: a real server (@sotto/server's startServer on
// 127.0.0.1 with a SQLite file in a temp directory) and real SDK clients, each with its own keystore
// directory. The only things injected are `fetch` (to observe requests and to inject faults or a lying
// server) and a WebSocket factory that records sealed sends; the defaults are the platform's own.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '@sotto/server';
import { SEALED_WEBSOCKET_PATH, decodeSealedSendFrame, encodeAccessKeyHeader, encodeSendMessageRequest } from '@sotto/protocol';
import { ClientError, createAccount, openClient, type ClientErrorCode, type FetchLike, type SottoClient, type WebSocketFactory } from '@sotto/client';
import { nodeWebSocket, softwareKeystore } from '@sotto/client/node';

type After = { after: (fn: () => Promise<void>) => void };

/** TESTS ONLY: weak Argon2id so keystores open in milliseconds (the KDF is tested elsewhere). */
export const WEAK_KDF = { m: 8, t: 1, p: 1 } as const;
export const PASS = 'client e2e passphrase';

export async function tempDir(t: After, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `sotto-${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Generous rate limits: the tests make hundreds of requests from one address in seconds. */
const RATE_LIMITS = { perAddress: { capacity: 100_000, refillPerSecond: 100_000 }, perAccount: { capacity: 100_000, refillPerSecond: 100_000 } };

export interface TestServer {
  readonly dataDir: string;
  url: string;
  port: number;
  running: RunningServer | undefined;
  stop(): Promise<void>;
  /** Starts again on the same port and data directory (the tokens in memory are gone, §9.4). */
  restart(): Promise<void>;
}

export async function testServer(t: After): Promise<TestServer> {
  const dataDir = await tempDir(t, 'server');
  const first = await startServer({ host: '127.0.0.1', port: 0, dataDir, rateLimits: RATE_LIMITS });
  const port = Number(new URL(first.url).port);
  const s: TestServer = {
    dataDir,
    url: first.url,
    port,
    running: first,
    async stop() {
      const r = s.running;
      s.running = undefined;
      await r?.close();
    },
    async restart() {
      await s.stop();
      s.running = await startServer({ host: '127.0.0.1', port, dataDir, rateLimits: RATE_LIMITS });
      s.url = s.running.url;
    },
  };
  t.after(() => s.stop());
  return s;
}

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string | undefined;
  /** 'ws' for a sealed send over the sealed-send socket, recorded as its PUT equivalent. */
  readonly via?: 'ws';
}

/** A fetch that records every request and lets a test rewrite or fail it (an injected fault, or a
 *  lying server). `intercept` returns a replacement response, or undefined to pass the request on. */
export interface Wire {
  readonly fetch: FetchLike;
  /** nodeWebSocket, recording each sealed send over the sealed-send socket (docs/protocol/09
   *  §9.7.1) in `requests` as the PUT it stands for (path, Sotto-Access-Key, body; `via: 'ws'`), so
   *  that tests counting send attempts count both transports. Faults are injected on fetch only. */
  readonly webSocket: WebSocketFactory;
  readonly requests: Recorded[];
  intercept: ((r: Recorded, forward: (path?: string) => Promise<Awaited<ReturnType<FetchLike>>>) => Promise<Awaited<ReturnType<FetchLike>> | undefined>) | undefined;
}

export function wire(): Wire {
  const w: Wire = {
    requests: [],
    intercept: undefined,
    fetch: async (url, init) => {
      const u = new URL(url);
      const r: Recorded = { method: init.method, path: u.pathname + u.search, headers: init.headers, body: init.body };
      w.requests.push(r);
      const forward = (path?: string): ReturnType<FetchLike> => fetch(path === undefined ? url : u.origin + path, init);
      const replaced = w.intercept === undefined ? undefined : await w.intercept(r, forward);
      return replaced ?? forward();
    },
    webSocket: (url) => {
      const ws = nodeWebSocket(url);
      if (new URL(url).pathname !== SEALED_WEBSOCKET_PATH) return ws;
      const send = ws.send.bind(ws);
      ws.send = (data: string) => {
        const f = decodeSealedSendFrame(data);
        w.requests.push({
          method: 'PUT',
          path: `/v1/messages/${f.username}/${f.deviceId}`,
          headers: { 'content-type': 'application/json', 'sotto-access-key': encodeAccessKeyHeader(f.accessKey) },
          body: encodeSendMessageRequest({ id: f.id, envelope: f.envelope }),
          via: 'ws',
        });
        send(data);
      };
      return ws;
    },
  };
  return w;
}

export interface TestClient {
  readonly client: SottoClient;
  readonly home: string;
  readonly wire: Wire;
}

export async function newAccount(t: After, server: TestServer, username: string): Promise<TestClient> {
  const home = await tempDir(t, `home-${username}`);
  const w = wire();
  const client = await createAccount({ keystore: softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: w.webSocket, passphrase: PASS, serverUrl: server.url, username, fetch: w.fetch });
  t.after(() => client.close());
  return { client, home, wire: w };
}

export async function reopen(t: After, c: TestClient): Promise<TestClient> {
  const client = await openClient({ keystore: softwareKeystore(c.home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: c.wire.webSocket, passphrase: PASS, fetch: c.wire.fetch });
  t.after(() => client.close());
  return { client, home: c.home, wire: c.wire };
}

export async function rejectsWith(p: Promise<unknown>, code: ClientErrorCode, label: string): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClientError, `${label}: expected a ClientError, got ${String(e)}`);
    assert.equal(e.code, code, `${label}: ${e.message}`);
    return e;
  }
  return assert.fail(`${label}: expected ${code}, got success`);
}

/** A JSON response, for an intercept that plays a lying server. */
export function jsonResponse(status: number, body: string): Awaited<ReturnType<FetchLike>> {
  return new Response(body, { status, headers: { 'content-type': 'application/json' } });
}
