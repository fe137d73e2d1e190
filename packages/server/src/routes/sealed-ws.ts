// docs/protocol/09 §9.7.1: the sealed-send WebSocket (GET /v1/ws/sealed). An anonymous connection:
// no auth frame and no token, so it says nothing about its sender — which is why the device's
// authenticated /v1/ws (routes/ws.ts) refuses send frames and this one refuses everything but send
// frames. Each send frame is PUT /v1/messages/{username}/{deviceId} with a Sotto-Access-Key, as a
// frame: the same per-address rate limit (every frame is a request), the same access-key check
// (internal/context.ts authorizeAccessKey), the same strict codec (@sotto/protocol sealed-frames.ts),
// and the same store step (routes/messages.ts storeMessage) — so the `sent` answer, like the HTTP 200,
// is sent only once the message is on disk.
//
// A frame with a field that breaks a rule is answered with an error for its rid (400) and changes
// nothing; the connection goes on. A frame that cannot be attributed to a request (binary, not JSON,
// no valid rid, another type) is answered with an error for rid 0 and closes the connection with
// WS_CLOSE_MALFORMED. Nothing about a send is logged: the server errors (500, 503) are logged by code
// only, as for HTTP requests.
import {
  API_ERROR_STATUS,
  SEALED_WEBSOCKET_PATH,
  WS_CLOSE_MALFORMED,
  decodeSealedSendFrame,
  encodeSealedServerFrame,
  foldUsername,
  isProtocolError,
  sealedFrameRequestId,
  type ApiErrorCode,
  type SealedSendFrame,
} from '@sotto/protocol';
import { ServerError } from '../errors.ts';
import type { EnqueueResult } from '@sotto/store';
import { authorizeAccessKey, authorizeCachedAccessKey, type AppState } from '../internal/context.ts';
import { sentFrameText } from '../internal/frames.ts';
import { storeMessage } from './messages.ts';
import { CLOSE_GOING_AWAY, CLOSE_INTERNAL, closePeer, type WebSocketPeer, type WebSocketSession } from './ws.ts';

/** The metrics label of one sealed send: method SEND on the socket's path (its upgrade counts as
 *  GET /v1/ws/sealed 101). */
const SEND_METHOD = 'SEND';

/** An error as the §9.1 error body says it. */
export interface ApiError {
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly retryAfterSeconds: number | undefined;
}

/** What a sealed connection needs of the app beyond its state (app.ts). */
export interface SealedDeps {
  readonly app: AppState;
  /** Every frame is a request: 503 after close, 429 when the address's bucket is empty (throws). */
  admit(remoteAddress: string, at: number): void;
  /** Any error as the error body the HTTP route would answer, logged as app.ts logs it. */
  toApiError(e: unknown, route: string): ApiError;
}

export class SealedConnection implements WebSocketSession {
  readonly #deps: SealedDeps;
  readonly #peer: WebSocketPeer;
  readonly #remoteAddress: string;
  readonly #all: Set<SealedConnection>;
  #open = true;
  /** Sends received and not yet answered. */
  #inflight = 0;

  constructor(deps: SealedDeps, peer: WebSocketPeer, remoteAddress: string, all: Set<SealedConnection>) {
    this.#deps = deps;
    this.#peer = peer;
    this.#remoteAddress = remoteAddress;
    this.#all = all;
    all.add(this);
  }

  onMessage(data: string | Uint8Array, isBinary: boolean): void {
    if (!this.#open) return;
    let frame: SealedSendFrame;
    try {
      if (isBinary) throw new ServerError('ERR_API_BAD_REQUEST', 'sealed send frame: expected a JSON text frame, got a binary one');
      frame = decodeSealedSendFrame(data);
    } catch (e) {
      const rid = isBinary ? 0 : sealedFrameRequestId(data);
      const message = isProtocolError(e) || e instanceof ServerError ? e.message.replace(/^ERR_[A-Z_]+: /, '') : 'sealed send frame: does not decode';
      this.#error(rid, { code: 'ERR_API_BAD_REQUEST', message, retryAfterSeconds: undefined });
      if (rid === 0) this.close(WS_CLOSE_MALFORMED, 'malformed frame');
      return;
    }
    const app = this.#deps.app;
    if (this.#inflight >= app.limits.maxSealedInflight) {
      app.metrics.add('rate_limited');
      this.#error(frame.rid, { code: 'ERR_API_RATE_LIMITED', message: `expected at most ${app.limits.maxSealedInflight} sends in flight on one connection`, retryAfterSeconds: 1 });
      return;
    }
    this.#inflight++;
    this.#send(frame).then(
      (answer) => {
        this.#inflight--;
        this.#answer(answer);
      },
      (e: unknown) => {
        this.#inflight--;
        this.#error(frame.rid, this.#deps.toApiError(e, SEALED_WEBSOCKET_PATH));
      },
    );
  }

  onClose(): void {
    this.#cleanup();
  }

  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#cleanup();
    closePeer(this.#peer, code, reason);
  }

  goAway(): void {
    this.close(CLOSE_GOING_AWAY, 'server shutting down');
  }

  /** PUT /v1/messages's steps after decoding: admit, authorise, store. Resolves with the `sent` frame.
   *  One promise per send when the recipient's account is in memory (the usual case). */
  #send(frame: SealedSendFrame): Promise<string> {
    const app = this.#deps.app;
    const now = app.now();
    const username = foldUsername(frame.username); // cannot fail: the codec checked it
    const target = { username, deviceId: frame.deviceId };
    const sent = (result: EnqueueResult): string => {
      app.metrics.request(SEND_METHOD, SEALED_WEBSOCKET_PATH, 200);
      return sentFrameText(frame.rid, result.seq, result.duplicate);
    };
    try {
      this.#deps.admit(this.#remoteAddress, now);
      if (authorizeCachedAccessKey(app, username, frame.accessKey) !== undefined) return storeMessage(app, target, frame.id, frame.envelope, now).then(sent);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return authorizeAccessKey(app, username, frame.accessKey)
      .then(() => storeMessage(app, target, frame.id, frame.envelope, now))
      .then(sent);
  }

  #error(rid: number, e: ApiError): void {
    const app = this.#deps.app;
    app.metrics.request(SEND_METHOD, SEALED_WEBSOCKET_PATH, API_ERROR_STATUS[e.code]);
    this.#answer(encodeSealedServerFrame({ type: 'error', rid, error: { code: e.code, message: e.message.slice(0, 1024) }, retryAfter: e.retryAfterSeconds ?? 0 }));
  }

  #answer(text: string): void {
    if (!this.#open) return; // closed meanwhile: a stored message stays stored; the client retries by id
    try {
      this.#peer.send(text);
    } catch {
      this.close(CLOSE_INTERNAL, 'send failed');
    }
  }

  #cleanup(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#all.delete(this);
  }
}
