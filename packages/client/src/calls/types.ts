// The public shapes of calls in @sotto/client (docs/protocol/11): what the platform's WebRTC stack
// provides (CallMedia), and what the application holds (Call, IncomingCall). The state machines are in
// call.ts (one call) and incoming-call.ts (an offer that rings); call-manager.ts routes signalling.
import type { CallEndReason } from '../content/content.ts';
import type { TrustState } from '../trust/trust-store.ts';

export type { CallEndReason } from '../content/content.ts';

/** One SFrame sender's key (docs/protocol/11 §11.5): its KID (caller 0, callee 1) and base key. */
export interface CallMediaKey {
  readonly kid: number;
  readonly baseKey: Uint8Array;
}

/** What the platform's WebRTC stack (browser RTCPeerConnection, or werift in the CLI) provides. The SDK
 *  never touches media: it moves the SDPs through the session and hands the derived SFrame keys over. */
export interface CallMedia {
  /** The full offer SDP: ICE gathering complete, audio-level header extensions stripped (docs/protocol/11 §11.2.4). */
  createOffer(): Promise<string>;
  /** Applies the remote offer and returns the full answer SDP (same rules). */
  acceptOffer(offerSdp: string): Promise<string>;
  acceptAnswer(answerSdp: string): Promise<void>;
  /** The call's SFrame keys (§11.5); the media encrypts with `send` and accepts only `receive`'s KID. */
  setKeys(keys: { send: CallMediaKey; receive: CallMediaKey }): void | Promise<void>;
  close(): void;
}

/** docs/protocol/11 §11.1 from one side: the caller goes dialing → (ringing) → connecting → active;
 *  the callee's call starts at connecting (accepted, waiting for the caller's confirm). Any state → ended. */
export type CallState = 'dialing' | 'ringing' | 'connecting' | 'active' | 'ended';

/** The short authentication string of §11.4, identical on both sides. */
export interface CallSas {
  readonly words: readonly [string, string];
  readonly base32: string;
}

export interface Call {
  /** The call id, base64url of its 16 bytes (§11.1). */
  readonly id: string;
  /** The other side's folded username. */
  readonly peer: string;
  readonly role: 'caller' | 'callee';
  readonly state: CallState;
  /** Set when `active`; read aloud and compared (§11.4). */
  readonly sas: CallSas | undefined;
  readonly ended: Promise<{ reason: CallEndReason; by: 'local' | 'remote' }>;
  /** Called on every state change; returns a function that unsubscribes. */
  onState(cb: (state: CallState) => void): () => void;
  /** Ends the call and tells the peer (`call-end` `hangup`). Nothing when it has ended already. */
  hangUp(): Promise<void>;
  /** Only when `active` (ERR_CALL_STATE otherwise). true: the words match — the contact becomes
   *  `verified` with method `sas` (§11.4); false: the call ends with `sas-mismatch` on both sides and
   *  the contact's state is left as it was. */
  confirmSas(match: boolean): Promise<void>;
}

export interface IncomingCall {
  readonly id: string;
  readonly from: string;
  /** `unverified` or `verified` (a `changed` contact's offer is a missed call, never rung). */
  readonly senderState: TrustState;
  /** Answers with `media` (ERR_CALL_STATE once declined, cancelled or accepted). Resolves with the call
   *  in state `connecting`; it becomes `active` when the caller's confirm arrives. */
  accept(media: CallMedia): Promise<Call>;
  /** Tells the caller `call-end` `decline`. */
  decline(): Promise<void>;
  /** Resolves if the caller gives up (or the ring times out) before accept or decline; else never. */
  readonly cancelled: Promise<CallEndReason>;
}

/** The timer functions calls use for their time-outs (CALL_RING_TIMEOUT_MS); injected by tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's timers; unref'd where the platform can, so a ringing call never keeps Node alive. */
export const platformTimers: Timers = {
  setTimeout(callback, ms) {
    const h = setTimeout(callback, ms) as unknown as { unref?: () => void };
    h.unref?.();
    return h;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};
