// One call, from one side (docs/protocol/11 §11.1–11.4): the state machine behind the `Call` the
// application holds.
//
//   caller:  dialing --ringing (s0, SAS; confirm sent)--> ringing --answer (keys)--> connecting --> active
//   callee:  connecting (accepted, answer sent) --confirm (s0, SAS, keys)--> active
//            (a confirm that came while the phone rang is handed over at accept, incoming-call.ts)
//   any state --hangUp / call-end / time-out / failure / SAS mismatch--> ended
//
// Events from the network are handled one at a time in arrival order (#run); the user's hangUp and a
// remote call-end take effect at once, and an event still in flight sees `ended` after each await
// and discards what it derived. Every ephemeral secret is single use and erased when the keys are
// derived or the call ends (§11.1 forward secrecy): the protocol's pending states are consumed by
// completeCall*, the derived CallKeys are erased on `ended`. Nothing about a call is persisted.
import {
  completeCall,
  confirmCallAsCallee,
  confirmCallAsCaller,
  encodeBase64url,
  type CallConfirmed,
  type CalleePending,
  type CallerPending,
  type CallKeys,
} from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import { benchMark } from '../internal/trace.ts';
import type { CallEndReason, CallSignalBody } from '../content/content.ts';
import type { Call, CallMedia, CallSas, CallState, Timers } from './types.ts';

/** Whom a call is with: the contact, the identity key the session (and so the call's transcript,
 *  §11.3 IK_I / IK_R) uses, and the device. */
export interface CallPeer {
  readonly username: string;
  readonly identityKey: Uint8Array;
  readonly deviceId: number;
}

/** What a call needs from the client (src/client.ts implements it). */
export interface CallPort {
  readonly crypto: Parameters<typeof completeCall>[0];
  readonly rng: (n: number) => Uint8Array;
  readonly timers: Timers;
  /** Seals `body` to exactly this peer (the trust rules apply again) and delivers it with a few quick
   *  retries; never kept in the outbox (call-manager.ts says why). */
  signal(peer: CallPeer, body: CallSignalBody): Promise<void>;
  /** confirmSas(true): marks the contact verified by `sas`, if its trusted key is still the call's. */
  verifyBySas(peer: CallPeer): Promise<void>;
  /** Where failures that no caller awaits go (the live loop's onError). */
  report(e: unknown): void;
}

type RingingBody = Extract<CallSignalBody, { type: 'call-ringing' }>;
type AnswerBody = Extract<CallSignalBody, { type: 'call-answer' }>;
export type ConfirmBody = Extract<CallSignalBody, { type: 'call-confirm' }>;

/** The call's state with what each state holds (STYLE.md §5: a discriminated union). */
type Phase =
  | { readonly state: 'dialing'; readonly pending: CallerPending }
  /** Caller: the commitment exchange is done (s0, the SAS), the confirm sent; waiting for the answer. */
  | { readonly state: 'ringing'; readonly pending: CallConfirmed }
  /** Caller: deriving the keys from the answer. Callee: waiting for the confirm, or deriving. */
  | { readonly state: 'connecting'; readonly pending: CallConfirmed | CalleePending }
  | { readonly state: 'active'; readonly keys: CallKeys }
  | { readonly state: 'ended' };

export interface CallSessionInit {
  readonly call: Uint8Array;
  readonly peer: CallPeer;
  readonly role: 'caller' | 'callee';
  readonly media: CallMedia;
  readonly port: CallPort;
  readonly pending: CallerPending | CalleePending;
  /** The callee's answer SDP, bound into the keys (§11.3); the caller gets it in the answer. */
  readonly answerSdp?: string;
  /** Time-out of the current phase: the ring (caller) or the key agreement (callee). */
  readonly timeoutMs: number;
  /** The manager forgets the call. */
  readonly onEnded: () => void;
}

export class CallSession implements Call {
  readonly id: string;
  readonly peer: string;
  readonly role: 'caller' | 'callee';
  readonly ended: Promise<{ reason: CallEndReason; by: 'local' | 'remote' }>;
  readonly #call: Uint8Array;
  readonly #peer: CallPeer;
  readonly #media: CallMedia;
  readonly #port: CallPort;
  readonly #onEnded: () => void;
  readonly #listeners = new Set<(state: CallState) => void>();
  #resolveEnded: (v: { reason: CallEndReason; by: 'local' | 'remote' }) => void = () => undefined;
  #phase: Phase;
  #sas: CallSas | undefined;
  #timer: unknown;
  #queue: Promise<void> = Promise.resolve();
  /** The pending state is being completed: a second answer or confirm is dropped, not an error. */
  #completing = false;
  readonly #answerSdp: string | undefined;

  constructor(init: CallSessionInit) {
    this.#call = init.call.slice();
    this.id = encodeBase64url(init.call);
    this.#peer = init.peer;
    this.peer = init.peer.username;
    this.role = init.role;
    this.#media = init.media;
    this.#port = init.port;
    this.#onEnded = init.onEnded;
    this.#answerSdp = init.answerSdp;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#phase = init.role === 'caller' ? { state: 'dialing', pending: init.pending as CallerPending } : { state: 'connecting', pending: init.pending as CalleePending };
    if (init.role === 'callee' && init.answerSdp === undefined) throw new ClientError('ERR_ARGUMENT', "a callee's call needs its answer SDP");
    this.#arm(init.timeoutMs);
  }

  /** The peer as the call knows it (username, identity key, device): who may speak for the call. */
  get peerInfo(): CallPeer {
    return this.#peer;
  }

  get state(): CallState {
    return this.#phase.state;
  }

  get sas(): CallSas | undefined {
    return this.#sas;
  }

  toString(): string {
    return '[Call: redacted]';
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  onState(cb: (state: CallState) => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  #set(phase: Phase): void {
    const changed = phase.state !== this.#phase.state;
    this.#phase = phase;
    if (!changed) return;
    for (const cb of [...this.#listeners]) {
      try {
        cb(phase.state);
      } catch (e) {
        this.#port.report(e);
      }
    }
  }

  /** Network events, one at a time in arrival order. */
  #run(op: () => Promise<void>): void {
    this.#queue = this.#queue.then(op).catch((e: unknown) => this.#fail(e));
  }

  #arm(ms: number): void {
    this.#disarm();
    this.#timer = this.#port.timers.setTimeout(() => {
      this.#timer = undefined;
      const s = this.#phase.state;
      // §11.6: no answer within CALL_RING_TIMEOUT_MS is `timeout`; a key agreement that does not
      // finish as long after the answer is given up the same way.
      if (s !== 'active' && s !== 'ended') void this.#endAndTell('timeout');
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#port.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Events from the peer (routed by call-manager.ts after it checked the sender is this call's peer)

  /** `call-ringing` (§11.2.2): the callee's phone rings and its values are fixed → the caller derives s0
   *  and the SAS and reveals E_I in `call-confirm` (§11.2.3). The confirm's delivery runs on while the
   *  answer is awaited; its failure ends the call. */
  ringing(body: RingingBody): void {
    this.#run(async () => {
      const phase = this.#phase;
      if (this.role !== 'caller' || phase.state !== 'dialing' || this.#completing) return; // dropped (§11.6)
      this.#completing = true;
      const { state, confirm } = await confirmCallAsCaller(this.#port.crypto, phase.pending, { call: body.call, dh: body.dh, ct: body.ct });
      this.#completing = false;
      if (this.#phase.state !== 'dialing') {
        state.erase(); // ended meanwhile
        return;
      }
      this.#set({ state: 'ringing', pending: state });
      this.#port.signal(this.#peer, { type: 'call-confirm', call: this.#call, dh: confirm.dh }).catch((e: unknown) => this.#fail(e));
    });
  }

  /** `call-answer` (§11.2.5) → the caller binds the answer into the keys (§11.3), applies it to the media
   *  and hands the SFrame keys over. An answer before the ringing values is a protocol violation. */
  answer(body: AnswerBody): void {
    this.#run(async () => {
      const phase = this.#phase;
      if (this.role !== 'caller' || this.#completing) return; // dropped (§11.6)
      if (phase.state === 'dialing') throw new ClientError('ERR_CALL_FAILED', 'the call was answered before its ringing values came (docs/protocol/11 §11.1)');
      if (phase.state !== 'ringing') return; // dropped (§11.6)
      this.#completing = true;
      this.#set({ state: 'connecting', pending: phase.pending });
      const { keys } = await completeCall(this.#port.crypto, phase.pending, { call: body.call, sdp: body.sdp });
      benchMark('caller-derived', 'call-answer');
      if (!this.#stillConnecting(keys)) return;
      const results = await Promise.allSettled([this.#media.acceptAnswer(body.sdp), this.#media.setKeys({ send: keys.send, receive: keys.receive })]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) {
        keys.erase();
        throw failed.reason;
      }
      benchMark('caller-keyed', 'call-answer');
      if (!this.#stillConnecting(keys)) return;
      this.#activate(keys);
    });
  }

  /** `call-confirm` (§11.2.3) → the callee checks the commitment, derives s0 and the SAS, and the keys
   *  with its own answer bound in (§11.3). */
  confirm(body: ConfirmBody): void {
    this.#run(async () => {
      const phase = this.#phase;
      const answerSdp = this.#answerSdp;
      if (this.role !== 'callee' || phase.state !== 'connecting' || this.#completing || answerSdp === undefined) return; // dropped (§11.6)
      this.#completing = true;
      const { state } = await confirmCallAsCallee(this.#port.crypto, phase.pending as CalleePending, { call: body.call, dh: body.dh });
      if (this.#phase.state !== 'connecting') {
        state.erase();
        return;
      }
      this.#set({ state: 'connecting', pending: state });
      const { keys } = await completeCall(this.#port.crypto, state, { call: this.#call, sdp: answerSdp });
      benchMark('callee-derived', 'call-confirm');
      if (!this.#stillConnecting(keys)) return;
      await this.#media.setKeys({ send: keys.send, receive: keys.receive });
      if (!this.#stillConnecting(keys)) return;
      this.#activate(keys);
    });
  }

  /** `call-end` from the peer: ends here at once. */
  remoteEnd(reason: CallEndReason): void {
    this.#end(reason, 'remote');
  }

  /** False (and the keys erased) when the call ended while a step awaited. */
  #stillConnecting(keys: CallKeys): boolean {
    if (this.#phase.state === 'connecting') return true;
    keys.erase();
    return false;
  }

  #activate(keys: CallKeys): void {
    this.#disarm();
    this.#sas = { words: [keys.sas.words[0], keys.sas.words[1]], base32: keys.sas.base32 };
    this.#set({ state: 'active', keys });
  }

  // -------------------------------------------------------------------------------------------
  // The user's actions

  hangUp(): Promise<void> {
    return this.#endAndTell('hangup');
  }

  async confirmSas(match: boolean): Promise<void> {
    if (typeof match !== 'boolean') throw new ClientError('ERR_ARGUMENT', 'match: expected a boolean');
    if (this.#phase.state !== 'active') throw new ClientError('ERR_CALL_STATE', `confirmSas: expected an active call, got one that is ${this.#phase.state}`);
    if (match) {
      // §11.4: the SAS covers IK_I and IK_R through th, so a match proves the peer holds the key the
      // session (and the call) used.
      await this.#port.verifyBySas(this.#peer);
      return;
    }
    // §11.4: a mismatch ends the call; the contact's state is not changed (a word may be misheard).
    await this.#endAndTell('sas-mismatch');
  }

  // -------------------------------------------------------------------------------------------
  // Ending

  /** Ends here at once, then tells the peer (best effort: a failure goes to `report`). */
  async #endAndTell(reason: CallEndReason): Promise<void> {
    if (!this.#end(reason, 'local')) return;
    try {
      await this.#port.signal(this.#peer, { type: 'call-end', call: this.#call, reason });
    } catch (e) {
      this.#port.report(e);
    }
  }

  /** A step failed (a bad answer or confirm, ERR_CALL_COMMITMENT, the media, the network). */
  async #fail(e: unknown): Promise<void> {
    if (this.#phase.state === 'ended') return;
    this.#port.report(e instanceof ClientError ? e : new ClientError('ERR_CALL_FAILED', 'the call could not be set up', { cause: e }));
    await this.#endAndTell('failed');
  }

  /** Ends the call here without telling the peer (the client is closing, or the offer never left). */
  endQuietly(reason: CallEndReason): void {
    this.#end(reason, 'local');
  }

  /** True when this call ended the call (false: it had ended already). */
  #end(reason: CallEndReason, by: 'local' | 'remote'): boolean {
    const phase = this.#phase;
    if (phase.state === 'ended') return false;
    this.#disarm();
    // §11.1: every ephemeral secret goes when the call ends. A completion in flight then fails with
    // ERR_CALL_STATE and erases what it derived; keys already derived are erased here.
    if (phase.state === 'active') phase.keys.erase();
    else phase.pending.erase();
    this.#set({ state: 'ended' });
    try {
      this.#media.close();
    } catch (e) {
      this.#port.report(e);
    }
    this.#onEnded();
    this.#resolveEnded({ reason, by });
    return true;
  }
}
