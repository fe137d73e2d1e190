// The sealed-send channel (docs/protocol/09 §9.7.1): an anonymous WebSocket to /v1/ws/sealed that
// carries sealed sends as framed requests. It holds no credential — never the device's token, which
// lives on the separate receiving socket (websocket.ts) — so a send over it says no more about its
// sender than PUT /v1/messages with an access key. Each send gets a request id and resolves with the
// server's `sent` answer, which the server writes only once the message is on disk; an `error`
// answer becomes the ClientError the HTTP route's refusal would have become. When the socket cannot
// be opened, drops, or an answer does not come in time, every send in flight fails with ERR_NETWORK:
// the caller sends again (over HTTP, with the same id, which the server de-duplicates).
import {
  API_ERROR_STATUS,
  SEALED_WEBSOCKET_PATH,
  decodeSealedServerFrame,
  encodeSealedSendFrame,
  type SendMessageRequest,
  type SendMessageResponse,
} from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import { HTTP_TIMEOUT_MS, WS_READY_TIMEOUT_MS } from '../limits.ts';
import type { WebSocketFactory, WebSocketLike } from './websocket.ts';

const OPEN = 1;
/** RFC 6455 §7.4.1: normal closure; 1008: policy violation (an answer that does not decode). */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY = 1008;

/** ws(s)://host/v1/ws/sealed for an http(s) base URL. */
export function sealedWebSocketUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}${SEALED_WEBSOCKET_PATH}`;
}

interface Pending {
  readonly resolve: (r: SendMessageResponse) => void;
  readonly reject: (e: ClientError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class SealedSendSocket {
  readonly #ws: WebSocketLike;
  readonly #pending = new Map<number, Pending>();
  #rid = 0;
  #ended = false;

  private constructor(ws: WebSocketLike) {
    this.#ws = ws;
  }

  /** Opens the socket; rejects with ERR_NETWORK when it does not open within WS_READY_TIMEOUT_MS. */
  static open(factory: WebSocketFactory, url: string): Promise<SealedSendSocket> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = factory(url);
      } catch (e) {
        reject(new ClientError('ERR_NETWORK', 'could not open the sealed-send WebSocket', { cause: e }));
        return;
      }
      const socket = new SealedSendSocket(ws);
      const timer = setTimeout(() => {
        socket.#end(new ClientError('ERR_NETWORK', `the sealed-send WebSocket did not open within ${WS_READY_TIMEOUT_MS} ms`));
        reject(new ClientError('ERR_NETWORK', `the sealed-send WebSocket did not open within ${WS_READY_TIMEOUT_MS} ms`));
      }, WS_READY_TIMEOUT_MS);
      ws.onerror = () => {
        // Always followed by onclose.
      };
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(socket);
      };
      ws.onclose = (ev) => {
        clearTimeout(timer);
        const error = new ClientError('ERR_NETWORK', `the sealed-send WebSocket closed (code ${ev.code})`);
        socket.#end(error);
        reject(error); // ignored once resolved
      };
      ws.onmessage = (ev) => {
        socket.#onFrame(ev.data);
      };
    });
  }

  /** False once the socket closed or failed: the caller opens a new one (or uses HTTP). */
  get usable(): boolean {
    return !this.#ended && this.#ws.readyState === OPEN;
  }

  /** §9.7.1 one sealed send; resolves once the server has stored it. ERR_NOT_FOUND for an unknown
   *  device (as over HTTP), ERR_SERVER with the status and code for any other refusal, ERR_NETWORK
   *  when no answer came. */
  send(username: string, deviceId: number, req: SendMessageRequest, accessKey: Uint8Array): Promise<SendMessageResponse> {
    if (!this.usable) return Promise.reject(new ClientError('ERR_NETWORK', 'the sealed-send WebSocket is closed'));
    this.#rid = this.#rid >= 0xffffffff ? 1 : this.#rid + 1;
    const rid = this.#rid;
    // Throws ERR_ARGUMENT (a ProtocolError) for what the server would refuse, before anything is sent.
    const text = encodeSealedSendFrame({ type: 'send', rid, username, deviceId, accessKey, id: req.id, envelope: req.envelope });
    return new Promise<SendMessageResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new ClientError('ERR_NETWORK', `sealed send: no answer within ${HTTP_TIMEOUT_MS} ms`));
      }, HTTP_TIMEOUT_MS);
      this.#pending.set(rid, { resolve, reject, timer });
      try {
        this.#ws.send(text);
      } catch (e) {
        this.#settle(rid)?.reject(new ClientError('ERR_NETWORK', 'sealed send: the WebSocket refused the frame', { cause: e }));
      }
    });
  }

  close(): void {
    this.#end(new ClientError('ERR_NETWORK', 'the sealed-send WebSocket was closed'), CLOSE_NORMAL);
  }

  #settle(rid: number): Pending | undefined {
    const p = this.#pending.get(rid);
    if (p === undefined) return undefined;
    this.#pending.delete(rid);
    clearTimeout(p.timer);
    return p;
  }

  #onFrame(data: unknown): void {
    if (this.#ended) return;
    let frame;
    try {
      if (typeof data !== 'string') throw new Error('a binary frame');
      frame = decodeSealedServerFrame(data);
    } catch (e) {
      this.#end(new ClientError('ERR_BAD_RESPONSE', 'a sealed-send answer does not decode', { cause: e }), CLOSE_POLICY);
      return;
    }
    if (frame.type === 'error' && frame.rid === 0) {
      // The server could not tell which send a frame was (it closes next): every send in flight is void.
      this.#end(new ClientError('ERR_BAD_RESPONSE', `the server refused a sealed-send frame: ${frame.error.code}`), CLOSE_POLICY);
      return;
    }
    const p = this.#settle(frame.rid);
    if (p === undefined) return; // timed out meanwhile
    if (frame.type === 'sent') {
      p.resolve({ seq: frame.seq, duplicate: frame.duplicate });
      return;
    }
    const status = API_ERROR_STATUS[frame.error.code];
    const server = { status, serverCode: frame.error.code, ...(frame.error.code === 'ERR_API_RATE_LIMITED' ? { retryAfterMs: frame.retryAfter * 1000 } : {}) };
    const code = frame.error.code === 'ERR_API_NOT_FOUND' ? 'ERR_NOT_FOUND' : 'ERR_SERVER';
    p.reject(new ClientError(code, `${frame.error.code} (${status}): ${frame.error.message.slice(0, 200)}`, { server }));
  }

  #end(error: ClientError, code?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const rid of [...this.#pending.keys()]) this.#settle(rid)?.reject(error);
    this.#ws.onopen = null;
    this.#ws.onmessage = null;
    this.#ws.onclose = null;
    this.#ws.onerror = () => undefined; // Node's `ws` throws an 'error' event nobody listens to
    if (code !== undefined && (this.#ws.readyState === OPEN || this.#ws.readyState === 0)) {
      try {
        this.#ws.close(code);
      } catch {
        // already closing
      }
    }
  }
}
