// docs/protocol/09 §9.8: the WebSocket. One connection per device: authenticate with the first frame
// (within wsAuthTimeoutMs, else 4401), get "ready", then every queued message in arrival order —
// the backlog first, then each new one as it is enqueued (the fan-out wakes the connection, which
// pulls from the store — or, when it is caught up, pushes the message the wake carries without a
// store read) — with at most maxInflight pushed and unacknowledged. Acks delete. Whatever
// is not acknowledged is pushed again on the next connection. A malformed frame closes with 4400 and
// changes nothing; a second connection of the same device replaces the first (4409).
import { decodeClientFrame, encodeServerFrame, WS_CLOSE_MALFORMED, WS_CLOSE_REPLACED, WS_CLOSE_UNAUTHORIZED, type ClientFrame, type ServerFrame } from '@sotto/protocol';
import type { DeviceAddress, OneTimePrekeyCounts, QueuedMessage } from '@sotto/store';
import type { AppState } from '../internal/context.ts';
import { deviceKey, type DeviceListener } from '../internal/fanout.ts';
import { messageFrameText } from '../internal/frames.ts';
import { acknowledge, readQueue } from './messages.ts';

/** What the server needs of a WebSocket: main.ts adapts the `ws` library's socket to this. */
export interface WebSocketPeer {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** What the transport calls on the server for one accepted WebSocket. */
export interface WebSocketSession {
  /** A frame arrived; `isBinary` frames are refused (4400): every frame of §9.8 is JSON text. */
  onMessage(data: string | Uint8Array, isBinary: boolean): void;
  /** The socket is gone (either side closed it, or the network failed). */
  onClose(): void;
}

/** RFC 6455 §7.4.1: 1001 going away (server shutdown), 1011 unexpected condition. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_INTERNAL = 1011;

/** Closes the peer's socket; one that is already gone is no error (both server socket kinds). */
export function closePeer(peer: WebSocketPeer, code: number, reason: string): void {
  try {
    peer.close(code, reason);
  } catch {
    // the socket is already gone
  }
}
/** Messages read from the store per pull: small pages keep pushes flowing while the window fills. */
const PULL_PAGE = 64;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export class LiveConnection implements WebSocketSession, DeviceListener {
  readonly #app: AppState;
  readonly #peer: WebSocketPeer;
  readonly #registry: Map<string, LiveConnection>;
  readonly #all: Set<LiveConnection>;
  #state: 'auth' | 'open' | 'closed' = 'auth';
  #device: DeviceAddress | undefined;
  #key = '';
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: (() => void) | undefined;
  /** hex(id) of pushed, unacknowledged messages. */
  readonly #inflight = new Set<string>();
  /** seq of the last message pushed: the next pull starts after it. */
  #cursor = 0;
  #pumping = false;
  #pumpAgain = false;
  /** True when the last store read found nothing after the cursor and every message enqueued since
   *  was pushed straight from its wake: the store holds nothing to push, so a wake that carries its
   *  message can be pushed without a read, and an ack needs no read. Anything uncertain (a wake
   *  without a message, a full window, an out-of-order seq, a read in progress) clears it, and the
   *  next pull reads the store again. */
  #caughtUp = false;

  constructor(app: AppState, peer: WebSocketPeer, registry: Map<string, LiveConnection>, all: Set<LiveConnection>) {
    this.#app = app;
    this.#peer = peer;
    this.#registry = registry;
    this.#all = all;
    all.add(this);
    this.#timer = setTimeout(() => {
      this.close(WS_CLOSE_UNAUTHORIZED, 'no authentication in time');
    }, app.limits.wsAuthTimeoutMs);
    this.#timer.unref();
  }

  onMessage(data: string | Uint8Array, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    let frame: ClientFrame;
    try {
      if (isBinary) throw new Error('binary frame');
      frame = decodeClientFrame(data);
    } catch {
      this.close(WS_CLOSE_MALFORMED, 'malformed frame');
      return;
    }
    if (this.#state === 'auth') {
      this.#authenticate(frame);
    } else if (frame.type === 'ack') {
      this.#ack(frame.ids);
    } else {
      this.close(WS_CLOSE_MALFORMED, 'already authenticated');
    }
  }

  onClose(): void {
    this.#cleanup();
  }

  /** Closes from the server side (idempotent). */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#cleanup();
    closePeer(this.#peer, code, reason);
  }

  /** Server shutdown. */
  goAway(): void {
    this.close(CLOSE_GOING_AWAY, 'server shutting down');
  }

  // --- DeviceListener (the fan-out) ---

  wake(stored?: QueuedMessage): void {
    if (stored !== undefined && this.#caughtUp && !this.#pumping && this.#pushStored(stored)) return;
    this.#caughtUp = false;
    this.#pump();
  }

  prekeysLow(counts: OneTimePrekeyCounts): void {
    this.#send({ type: 'prekeysLow', x25519: counts.x25519, kem: counts.kem });
  }

  // --- internals ---

  #authenticate(frame: ClientFrame): void {
    const app = this.#app;
    const owner = frame.type === 'auth' ? app.credentials.tokenOwner(frame.token, app.now()) : undefined;
    if (owner === undefined) {
      this.close(WS_CLOSE_UNAUTHORIZED, 'expected a valid auth frame first');
      return;
    }
    clearTimeout(this.#timer);
    this.#device = { username: owner.username, deviceId: owner.deviceId };
    this.#key = deviceKey(owner.username, owner.deviceId);
    this.#state = 'open';
    this.#registry.get(this.#key)?.close(WS_CLOSE_REPLACED, 'replaced by a newer connection of this device');
    this.#registry.set(this.#key, this);
    this.#unsubscribe = app.fanout.subscribe(this.#key, this);
    app.metrics.add('websocket_connections_opened');
    app.metrics.liveConnections++;
    // The token's lifetime bounds the connection's: an expired credential does not keep receiving.
    this.#timer = setTimeout(() => {
      this.close(WS_CLOSE_UNAUTHORIZED, 'the token expired');
    }, Math.max(0, owner.expiresAt - app.now()));
    this.#timer.unref();
    this.#send({ type: 'ready' });
    this.#pump();
  }

  #ack(ids: readonly Uint8Array[]): void {
    const device = this.#device;
    if (device === undefined) return;
    for (const id of ids) this.#inflight.delete(hex(id));
    acknowledge(this.#app, device, ids).then(
      () => {
        // Caught up: nothing waits in the store, so the freed window needs no read.
        if (!this.#caughtUp) this.#pump();
      },
      (e: unknown) => {
        this.#fail('ack', e);
      },
    );
  }

  #pump(): void {
    if (this.#state !== 'open') return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#pull().then(
      () => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      },
      (e: unknown) => {
        this.#pumping = false;
        this.#fail('push', e);
      },
    );
  }

  /** Pushes queued messages after the cursor until the window is full or the queue is drained. */
  async #pull(): Promise<void> {
    const app = this.#app;
    const device = this.#device;
    if (device === undefined) return;
    this.#caughtUp = false;
    for (;;) {
      if (!this.#isOpen()) return;
      const room = app.limits.maxInflight - this.#inflight.size;
      if (room <= 0) return; // an ack reopens the window and pumps again
      const { messages, more } = await readQueue(app.store, device, this.#cursor, Math.min(room, PULL_PAGE), app.limits.maxFetchPageBytes, app.now());
      if (!this.#isOpen()) return; // closed while the store was read
      for (const m of messages) {
        this.#cursor = m.seq;
        this.#inflight.add(hex(m.id));
        this.#sendMessage(m);
      }
      app.metrics.add('messages_delivered', messages.length);
      if (!more) {
        // Messages committed after this read wake the connection, which was pumping: pumpAgain
        // makes the next pull read the store, and that pull clears #caughtUp first.
        this.#caughtUp = !this.#pumpAgain;
        return;
      }
    }
  }

  /** Pushes a just-stored message without reading the store, if that keeps seq order and the window;
   *  false if the caller must fall back to a store read. */
  #pushStored(m: QueuedMessage): boolean {
    const app = this.#app;
    if (!this.#isOpen()) return true;
    if (m.seq <= this.#cursor) return false; // out of order: let the store decide
    if (this.#inflight.size >= app.limits.maxInflight) return false; // full window: an ack reads the store
    if (m.expiresAt <= app.now()) return false;
    this.#cursor = m.seq;
    this.#inflight.add(hex(m.id));
    this.#sendMessage(m);
    app.metrics.add('messages_delivered', 1);
    return true;
  }

  #isOpen(): boolean {
    return this.#state === 'open';
  }

  #send(frame: ServerFrame): void {
    if (this.#state !== 'open') return;
    let text: string;
    try {
      text = encodeServerFrame(frame);
    } catch (e) {
      this.#fail('send', e);
      return;
    }
    this.#sendText(text);
  }

  /** The push of one message (its text built by internal/frames.ts). */
  #sendMessage(m: QueuedMessage): void {
    let text: string;
    try {
      text = messageFrameText(m.seq, m.id, m.envelope, m.receivedAt);
    } catch (e) {
      this.#fail('send', e);
      return;
    }
    this.#sendText(text);
  }

  /** A frame already encoded. */
  #sendText(text: string): void {
    if (this.#state !== 'open') return;
    try {
      this.#peer.send(text);
    } catch (e) {
      this.#fail('send', e);
    }
  }

  #fail(what: string, e: unknown): void {
    if (this.#state === 'closed') return;
    this.#app.logger.log('error', 'ws.failed', { during: what, error: e instanceof Error ? ('code' in e && typeof e.code === 'string' ? e.code : e.name) : 'unknown' });
    this.close(CLOSE_INTERNAL, 'server error');
  }

  #cleanup(): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    if (this.#registry.get(this.#key) === this) this.#registry.delete(this.#key);
    this.#all.delete(this);
    if (wasOpen) this.#app.metrics.liveConnections--;
  }
}
