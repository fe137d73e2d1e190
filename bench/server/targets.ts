// The servers under test and their simulated clients. A Target is one server child — the bare relay
// or Sotto (SQLite or PostgreSQL) — and opens sets of connected clients; a ClientSet sends messages
// between its clients and reports every message a receiver gets. Both kinds of client do the same
// work per message, in the same cost class: the sender sends and waits for the server's
// acknowledgement; the receiver gets a push, parses it with JSON.parse, checks that the envelope is
// the one sent, reports it, and acknowledges it (acks of one event-loop turn go in one frame, as a
// client that processes a burst would). All of it runs in the bench's one process, for both servers.
//
// Sotto clients speak docs/protocol/09: accounts registered over HTTP with real identity keys (§9.3),
// bearer tokens from signed challenges (§9.4), one /v1/ws receiver per account (§9.8), and sealed
// sends that name no sender — by default over each client's own anonymous sealed-send WebSocket
// (§9.7.1), or (sendVia 'http') PUT /v1/messages with Sotto-Access-Key (§9.7). Envelopes are random bytes of
// a bucket size: the server cannot tell them from real sealed envelopes, and the bench measures the
// server, not the client's cryptography. The hot path does not run @sotto/protocol's strict codecs
// per message (the relay's client runs none either): a send's body or frame and an ack frame are built from
// templates that are checked, once per connection set, to be byte for byte what the codecs produce.
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { WebSocket, type RawData } from 'ws';
import { fastProvider } from '@sotto/crypto';
import {
  IdentityKeyPair,
  accessKeyFromProfileKey,
  buildRegistrationMessage,
  buildServerAuthMessage,
  decodeChallengeResponse,
  decodeRegistrationResponse,
  decodeSendMessageResponse,
  decodeServerFrame,
  decodeTokenResponse,
  encodeAccessKeyHeader,
  encodeClientFrame,
  encodeRegistrationRequest,
  encodeSealedSendFrame,
  encodeSendMessageRequest,
  encodeServerFrame,
  encodeTokenRequest,
  SEALED_WEBSOCKET_PATH,
  type Rng,
} from '@sotto/protocol';
import { expectStatus, HttpClient, type PreparedRequest } from './http.ts';
import { cpuSeconds, processTree, rssBytes, startServerChild, type ServerChild } from './processes.ts';

const rng: Rng = (n) => randomFillSync(new Uint8Array(n));

/** Every envelope is this long: the smallest sealed bucket (docs/protocol/06 §6.7), a short text. */
export const ENVELOPE_BYTES = 512;
/** Sockets of the load generator's HTTP keep-alive pool per Sotto server. */
const HTTP_SOCKETS = 128;
/** Registrations and connection handshakes in flight at once. */
export const SETUP_CONCURRENCY = 64;

/** Where a ClientSet reports deliveries and broken connections. */
export interface Sink {
  /** A receiver got the message whose id is `key` (base64url). */
  deliver(key: string): void;
  /** A connection failed or was closed by the server: the run is void. */
  fail(error: Error): void;
}

export interface ClientSet {
  readonly size: number;
  /** Sends message `id` from client `from` to client `to`; resolves on the server's acknowledgement
   *  (Sotto's is sent once the message is on disk, §9.7; the relay's once it has forwarded it). */
  send(from: number, to: number, id: Uint8Array, key: string): Promise<void>;
  close(): Promise<void>;
}

export interface Target {
  /** Short name for tables, e.g. "sotto/sqlite". */
  readonly name: string;
  readonly child: ServerChild;
  /** CPU seconds used so far by the server: its process, plus the database's processes if any. */
  serverCpu(): number;
  /** The part of serverCpu() that the database's processes used (0 when the store is in the server's
   *  own process, as SQLite is). */
  databaseCpu(): number;
  /** Resident memory of the server process (bytes). */
  rss(): number;
  /** Makes sure `count` clients can connect (Sotto: registers the accounts and gets their tokens). */
  prepare(count: number, progress?: (done: number) => void): Promise<void>;
  /** Opens and authenticates the first `count` clients' connections. `idle`: receiving connections
   *  only (the memory phase measures idle authenticated connections; Sotto's sealed-send sockets are
   *  opened only for clients that send). */
  connect(count: number, sink: Sink, idle?: boolean): Promise<ClientSet>;
  stop(): Promise<void>;
}

/** Runs `f` over 0..count-1 with at most `limit` calls in flight. */
export async function mapLimit<T>(count: number, limit: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await f(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

/**
 * Opens a WebSocket, sends `hello`, and resolves once the first frame passes `isReady`; every later
 * frame goes to `onFrame` (attached before `hello` is sent, so that no frame pushed right after the
 * ready one is missed).
 */
function openSocket(url: string, hello: string, isReady: (frame: RawData) => boolean, onFrame: (ws: WebSocket, frame: RawData) => void): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let ready = false;
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(hello);
    });
    ws.on('message', (data: RawData) => {
      if (ready) {
        onFrame(ws, data);
        return;
      }
      ws.off('error', reject);
      ws.on('error', () => undefined); // the close that follows is what the caller watches
      if (!isReady(data)) {
        reject(new Error(`expected a ready frame, got ${frameText(data).slice(0, 200)}`));
        return;
      }
      ready = true;
      resolve(ws);
    });
    ws.once('close', (code) => {
      reject(new Error(`closed (${code}) before it was ready`));
    });
  });
}

/** Collects the ids a receiver got in this event-loop turn and acknowledges them in one frame. */
function acker(send: (ids: readonly string[]) => void): (key: string) => void {
  let pending: string[] = [];
  return (key) => {
    if (pending.length === 0) {
      setImmediate(() => {
        const ids = pending;
        pending = [];
        send(ids);
      });
    }
    pending.push(key);
  };
}

function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  return Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          ws.once('close', () => {
            resolve();
          });
          ws.close(1000);
        }),
    ),
  ).then(() => undefined);
}

/** A frame's bytes (`ws` hands out a Buffer unless told otherwise; the other forms for completeness). */
function frameBytes(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}
const frameText = (data: RawData): string => frameBytes(data).toString('utf8');

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

// --- the bare relay ---

export async function startRelay(): Promise<Target> {
  const child = await startServerChild('bare relay', 'bench/server/bare-relay.ts', [], /^listening (\d+)$/m);
  const url = `ws://127.0.0.1:${child.ready}`;
  return {
    name: 'bare relay',
    child,
    serverCpu: () => cpuSeconds(child.pid),
    databaseCpu: () => 0,
    rss: () => rssBytes(child.pid),
    prepare: () => Promise.resolve(),
    async connect(count, sink) {
      const envelope = b64(rng(ENVELOPE_BYTES));
      const pending = Array.from({ length: count }, () => new Map<string, () => void>());
      const sockets = await mapLimit(count, SETUP_CONCURRENCY, async (i) => {
        const mine = pending[i] ?? new Map<string, () => void>();
        let ack: ((key: string) => void) | undefined;
        const ws = await openSocket(
          url,
          JSON.stringify({ type: 'hello', name: `c${i}` }),
          (f) => (JSON.parse(frameText(f)) as { type?: unknown }).type === 'ready',
          (socket, data) => {
            const frame = JSON.parse(frameText(data)) as { type: string; id: string; envelope?: unknown };
            if (frame.type === 'message') {
              if (frame.envelope !== envelope) {
                sink.fail(new Error(`bare relay: client ${i} got a push whose envelope is not the one sent`));
                return;
              }
              sink.deliver(frame.id);
              ack ??= acker((ids) => {
                socket.send(JSON.stringify({ type: 'ack', ids }));
              });
              ack(frame.id);
            } else if (frame.type === 'ok') {
              const done = mine.get(frame.id);
              mine.delete(frame.id);
              done?.();
            }
          },
        );
        ws.on('close', (code) => {
          if (code !== 1000 && code !== 1005) sink.fail(new Error(`bare relay closed client ${i} (${code})`));
        });
        return ws;
      });
      return {
        size: count,
        send(from, to, _id, key) {
          return new Promise<void>((resolve) => {
            pending[from]?.set(key, resolve);
            sockets[from]?.send(`{"type":"send","to":"c${to}","id":"${key}","envelope":"${envelope}"}`);
          });
        },
        close: () => closeAll(sockets),
      };
    },
    stop: () => child.stop(),
  };
}

// --- Sotto ---

interface Account {
  readonly username: string;
  readonly accessKeyHeader: string;
  readonly accessKey: Uint8Array;
  readonly token: Uint8Array;
  /** PUT /v1/messages/{username}/1 with its Sotto-Access-Key: serialised once. */
  readonly sendTo: PreparedRequest;
}

async function registerAccount(http: HttpClient, username: string): Promise<Account> {
  const crypto = fastProvider;
  const identity = await IdentityKeyPair.generate(crypto, rng);
  const accessKey = accessKeyFromProfileKey(crypto, rng(32));
  const signature = await identity.sign(crypto, buildRegistrationMessage(username, 1, accessKey));
  const json = { 'content-type': 'application/json' };
  const reg = await http.call('POST', '/v1/accounts', json, encodeRegistrationRequest({ username, identityKey: identity.publicKey, deviceId: 1, accessKey, signature }));
  decodeRegistrationResponse(expectStatus(reg, 201, 'register'));
  const { challenge } = decodeChallengeResponse(expectStatus(await http.call('POST', '/v1/auth/challenge', {}), 200, 'challenge'));
  const proof = await identity.sign(crypto, buildServerAuthMessage(challenge, username, 1));
  const tok = await http.call('POST', '/v1/auth/token', json, encodeTokenRequest({ username, deviceId: 1, challenge, signature: proof }));
  const { token } = decodeTokenResponse(expectStatus(tok, 200, 'token'));
  const accessKeyHeader = encodeAccessKeyHeader(accessKey);
  const sendTo = http.prepare('PUT', `/v1/messages/${username}/1`, { 'content-type': 'application/json', 'sotto-access-key': accessKeyHeader });
  return { username, accessKeyHeader, accessKey, token, sendTo };
}

/** A client's sealed-send WebSocket: `send` writes one frame (built for the rid it is given) and
 *  resolves on its `sent` answer. The answer is read with JSON.parse and checked for its type, rid
 *  and duplicate flag (the relay's `ok` answer gets the same JSON.parse and a map lookup). */
interface SealedSender {
  readonly ws: WebSocket;
  send(frame: (rid: number) => string): Promise<void>;
}

async function openSealedSender(url: string, name: string, i: number, sink: Sink): Promise<SealedSender> {
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined); // the close that follows is what counts
      resolve(socket);
    });
    socket.once('error', reject);
  });
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let rid = 0;
  ws.on('message', (data: RawData) => {
    const frame = JSON.parse(frameText(data)) as { type?: unknown; rid?: unknown; duplicate?: unknown; error?: { code?: unknown; message?: unknown } };
    const waiter = typeof frame.rid === 'number' ? pending.get(frame.rid) : undefined;
    if (waiter === undefined) {
      sink.fail(new Error(`${name}: client ${i}'s sealed socket got an answer to no request: ${frameText(data).slice(0, 200)}`));
      return;
    }
    pending.delete(frame.rid as number);
    if (frame.type === 'sent' && frame.duplicate === false) waiter.resolve();
    else waiter.reject(new Error(`${name}: sealed send refused or a duplicate: ${frameText(data).slice(0, 300)}`));
  });
  ws.on('close', (code) => {
    for (const w of pending.values()) w.reject(new Error(`${name}: client ${i}'s sealed socket closed (${code}) with sends in flight`));
    pending.clear();
    if (code !== 1000 && code !== 1005) sink.fail(new Error(`${name} closed client ${i}'s sealed WebSocket (${code})`));
  });
  return {
    ws,
    send(frame) {
      rid = rid >= 0xffffffff ? 1 : rid + 1;
      const mine = rid;
      return new Promise<void>((resolve, reject) => {
        pending.set(mine, { resolve, reject });
        ws.send(frame(mine));
      });
    },
  };
}

export interface SottoOptions {
  /** Directory for the SQLite file (a new temporary directory on the real disk), or… */
  readonly dataDir?: string;
  /** …a PostgreSQL URL, plus the postmaster's pid so that the database's CPU is counted too. */
  readonly database?: { readonly url: string; readonly pid: number };
  /** Extra node flags for the server child, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  /** How senders send: 'ws' (default) — each client's own anonymous sealed-send WebSocket
   *  (docs/protocol/09 §9.7.1), as the SDK does while connected; 'http' — PUT /v1/messages with
   *  Sotto-Access-Key on the keep-alive pool (§9.7), as a client that is not connected does. */
  readonly sendVia?: 'ws' | 'http';
}

export async function startSotto(name: string, options: SottoOptions): Promise<Target> {
  const args = options.database !== undefined ? ['--database', options.database.url] : ['--data', options.dataDir ?? join('/nonexistent', 'data')];
  const child = await startServerChild(name, 'bench/server/sotto-server.ts', args, /^sotto: listening on (http:\/\/\S+)$/m, options.nodeFlags);
  const baseUrl = child.ready;
  const wsUrl = `${baseUrl.replace(/^http:/, 'ws:')}/v1/ws`;
  const sealedUrl = `${baseUrl.replace(/^http:/, 'ws:')}${SEALED_WEBSOCKET_PATH}`;
  const sendVia = options.sendVia ?? 'ws';
  const http = new HttpClient(baseUrl, HTTP_SOCKETS);
  const accounts: Account[] = [];
  const dbPid = options.database?.pid;
  const prefix = `bench${b64(rng(3)).replace(/[^a-z0-9]/gi, 'x').toLowerCase()}_`;
  // The envelope every client sends, and the hot path's templates (see the header).
  const envelope = rng(ENVELOPE_BYTES);
  const envelopeText = b64(envelope);
  const sendBody = (key: string): string => `{"id":"${key}","envelope":"${envelopeText}"}`;
  const sendFrame = (rid: number, to: Account, key: string): string =>
    `{"type":"send","rid":${rid},"username":"${to.username}","deviceId":1,"accessKey":"${to.accessKeyHeader}","id":"${key}","envelope":"${envelopeText}"}`;
  const ackFrame = (keys: readonly string[]): string => `{"type":"ack","ids":["${keys.join('","')}"]}`;
  const checkTemplates = (): void => {
    const ids = [rng(16), rng(16)];
    const keys = ids.map(b64);
    if (sendBody(keys[0] ?? '') !== encodeSendMessageRequest({ id: ids[0] ?? new Uint8Array(16), envelope })) throw new Error('send body template ≠ encodeSendMessageRequest');
    if (ackFrame(keys) !== encodeClientFrame({ type: 'ack', ids })) throw new Error('ack frame template ≠ encodeClientFrame');
    const to = accounts[0];
    if (to !== undefined && sendFrame(7, to, keys[0] ?? '') !== encodeSealedSendFrame({ type: 'send', rid: 7, username: to.username, deviceId: 1, accessKey: to.accessKey, id: ids[0] ?? new Uint8Array(16), envelope })) {
      throw new Error('sealed send frame template ≠ encodeSealedSendFrame');
    }
    const push = JSON.parse(encodeServerFrame({ type: 'message', seq: 1, id: ids[0] ?? new Uint8Array(16), envelope, receivedAt: 0 })) as { id?: unknown; envelope?: unknown };
    if (push.id !== keys[0] || push.envelope !== envelopeText) throw new Error('push frame: id and envelope are not the base64url the receiver compares');
  };
  const databaseCpu = (): number => (dbPid === undefined ? 0 : processTree(dbPid).reduce((sum, p) => sum + cpuSeconds(p), 0));
  return {
    name,
    child,
    serverCpu: () => cpuSeconds(child.pid) + databaseCpu(),
    databaseCpu,
    rss: () => rssBytes(child.pid),
    async prepare(count, progress) {
      const start = accounts.length;
      if (count <= start) return;
      let done = 0;
      const created = await mapLimit(count - start, SETUP_CONCURRENCY, async (i) => {
        const a = await registerAccount(http, `${prefix}${start + i}`);
        if (++done % 1000 === 0) progress?.(start + done);
        return a;
      });
      accounts.push(...created);
    },
    async connect(count, sink, idle = false) {
      if (count > accounts.length) throw new Error(`${name}: ${count} clients wanted, ${accounts.length} accounts prepared`);
      checkTemplates();
      const sockets = await mapLimit(count, SETUP_CONCURRENCY, async (i) => {
        const account = accounts[i];
        if (account === undefined) throw new Error('unreachable: account index checked above');
        let ack: ((key: string) => void) | undefined;
        const ws = await openSocket(
          wsUrl,
          encodeClientFrame({ type: 'auth', token: account.token }),
          (f) => decodeServerFrame(frameBytes(f)).type === 'ready',
          (socket, data) => {
            // docs/protocol/09 §9.8 push {type, seq, id, envelope, receivedAt}; other frames
            // (prekeysLow) are not for the bench.
            const frame = JSON.parse(frameText(data)) as { type?: unknown; id?: unknown; envelope?: unknown };
            if (frame.type !== 'message') return;
            if (typeof frame.id !== 'string' || frame.envelope !== envelopeText) {
              sink.fail(new Error(`${name}: client ${i} got a push whose id or envelope is not one sent`));
              return;
            }
            sink.deliver(frame.id);
            ack ??= acker((keys) => {
              socket.send(ackFrame(keys));
            });
            ack(frame.id);
          },
        );
        ws.on('close', (code) => {
          if (code !== 1000 && code !== 1005) sink.fail(new Error(`${name} closed client ${i}'s WebSocket (${code})`));
        });
        return ws;
      });
      // Senders: one anonymous sealed-send WebSocket per client (§9.7.1), requests matched by rid.
      const senders = sendVia === 'http' || idle ? [] : await mapLimit(count, SETUP_CONCURRENCY, (i) => openSealedSender(sealedUrl, name, i, sink));
      return {
        size: count,
        async send(from, to, _id, key) {
          const account = accounts[to];
          if (account === undefined) throw new Error(`no client ${to}`);
          if (sendVia === 'ws') {
            const sender = senders[from];
            if (sender === undefined) throw new Error(`no client ${from}`);
            await sender.send((rid) => sendFrame(rid, account, key));
            return;
          }
          const answer = await http.send(account.sendTo, sendBody(key));
          // A duplicate is expected only when a retry repeated a send the server had already stored.
          if (decodeSendMessageResponse(expectStatus(answer, 200, 'send')).duplicate && !answer.retried) throw new Error('a fresh message id was reported as a duplicate');
        },
        close: () => closeAll([...sockets, ...senders.map((x) => x.ws)]),
      };
    },
    async stop() {
      http.close();
      await child.stop();
    },
  };
}
