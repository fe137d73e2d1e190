// An offer that rings (docs/protocol/11 §11.1, §11.6): the `IncomingCall` the application is handed.
//
//   ringing --accept(media)--> accepting --(answer sent)--> accepted   (the Call takes over, call.ts)
//   ringing --decline-------> declined                       (call-end `decline` to the caller)
//   ringing --call-end / time-out--> cancelled               (`cancelled` resolves with the reason)
//   accepting --call-end--> the reason is kept and ends the Call as soon as it exists
//
// The ring stops after CALL_RING_TIMEOUT_MS by this device's timers even when the caller's own
// `timeout` never arrives (the caller's device vanished).
import { encodeBase64url } from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import type { CallEndReason, CallSignalBody } from '../content/content.ts';
import type { TrustState } from '../trust/trust-store.ts';
import type { CallPeer, CallPort, CallSession } from './call.ts';
import type { Call, CallMedia, IncomingCall } from './types.ts';

export type OfferBody = Extract<CallSignalBody, { type: 'call-offer' }>;

type RingState = 'ringing' | 'accepting' | 'accepted' | 'declined' | 'cancelled';

export interface IncomingCallInit {
  readonly offer: OfferBody;
  readonly peer: CallPeer;
  readonly senderState: TrustState;
  readonly port: CallPort;
  readonly ringMs: number;
  /** The manager answers: media, key agreement, the `Call` (call-manager.ts). */
  readonly answer: (offer: OfferBody, media: CallMedia) => Promise<CallSession>;
  /** The manager forgets the offer (declined, cancelled, or its Call took over). */
  readonly onDone: () => void;
}

export class RingingCall implements IncomingCall {
  readonly id: string;
  readonly from: string;
  readonly senderState: TrustState;
  readonly cancelled: Promise<CallEndReason>;
  readonly #init: IncomingCallInit;
  #resolveCancelled: (reason: CallEndReason) => void = () => undefined;
  #state: RingState = 'ringing';
  #timer: unknown;
  /** A call-end that arrived while accepting: it ends the Call once there is one. */
  #endedWhileAccepting: CallEndReason | undefined;

  constructor(init: IncomingCallInit) {
    this.#init = init;
    this.id = encodeBase64url(init.offer.call);
    this.from = init.peer.username;
    this.senderState = init.senderState;
    this.cancelled = new Promise((resolve) => {
      this.#resolveCancelled = resolve;
    });
    this.#timer = init.port.timers.setTimeout(() => {
      this.#timer = undefined;
      this.cancel('timeout');
    }, init.ringMs);
  }

  toString(): string {
    return '[IncomingCall: redacted]';
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** The caller as the offer's envelope authenticated it. */
  get peerInfo(): CallPeer {
    return this.#init.peer;
  }

  /** Still holds this device (busy): ringing, or being accepted. */
  get live(): boolean {
    return this.#state === 'ringing' || this.#state === 'accepting';
  }

  #stopRinging(): void {
    if (this.#timer !== undefined) this.#init.port.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async accept(media: CallMedia): Promise<Call> {
    if (this.#state !== 'ringing') throw new ClientError('ERR_CALL_STATE', `accept: expected a ringing call, got one that is ${this.#state}`);
    this.#state = 'accepting';
    this.#stopRinging();
    try {
      const call = await this.#init.answer(this.#init.offer, media);
      this.#state = 'accepted';
      if (this.#endedWhileAccepting !== undefined) call.remoteEnd(this.#endedWhileAccepting);
      return call;
    } catch (e) {
      this.#state = 'cancelled';
      throw e;
    } finally {
      this.#init.onDone();
    }
  }

  async decline(): Promise<void> {
    if (this.#state !== 'ringing') throw new ClientError('ERR_CALL_STATE', `decline: expected a ringing call, got one that is ${this.#state}`);
    this.#state = 'declined';
    this.#stopRinging();
    this.#init.onDone();
    await this.#init.port.signal(this.#init.peer, { type: 'call-end', call: this.#init.offer.call, reason: 'decline' });
  }

  /** The caller's call-end (or the ring timed out). */
  cancel(reason: CallEndReason): void {
    if (this.#state === 'accepting') {
      this.#endedWhileAccepting ??= reason;
      return;
    }
    if (this.#state !== 'ringing') return;
    this.#state = 'cancelled';
    this.#stopRinging();
    this.#init.onDone();
    this.#resolveCancelled(reason);
  }

  /** The client is closing: the ring stops (the caller times out or gets our hang-up). */
  close(): void {
    this.cancel('hangup');
  }
}
