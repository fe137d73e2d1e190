// An offer that rings (docs/protocol/11 §11.1, §11.6): the `IncomingCall` the application is handed.
//
//   ringing --accept(media)--> accepting --(answer sent)--> accepted   (the Call takes over, call.ts)
//   ringing / accepting --call-confirm--> the same state, the confirm kept for the Call (§11.2.3: the
//            commitment exchange runs while the phone rings; the Call checks it when it exists)
//   ringing --decline-------> declined                       (call-end `decline` to the caller)
//   ringing --call-end / time-out--> cancelled               (`cancelled` resolves with the reason)
//   accepting --call-end--> the reason is kept and ends the Call as soon as it exists
//
// The ring stops after CALL_RING_TIMEOUT_MS by this device's timers even when the caller's own
// `timeout` never arrives (the caller's device vanished).
import { encodeBase64url, type CalleePending } from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import type { CallEndReason, CallSignalBody } from '../content/content.ts';
import type { TrustState } from '../trust/trust-store.ts';
import type { CallPeer, CallPort, CallSession, ConfirmBody } from './call.ts';
import type { Call, CallMedia, IncomingCall } from './types.ts';

export type OfferBody = Extract<CallSignalBody, { type: 'call-offer' }>;

type RingState = 'ringing' | 'accepting' | 'accepted' | 'declined' | 'cancelled';

export interface IncomingCallInit {
  readonly offer: OfferBody;
  readonly peer: CallPeer;
  readonly senderState: TrustState;
  readonly port: CallPort;
  readonly ringMs: number;
  /** The callee's half of the key agreement, being made as the phone starts ringing (§11.2.2); it
   *  rejects when the offer's values are not valid (the manager then cancels the ring as `failed`). */
  readonly pending: Promise<CalleePending>;
  /** The manager answers: media, the answer, the `Call` (call-manager.ts). */
  readonly answer: (offer: OfferBody, pending: CalleePending, media: CallMedia, created: (call: CallSession) => void) => Promise<CallSession>;
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
  /** The caller's confirm, when it came before the Call existed. */
  #confirm: ConfirmBody | undefined;

  constructor(init: IncomingCallInit) {
    this.#init = init;
    this.id = encodeBase64url(init.offer.call);
    this.from = init.peer.username;
    this.senderState = init.senderState;
    this.cancelled = new Promise((resolve) => {
      this.#resolveCancelled = resolve;
    });
    init.pending.catch(() => undefined); // a rejection is the manager's to report (call-manager.ts #ring)
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
      // A confirm kept while ringing goes to the Call as soon as it exists, so the keys are derived while
      // the answer is being sent (and one arriving later goes to the Call directly, call-manager.ts).
      let pending: CalleePending;
      try {
        pending = await this.#init.pending;
      } catch (e) {
        throw new ClientError('ERR_CALL_FAILED', 'the call offer is not valid', { cause: e });
      }
      const call = await this.#init.answer(this.#init.offer, pending, media, (c) => {
        if (this.#confirm !== undefined) c.confirm(this.#confirm);
      });
      this.#state = 'accepted';
      if (this.#endedWhileAccepting !== undefined) call.remoteEnd(this.#endedWhileAccepting);
      return call;
    } catch (e) {
      this.#state = 'cancelled';
      this.#erasePending();
      throw e;
    } finally {
      this.#init.onDone();
    }
  }

  /** The caller's `call-confirm` while ringing or being accepted: kept for the Call (the first one). */
  confirm(body: ConfirmBody): void {
    if (this.#state === 'ringing' || this.#state === 'accepting') this.#confirm ??= body;
  }

  async decline(): Promise<void> {
    if (this.#state !== 'ringing') throw new ClientError('ERR_CALL_STATE', `decline: expected a ringing call, got one that is ${this.#state}`);
    this.#state = 'declined';
    this.#stopRinging();
    this.#erasePending(); // §11.1: the callee's ephemeral secrets go with the call
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
    this.#erasePending();
    this.#init.onDone();
    this.#resolveCancelled(reason);
  }

  #erasePending(): void {
    this.#init.pending.then(
      (p) => {
        p.erase();
      },
      () => undefined, // nothing was made
    );
  }

  /** The client is closing: the ring stops (the caller times out or gets our hang-up). */
  close(): void {
    this.cancel('hangup');
  }
}
