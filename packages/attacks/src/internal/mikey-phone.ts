// A MIKEY-SAKKE phone: the victim's software in the MIKEY-SAKKE scenarios. Key management is @sotto/escrow
// exactly as the RFCs define it (initiateCall / respondToCall, RFC 6509 §2); media is SRTP under the keys that
// call set-up derives (src/internal/srtp.ts, RFC 3711); transport is mallory's network (src/mallory/mikey-network.ts).
//
// Device policy, chosen to be the BEST a MIKEY-SAKKE device can do, so that every compromise the scorecard
// reports is the protocol's and not this model's:
//   * it keeps key material only for the periods it can still receive (RFC 6509 §3.3: the current month, the
//     next from the second-to-last day, the previous on the first two days) and discards older months;
//   * it keeps a replay cache of accepted I_MESSAGEs for the whole clock-skew window (RFC 3830 §5.4);
//   * it passes the caller URI from signalling to respondToCall, so IDRi must match it;
//   * SRTP receivers keep the RFC 3711 §3.3.2 replay list.
// What the user sees is `events`: a connected call with the peer the software names, or a refusal with its code.
import type { Socket } from 'node:dgram';
import {
  EscrowError,
  initiateCall,
  installUserKeys,
  keyPeriodOfUnixMs,
  MIKEY_MAX_CLOCK_SKEW_MS,
  receivableKeyPeriods,
  respondToCall,
  type MikeySakkeCommunityKeys,
  type MikeySakkeKeyDelivery,
  type MikeySakkeUserKeys,
  type SrtpMasterKeys,
} from '@sotto/escrow';
import { AttacksError } from '../errors.ts';
import { NETWORK_WAIT_MS } from '../limits.ts';
import { KEY_MGMT_PREFIX, parseSignalling, sendDatagram, type MikeyNetwork, type UdpAddress } from '../mallory/mikey-network.ts';
import { decodeRtpHeader, SrtpReceiver, SrtpSender, srtpSessionKeys, type SrtpRejection } from './srtp.ts';
import { bindLoopback, closeSocket } from './udp.ts';

/** RTP payload type of the modelled media (dynamic range, RFC 3551 §3). */
const MEDIA_PAYLOAD_TYPE = 96;
/** RTP timestamp step per frame: 20 ms at 8 kHz (RFC 3551 §4.5). */
const FRAME_TIMESTAMP_STEP = 160;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export type Rng = (n: number) => Uint8Array;

/** What the phone's user interface shows. */
export type PhoneEvent =
  | { readonly kind: 'call-connected'; readonly callId: string; readonly direction: 'incoming' | 'outgoing'; readonly peer: string }
  | { readonly kind: 'call-refused'; readonly callId: string; readonly direction: 'incoming' | 'outgoing'; readonly code: string }
  | { readonly kind: 'media-refused'; readonly callId: string; readonly reason: SrtpRejection };

/** One call leg on this phone. */
export interface PhoneCall {
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing';
  /** The peer as this phone's software names it (dialled URI, or the authenticated Initiator URI). */
  readonly peer: string;
  /** Media payloads heard on this call, decrypted and authenticated, in arrival order. */
  readonly heard: string[];
}

interface CallState extends PhoneCall {
  readonly media: Socket;
  readonly sender: SrtpSender;
  readonly keys: SrtpMasterKeys;
  readonly receivers: Map<number, SrtpReceiver>;
  timestamp: number;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function addressOf(socket: Socket): UdpAddress {
  const a = socket.address();
  return { address: a.address, port: a.port };
}

export interface MikeyPhoneOptions {
  /** The tel URI this phone's software uses (for mallory's phones: the URI it impersonates). */
  readonly uri: string;
  readonly network: MikeyNetwork;
  readonly community: MikeySakkeCommunityKeys;
  readonly clock: () => number;
  readonly rng: Rng;
  /** Register with the network under `uri` (false for mallory's impersonating phones, which the network diverts to). */
  readonly register: boolean;
}

export class MikeyPhone {
  readonly uri: string;
  readonly events: PhoneEvent[] = [];
  readonly #opts: MikeyPhoneOptions;
  readonly #signalling: Socket;
  readonly #deliveries = new Map<string, MikeySakkeKeyDelivery>();
  readonly #keys = new Map<string, MikeySakkeUserKeys>();
  readonly #replayCache = new Map<string, number>();
  readonly #calls = new Map<string, CallState>();
  readonly #pendingOutgoing = new Map<string, { media: Socket; keys: SrtpMasterKeys; toUri: string }>();
  readonly #waiters = new Set<() => void>();
  #failure: unknown;

  private constructor(opts: MikeyPhoneOptions, signalling: Socket) {
    this.uri = opts.uri;
    this.#opts = opts;
    this.#signalling = signalling;
    signalling.on('message', (msg) => {
      this.#onSignalling(new Uint8Array(msg)).catch((e: unknown) => {
        this.#failure ??= e;
        this.#wake();
      });
    });
  }

  static async start(opts: MikeyPhoneOptions): Promise<MikeyPhone> {
    const phone = new MikeyPhone(opts, await bindLoopback());
    if (opts.register) opts.network.register(opts.uri, phone.signallingAddress);
    return phone;
  }

  get signallingAddress(): UdpAddress {
    return addressOf(this.#signalling);
  }

  /** Installs a monthly key delivery after the RFC checks (installUserKeys), and forgets unreceivable months. */
  install(delivery: MikeySakkeKeyDelivery): void {
    this.#keys.set(delivery.period, installUserKeys(this.#opts.community, delivery));
    this.#deliveries.set(delivery.period, delivery);
    this.prune();
  }

  /** Drops key material for months this phone can no longer receive in (RFC 6509 §3.3). */
  prune(): void {
    const now = this.#opts.clock();
    const keep = new Set([keyPeriodOfUnixMs(now), ...receivableKeyPeriods(now)]);
    for (const period of [...this.#keys.keys()]) {
      if (!keep.has(period)) {
        this.#keys.delete(period);
        this.#deliveries.delete(period);
      }
    }
  }

  /** The key material stored on the device right now: exactly what a thief who copies the device gets. */
  storedKeyMaterial(): MikeySakkeKeyDelivery[] {
    return [...this.#deliveries.values()];
  }

  call(callId: string): PhoneCall | undefined {
    return this.#calls.get(callId);
  }

  /** Places a call: sends an INVITE with a fresh I_MESSAGE and waits for ANSWER or REJECT. */
  async dial(toUri: string): Promise<{ ok: true; call: PhoneCall } | { ok: false; code: string }> {
    const now = this.#opts.clock();
    const own = this.#keys.get(keyPeriodOfUnixMs(now));
    if (own === undefined) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'the phone has no key for the current month');
    const initiated = initiateCall({ initiator: own, responderUri: toUri, nowMs: now, rng: this.#opts.rng });
    const callId = hex(this.#opts.rng(8));
    const media = await bindLoopback();
    const keys = initiated.srtp[0];
    if (keys === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'call set-up produced no SRTP keys');
    const invite = [
      `INVITE ${toUri}`,
      `From: ${this.uri}`,
      `Call-ID: ${callId}`,
      `Media: 127.0.0.1:${addressOf(media).port}`,
      '',
      `${KEY_MGMT_PREFIX}${Buffer.from(initiated.iMessage).toString('base64')}`,
    ].join('\r\n');
    const answered = this.#waitFor(() => this.events.find((e) => e.callId === callId && (e.kind === 'call-connected' || e.kind === 'call-refused')));
    this.#pendingOutgoing.set(callId, { media, keys, toUri });
    await sendDatagram(this.#signalling, utf8.encode(invite), this.#opts.network.signallingAddress);
    const event = await answered;
    if (event.kind === 'call-refused') {
      media.close();
      return { ok: false, code: event.code };
    }
    const call = this.#calls.get(callId);
    if (call === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'connected call not found');
    return { ok: true, call };
  }

  /** Speaks: each phrase becomes one SRTP-protected media frame sent to the relay. */
  async say(callId: string, phrases: readonly string[]): Promise<void> {
    const call = this.#calls.get(callId);
    if (call === undefined) throw new AttacksError('ERR_ATTACKS_ARGUMENT', 'say: no such call');
    for (const phrase of phrases) {
      call.timestamp += FRAME_TIMESTAMP_STEP;
      await sendDatagram(call.media, call.sender.protect(utf8.encode(phrase), call.timestamp, MEDIA_PAYLOAD_TYPE), this.#opts.network.mediaAddress);
    }
  }

  /** The address of this phone's media socket for a call (where the relay delivers its media). */
  mediaAddress(callId: string): UdpAddress | undefined {
    const call = this.#calls.get(callId);
    return call === undefined ? undefined : addressOf(call.media);
  }

  /** Waits until `count` frames were heard on the call (or the phone reported `count` media refusals). */
  async waitHeard(callId: string, count: number): Promise<string[]> {
    await this.#waitFor(() => ((this.#calls.get(callId)?.heard.length ?? 0) >= count ? true : undefined));
    return [...(this.#calls.get(callId)?.heard ?? [])];
  }

  /** Waits until `condition` holds (re-checked on every event and every frame heard). */
  async waitUntil(condition: () => boolean): Promise<void> {
    await this.#waitFor(() => (condition() ? true : undefined));
  }

  /** Waits for an event matching `predicate` that is not among the first `after` events. */
  waitForEvent(predicate: (e: PhoneEvent) => boolean, after = 0): Promise<PhoneEvent> {
    return this.#waitFor(() => this.events.slice(after).find(predicate));
  }

  async close(): Promise<void> {
    for (const call of this.#calls.values()) call.media.close();
    for (const p of this.#pendingOutgoing.values()) p.media.close();
    await closeSocket(this.#signalling);
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #waitFor<T>(check: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        if (this.#failure !== undefined) {
          cleanup();
          reject(new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'the phone failed', { cause: this.#failure }));
          return true;
        }
        const v = check();
        if (v === undefined) return false;
        cleanup();
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new AttacksError('ERR_ATTACKS_TIMEOUT', `no expected phone event within ${NETWORK_WAIT_MS} ms`));
      }, NETWORK_WAIT_MS);
      const waiter = (): void => {
        attempt();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      attempt();
    });
  }

  #emit(event: PhoneEvent): void {
    this.events.push(event);
    this.#wake();
  }

  #openCall(callId: string, direction: 'incoming' | 'outgoing', peer: string, media: Socket, keys: SrtpMasterKeys): void {
    const session = srtpSessionKeys(keys.masterKey, keys.masterSalt);
    const ssrc = Buffer.from(this.#opts.rng(4)).readUInt32BE(0);
    const firstSeq = Buffer.from(this.#opts.rng(2)).readUInt16BE(0) & 0x7fff; // RFC 3550 §5.1: random initial sequence
    const call: CallState = { callId, direction, peer, heard: [], media, keys, sender: new SrtpSender(session, ssrc, firstSeq), receivers: new Map(), timestamp: 0 };
    media.on('message', (msg) => {
      const packet = new Uint8Array(msg);
      const ssrcIn = decodeRtpHeader(packet)?.ssrc;
      if (ssrcIn === undefined) {
        this.#emit({ kind: 'media-refused', callId, reason: 'not-rtp' });
        return;
      }
      if (ssrcIn === ssrc) {
        // Our own stream reflected back (both directions share the crypto session's key): RFC 3550 §8.2 treats
        // a packet with our own SSRC as a collision or loop, never as the peer's media.
        this.#emit({ kind: 'media-refused', callId, reason: 'wrong-ssrc' });
        return;
      }
      let receiver = call.receivers.get(ssrcIn);
      if (receiver === undefined) {
        receiver = new SrtpReceiver(session, ssrcIn);
        call.receivers.set(ssrcIn, receiver);
      }
      const r = receiver.unprotect(packet);
      if (r.ok) {
        call.heard.push(utf8Decoder.decode(r.payload));
        this.#wake();
      } else {
        this.#emit({ kind: 'media-refused', callId, reason: r.reason });
      }
    });
    this.#calls.set(callId, call);
    this.#emit({ kind: 'call-connected', callId, direction, peer });
  }

  async #onSignalling(bytes: Uint8Array): Promise<void> {
    const msg = parseSignalling(bytes);
    if (msg === undefined) return;
    const callId = msg.headers.get('call-id') ?? '';
    if (msg.method === 'ANSWER' || msg.method === 'REJECT') {
      const pending = this.#pendingOutgoing.get(callId);
      if (pending === undefined) return; //                                 an answer to nothing we asked: ignored
      this.#pendingOutgoing.delete(callId);
      if (msg.method === 'REJECT') {
        this.#emit({ kind: 'call-refused', callId, direction: 'outgoing', code: msg.headers.get('reason') ?? 'unknown' });
        return;
      }
      this.#openCall(callId, 'outgoing', pending.toUri, pending.media, pending.keys);
      return;
    }
    await this.#onInvite(callId, msg.headers, msg.body);
  }

  async #onInvite(callId: string, headers: Map<string, string>, body: string): Promise<void> {
    const now = this.#opts.clock();
    for (const [key, expires] of this.#replayCache) if (expires < now) this.#replayCache.delete(key);
    const line = body.split('\r\n').find((l) => l.startsWith(KEY_MGMT_PREFIX));
    const from = headers.get('from');
    let refusal: string | undefined;
    let accepted: ReturnType<typeof respondToCall> | undefined;
    if (line === undefined || from === undefined) refusal = 'ERR_NO_KEY_MGMT';
    else {
      try {
        accepted = respondToCall({
          keys: [...this.#keys.values()],
          iMessage: new Uint8Array(Buffer.from(line.slice(KEY_MGMT_PREFIX.length), 'base64')),
          nowMs: now,
          replayCache: new Set(this.#replayCache.keys()),
          initiatorUri: from,
        });
      } catch (e) {
        if (!(e instanceof EscrowError)) throw e;
        refusal = e.code;
      }
    }
    const keys = accepted?.srtp[0];
    if (accepted === undefined || keys === undefined) {
      const code = refusal ?? 'ERR_NO_SRTP_KEYS';
      this.#emit({ kind: 'call-refused', callId, direction: 'incoming', code });
      await sendDatagram(this.#signalling, utf8.encode([`REJECT ${from ?? 'unknown'}`, `Call-ID: ${callId}`, `Reason: ${code}`, ''].join('\r\n')), this.#opts.network.signallingAddress);
      return;
    }
    this.#replayCache.set(accepted.replayCacheKey, now + 2 * MIKEY_MAX_CLOCK_SKEW_MS); // RFC 3830 §5.4: kept past the skew window
    const media = await bindLoopback();
    this.#openCall(callId, 'incoming', accepted.initiatorUri, media, keys);
    const answer = [`ANSWER ${accepted.initiatorUri}`, `From: ${this.uri}`, `Call-ID: ${callId}`, `Media: 127.0.0.1:${addressOf(media).port}`, ''].join('\r\n');
    await sendDatagram(this.#signalling, utf8.encode(answer), this.#opts.network.signallingAddress);
  }
}
