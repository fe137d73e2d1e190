// The live receiving channel (docs/protocol/09 §9.8): one WebSocket per device. The client's first
// frame is `auth` with its bearer token; the server answers `ready`, then pushes the queue's backlog
// and every new message as `message` frames, and `prekeysLow` when the device should upload prekeys.
// The client acknowledges with `ack` frames once it has durably processed messages. Frames go through
// @sotto/protocol's strict codecs; a frame that does not decode ends the connection (it is never
// guessed at). Reconnecting with back-off is the caller's (src/messaging/receiver.ts).
import {
  WS_CLOSE_REPLACED,
  WS_CLOSE_UNAUTHORIZED,
  decodeServerFrame,
  encodeClientFrame,
  type MessageFrame,
  type PrekeysLowFrame,
} from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import { WS_READY_TIMEOUT_MS } from '../limits.ts';

/** The minimal WebSocket the client needs: the browser's WebSocket and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { readonly data: unknown }) => void) | null;
  onclose: ((ev: { readonly code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** A WebSocket constructor (browser's global WebSocket, or the `ws` package's in Node). */
export type WebSocketFactory = (url: string) => WebSocketLike;

const OPEN = 1;
/** RFC 6455 §7.4.1: normal closure; 1008: policy violation (a frame that does not decode). */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY = 1008;

/** ws(s)://host/v1/ws for an http(s) base URL. */
export function webSocketUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/v1/ws`;
}

export interface MessageSocketHandlers {
  onMessage(frame: MessageFrame): void;
  onPrekeysLow(frame: PrekeysLowFrame): void;
  /** The connection ended after `ready`: `error` says why unless the client closed it itself. */
  onClose(error: ClientError | undefined): void;
}

export interface MessageSocket {
  /** §9.8 step 3: acknowledges durably processed messages (ignored once closed). */
  ack(ids: readonly Uint8Array[]): void;
  close(): void;
}

function closeError(code: number): ClientError {
  if (code === WS_CLOSE_UNAUTHORIZED) return new ClientError('ERR_SERVER', `the server refused the WebSocket token (close ${code})`, { server: { status: 401, serverCode: 'ERR_API_UNAUTHORIZED' } });
  if (code === WS_CLOSE_REPLACED) return new ClientError('ERR_SERVER', `another connection of this device replaced this one (close ${code})`, { server: { status: 409, serverCode: 'ERR_API_CONFLICT' } });
  return new ClientError('ERR_NETWORK', `the WebSocket closed (code ${code})`);
}

/**
 * Opens the socket, authenticates, and resolves once the server said `ready`. Rejects with
 * ERR_NETWORK when it cannot connect or no `ready` comes within WS_READY_TIMEOUT_MS, ERR_SERVER when
 * the server refuses the token (close 4401), ERR_BAD_RESPONSE when a frame does not decode.
 */
export function connectMessageSocket(factory: WebSocketFactory, url: string, token: Uint8Array, handlers: MessageSocketHandlers): Promise<MessageSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = factory(url);
    } catch (e) {
      reject(new ClientError('ERR_NETWORK', 'could not open the WebSocket', { cause: e }));
      return;
    }
    let ready = false;
    let closedByUs = false;
    let ended = false;
    const socket: MessageSocket = {
      ack(ids) {
        if (ended || ws.readyState !== OPEN || ids.length === 0) return;
        ws.send(encodeClientFrame({ type: 'ack', ids }));
      },
      close() {
        if (ended) return;
        closedByUs = true;
        ws.close(CLOSE_NORMAL);
      },
    };
    const end = (error: ClientError | undefined): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      // Keep an error listener: Node's `ws` throws an 'error' event nobody listens to.
      ws.onerror = () => undefined;
      if (ws.readyState === OPEN || ws.readyState === 0) {
        try {
          ws.close(error === undefined ? CLOSE_NORMAL : CLOSE_POLICY);
        } catch {
          // already closing
        }
      }
      if (!ready) reject(error ?? new ClientError('ERR_NETWORK', 'the WebSocket closed before the server was ready'));
      else handlers.onClose(closedByUs ? undefined : error);
    };
    const timer = setTimeout(() => {
      end(new ClientError('ERR_NETWORK', `expected the server's ready frame within ${WS_READY_TIMEOUT_MS} ms, got none`));
    }, WS_READY_TIMEOUT_MS);
    ws.onopen = () => {
      ws.send(encodeClientFrame({ type: 'auth', token })); // §9.8 step 1
    };
    ws.onerror = () => {
      // Always followed by onclose, which carries the code; nothing to do here.
    };
    ws.onclose = (ev) => {
      end(closedByUs ? undefined : closeError(ev.code));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        end(new ClientError('ERR_BAD_RESPONSE', 'expected a JSON text frame, got a binary one'));
        return;
      }
      let frame;
      try {
        frame = decodeServerFrame(ev.data);
      } catch (e) {
        end(new ClientError('ERR_BAD_RESPONSE', 'a server frame does not decode', { cause: e }));
        return;
      }
      if (frame.type === 'ready') {
        if (ready) {
          end(new ClientError('ERR_BAD_RESPONSE', 'expected one ready frame, got a second'));
          return;
        }
        ready = true;
        clearTimeout(timer);
        resolve(socket);
        return;
      }
      if (!ready) {
        end(new ClientError('ERR_BAD_RESPONSE', `expected the ready frame first, got ${frame.type}`));
        return;
      }
      if (frame.type === 'message') handlers.onMessage(frame);
      else handlers.onPrekeysLow(frame);
    };
  });
}
