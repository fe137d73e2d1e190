// The call manager (docs/protocol/11 §11.1, §11.6): places calls, rings for offers, routes the call
// bodies the receive path hands over (src/messaging/receive.ts → `route`) to the call they name, and
// answers `busy` while this device is in a call.
//
// What is NOT persisted, and why: call signalling is time-critical. An offer, answer or confirm that
// arrives after the ring timed out (CALL_RING_TIMEOUT_MS, 45 s) is useless, and one re-sent after a
// crash and restart would ring a phone for a call nobody is making. So call bodies never enter the
// outbox (src/messaging/state.ts): each is sealed (the session state it advances IS committed, like
// every send), delivered with CALL_SIGNAL_SEND_ATTEMPTS quick retries (about 2 s), and a failure
// ends the call (`failed`) instead of queueing. Received call bodies are never put in the inbox
// either, and a call's keys and pending secrets live only in memory (§11.1 forward secrecy). What
// must survive — a voicemail, a missed call — is an ordinary message and is persisted as one.
//
// Rules of §11.6 applied here: a body for an unknown or finished call, or from anyone but that call's
// peer (username and identity key), is dropped; an offer while a call holds this device is answered
// with `call-end` `busy`. Applied by the receive path: stale offers and offers from `changed` contacts
// become missed calls. Applied by the client's send path: sends to a `changed` contact are refused.
import { createCallOffer, isProtocolError, ringCallOffer, type CalleePending } from '@sotto/protocol';
import { ClientError } from '../errors.ts';
import { benchMark } from '../internal/trace.ts';
import { checkSdp, type CallSignalBody } from '../content/content.ts';
import { bytesEqual, toHex } from '../internal/bytes.ts';
import { CALL_RING_TIMEOUT_MS } from '../limits.ts';
import type { CallSignal } from '../messaging/receive.ts';
import { CallSession, type CallPeer, type CallPort } from './call.ts';
import { RingingCall, type OfferBody } from './incoming-call.ts';
import type { Call, CallMedia, IncomingCall } from './types.ts';

/** What the manager needs beyond a call's port: who we are, and how a call is placed. */
export interface CallManagerPort extends CallPort {
  /** Our identity public key (IK_I when calling, IK_R when called, §11.1). */
  readonly identityKey: Uint8Array;
  /** The first half of a send (src/client.ts): directory lookup, trust rules (ERR_TRUST_CHANGED),
   *  a session with the key sends go to. */
  prepare(username: string): Promise<CallPeer>;
}

/** How many routed message ids the manager remembers: far more than the call bodies that can be in
 *  flight between a routing and its commit (a few per call, one call at a time). */
const ROUTED_IDS_KEPT = 256;

function callFailed(what: string, e: unknown): ClientError {
  if (e instanceof ClientError) return e;
  const code = isProtocolError(e) ? ` (${e.code})` : '';
  return new ClientError('ERR_CALL_FAILED', `${what}${code}`, { cause: e });
}

export class CallManager {
  readonly #port: CallManagerPort;
  readonly #calls = new Map<string, CallSession>();
  readonly #ringing = new Map<string, RingingCall>();
  readonly #handlers = new Set<(call: IncomingCall) => void>();
  /** placeCall between its start and the call's registration: the device is busy already. */
  #placing = 0;
  /** Message ids routed lately, oldest first: src/client.ts may route a body before its batch is
   *  committed, so a failed commit re-delivers it in this process; the repeat is dropped (§11.6). */
  readonly #routed = new Set<string>();

  constructor(port: CallManagerPort) {
    this.#port = port;
  }

  /** Whether a fresh offer can ring (someone listens for it); else the receive path makes it a missed call. */
  get ringable(): boolean {
    return this.#handlers.size > 0;
  }

  /** A call, an offer ringing or being accepted, or a call being placed holds this device. */
  get busy(): boolean {
    if (this.#placing > 0 || this.#calls.size > 0) return true;
    for (const r of this.#ringing.values()) if (r.live) return true;
    return false;
  }

  onIncomingCall(handler: (call: IncomingCall) => void): () => void {
    if (typeof handler !== 'function') throw new ClientError('ERR_ARGUMENT', 'handler: expected a function');
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  /** §11.2.1: offer, then wait (the ring time-out runs from here). */
  async place(to: string, media: CallMedia, ringMs: number = CALL_RING_TIMEOUT_MS): Promise<Call> {
    if (this.busy) throw new ClientError('ERR_CALL_BUSY', 'expected no call in progress on this device, got one');
    this.#placing++;
    let registered = false;
    try {
      const peer = await this.#port.prepare(to); // ERR_TRUST_CHANGED for a changed contact (§11.6)
      let sdp: string;
      try {
        sdp = checkSdp(await media.createOffer(), (m) => {
          throw new ClientError('ERR_CALL_FAILED', `the media's offer breaks docs/protocol/11 §11.2.4: ${m}`);
        });
      } catch (e) {
        throw callFailed('the media could not make an offer', e);
      }
      let created: Awaited<ReturnType<typeof createCallOffer>>;
      try {
        created = await createCallOffer(this.#port.crypto, this.#port.rng, { callerIdentityKey: this.#port.identityKey, calleeIdentityKey: peer.identityKey, sdp });
      } catch (e) {
        throw callFailed('the call offer could not be made', e);
      }
      const { state, offer } = created;
      const id = toHex(offer.call);
      const call = new CallSession({
        call: offer.call,
        peer,
        role: 'caller',
        media,
        port: this.#port,
        pending: state,
        timeoutMs: ringMs,
        onEnded: () => this.#calls.delete(id),
      });
      // Registered before the offer leaves: the answer may come back before the send returns.
      this.#calls.set(id, call);
      registered = true;
      try {
        await this.#port.signal(peer, { type: 'call-offer', call: offer.call, kem: offer.kem, commit: offer.commit, sdp: offer.sdp });
      } catch (e) {
        call.endQuietly('failed'); // closes the media, erases the pending secrets
        throw e;
      }
      return call;
    } catch (e) {
      if (!registered) {
        try {
          media.close();
        } catch {
          // the media's own failure adds nothing to the error the caller gets
        }
      }
      throw e;
    } finally {
      this.#placing--;
    }
  }

  /** Hands the received call bodies to their calls, in order (after the batch was committed). */
  route(signals: readonly CallSignal[]): void {
    for (const s of signals) {
      if (this.#routed.has(s.id)) continue; // a re-delivered body (§11.6)
      this.#routed.add(s.id);
      if (this.#routed.size > ROUTED_IDS_KEPT) {
        for (const oldest of this.#routed) {
          this.#routed.delete(oldest);
          break;
        }
      }
      try {
        this.#route(s);
      } catch (e) {
        this.#port.report(e);
      }
    }
  }

  #route(s: CallSignal): void {
    const id = toHex(s.body.call);
    const peer: CallPeer = { username: s.from, identityKey: s.identityKey, deviceId: s.deviceId };
    const from = (p: CallPeer): boolean => p.username === s.from && bytesEqual(p.identityKey, s.identityKey);
    const body = s.body;
    if (body.type === 'call-offer') {
      if (this.#calls.has(id) || this.#ringing.has(id)) return; // a call id is unique (§11.1): a repeat is dropped
      if (this.busy) {
        // §11.6: an offer while another call is active is answered with call-end `busy`.
        this.#port.signal(peer, { type: 'call-end', call: body.call, reason: 'busy' }).catch((e: unknown) => {
          this.#port.report(e);
        });
        return;
      }
      if (this.#handlers.size === 0) return; // nothing rings any more (the receive path saw a handler): the caller times out
      this.#ring(body, peer, s.senderState === 'verified' ? 'verified' : 'unverified');
      return;
    }
    const call = this.#calls.get(id);
    if (call !== undefined) {
      if (!from(call.peerInfo)) return; // only the call's peer speaks for it
      this.#deliver(call, body);
      return;
    }
    const ringing = this.#ringing.get(id);
    if (ringing === undefined || !from(ringing.peerInfo)) return;
    if (body.type === 'call-end') ringing.cancel(body.reason);
    else if (body.type === 'call-confirm') ringing.confirm(body);
    // anything else names an unknown or finished call: dropped (§11.6)
  }

  #deliver(call: CallSession, body: Exclude<CallSignalBody, OfferBody>): void {
    switch (body.type) {
      case 'call-ringing':
        call.ringing(body);
        return;
      case 'call-answer':
        call.answer(body);
        return;
      case 'call-confirm':
        call.confirm(body);
        return;
      case 'call-end':
        call.remoteEnd(body.reason);
        return;
    }
  }

  /** §11.2.2: the phone rings, and the callee's values are made meanwhile and sent in `call-ringing`, so
   *  the commitment exchange runs while the user decides. An offer whose values are not valid stops
   *  ringing (`failed`, the caller is told). The ring is registered at once, so that a call-end queued
   *  right behind the offer finds it. */
  #ring(offer: OfferBody, peer: CallPeer, senderState: 'verified' | 'unverified'): void {
    const id = toHex(offer.call);
    // ERR_KEY_INVALID for an encapsulation key that fails FIPS 203 §7.2's check; ERR_CALL_SDP.
    const made = ringCallOffer(this.#port.crypto, this.#port.rng, { callerIdentityKey: peer.identityKey, calleeIdentityKey: this.#port.identityKey, offer });
    const ringing = new RingingCall({
      offer,
      peer,
      senderState,
      port: this.#port,
      ringMs: CALL_RING_TIMEOUT_MS,
      pending: made.then((r) => r.state),
      answer: (o, p, media, created) => this.#answer(o, p, peer, media, created),
      onDone: () => {
        if (this.#ringing.get(id) === ringing) this.#ringing.delete(id);
      },
    });
    this.#ringing.set(id, ringing);
    made.then(
      (r) => {
        if (!ringing.live) return; // ended meanwhile (the ring erased the values)
        benchMark('callee-rang', 'call-ringing');
        this.#port.signal(peer, { type: 'call-ringing', call: r.ringing.call, dh: r.ringing.dh, ct: r.ringing.ct }).catch((e: unknown) => {
          this.#port.report(e);
        });
      },
      (e: unknown) => {
        this.#port.report(callFailed('the call offer is not valid', e));
        if (!ringing.live) return;
        ringing.cancel('failed');
        this.#port.signal(peer, { type: 'call-end', call: offer.call, reason: 'failed' }).catch((err: unknown) => {
          this.#port.report(err);
        });
      },
    );
    for (const h of [...this.#handlers]) {
      try {
        h(ringing);
      } catch (e) {
        this.#port.report(e);
      }
    }
  }

  /** §11.2.5: the user accepted. The media answers and the answer goes out; the Call binds that SDP into
   *  its keys once the caller's confirm is in (CALL_RING_TIMEOUT_MS at most). */
  async #answer(offer: OfferBody, pending: CalleePending, peer: CallPeer, media: CallMedia, created: (call: CallSession) => void): Promise<CallSession> {
    const id = toHex(offer.call);
    let call: CallSession | undefined;
    try {
      let sdp: string;
      try {
        sdp = checkSdp(await media.acceptOffer(offer.sdp), (m) => {
          throw new ClientError('ERR_CALL_FAILED', `the media's answer breaks docs/protocol/11 §11.2.4: ${m}`);
        });
      } catch (e) {
        throw callFailed('the media could not answer the offer', e);
      }
      benchMark('callee-answer-sdp', 'call-answer');
      const c = new CallSession({
        call: offer.call,
        peer,
        role: 'callee',
        media,
        port: this.#port,
        pending,
        answerSdp: sdp,
        timeoutMs: CALL_RING_TIMEOUT_MS,
        onEnded: () => this.#calls.delete(id),
      });
      call = c;
      this.#calls.set(id, c);
      created(c);
      await this.#port.signal(peer, { type: 'call-answer', call: offer.call, sdp });
      return c;
    } catch (e) {
      if (call !== undefined) call.endQuietly('failed');
      else {
        pending.erase();
        try {
          media.close();
        } catch {
          // the media's own failure adds nothing to the error the caller gets
        }
      }
      // Tell the caller, so it stops waiting (best effort).
      this.#port.signal(peer, { type: 'call-end', call: offer.call, reason: 'failed' }).catch((err: unknown) => {
        this.#port.report(err);
      });
      throw e;
    }
  }

  /** The client is closing: every call is hung up (the peer told, best effort), every ring stops. */
  async closeAll(): Promise<void> {
    for (const r of [...this.#ringing.values()]) r.close();
    await Promise.all([...this.#calls.values()].map((c) => c.hangUp()));
  }
}
