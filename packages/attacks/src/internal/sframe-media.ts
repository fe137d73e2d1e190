// The media endpoint of the Sotto-calls scenarios: a `CallMedia` (@sotto/client) that does what a real
// endpoint's encoded-frame transform does (docs/protocol/11 §11.5), over mallory's relay (src/mallory/call-relay.ts).
//
//   * SDP: realistic WebRTC audio SDP text with this endpoint's own `a=fingerprint:sha-256` (32 random bytes
//     standing in for the SHA-256 of its DTLS certificate) and one ICE candidate, the relayed address mallory's
//     relay allocated for it (`typ relay`), as a browser behind TURN would offer. The peer's SDP says where to
//     send.
//   * After `setKeys`, each "spoken frame" — a short UTF-8 transcript payload standing in for one Opus frame,
//     so that what an attacker recovers can be checked against what was said, as in the MIKEY-SAKKE model — is
//     encrypted with the protocol's SframeSender (KID and base key from the SDK) and sent as one UDP datagram.
//   * Received datagrams go through the protocol's SframeReceiver, which knows only the peer's KID: a frame that
//     decrypts is "played" (recorded in `played`); one that does not is dropped and counted by its error code
//     (ERR_SFRAME_*), never played. Frames before the keys arrive are dropped as `no keys`.
//
// `revealKeys` is the scoring's test-only window on the call secrets (the setKeys argument, copied): the ground
// truth the provider-compromise and device-key-theft scenarios search the attacker's loot for. No attacker code
// reads it. Not modelled: Opus, RTP/RTCP, ICE checks and the DTLS-SRTP layer WebRTC puts around every frame
// (tested with real WebRTC in packages/web and packages/cli); a datagram carries one SFrame frame and nothing
// else, the worst case for the endpoints.
import type { Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { CallMedia, CallMediaKey } from '@sotto/client';
import { fastProvider } from '@sotto/crypto';
import { isProtocolError, SframeReceiver, SframeSender } from '@sotto/protocol';
import { AttacksError } from '../errors.ts';
import { addressKey, parseAddress, sendDatagram, type UdpAddress } from '../mallory/mikey-network.ts';
import type { CallRelay } from '../mallory/call-relay.ts';
import { bindLoopback } from './udp.ts';

/** What the scoring learns through `revealKeys` (copies; the SDK erases its own at the end of the call). */
export interface RevealedCallKeys {
  readonly media: string;
  readonly send: CallMediaKey;
  readonly receive: CallMediaKey;
}

/** The reason recorded for a frame that arrived before the call's keys. */
export const NO_KEYS = 'no keys';

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/** RFC 8839 §5.1 / RFC 8445 §5.1.2: a relayed candidate's priority (type preference 0). */
const RELAY_PRIORITY = 16_777_215;

function sdp(opts: { fingerprint: Uint8Array; type: 'offer' | 'answer'; relayed: UdpAddress; ufrag: string; pwd: string; sessionId: bigint }): string {
  const { relayed } = opts;
  return [
    'v=0',
    `o=- ${opts.sessionId} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
    `m=audio ${relayed.port} UDP/TLS/RTP/SAVPF 111 0 8 110`,
    `c=IN IP4 ${relayed.address}`,
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:3 1 udp ${RELAY_PRIORITY} ${relayed.address} ${relayed.port} typ relay raddr 0.0.0.0 rport 0 generation 0`,
    `a=ice-ufrag:${opts.ufrag}`,
    `a=ice-pwd:${opts.pwd}`,
    `a=fingerprint:sha-256 ${[...opts.fingerprint].map(hex2).join(':')}`,
    `a=setup:${opts.type === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:0',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:110 telephone-event/48000',
    `a=ssrc:${opts.sessionId % 4_294_967_295n} cname:${opts.ufrag}`,
  ].join('\r\n') + '\r\n';
}

/** The relayed candidate an SDP names (where to send media to that endpoint). */
export function relayedAddressOf(sdpText: string): UdpAddress | undefined {
  const m = /^a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ relay\b/m.exec(sdpText);
  return m === null ? undefined : parseAddress(`${m[1] ?? ''}:${m[2] ?? ''}`);
}

export class SframeMedia implements CallMedia {
  readonly name: string;
  readonly fingerprint = new Uint8Array(randomBytes(32));
  /** Transcripts of the frames that decrypted, in arrival order: what this endpoint's user heard. */
  readonly played: string[] = [];
  /** Frames dropped, by reason (ERR_SFRAME_* or NO_KEYS). */
  readonly dropped = new Map<string, number>();
  /** What this endpoint's SDK asked of it, in order (createOffer, acceptOffer, acceptAnswer, setKeys, close). */
  readonly calls: string[] = [];
  /** Frames this endpoint encrypted and sent. */
  sent = 0;
  offerSdp: string | undefined;
  answerSdp: string | undefined;
  remoteSdp: string | undefined;
  closed = false;
  /** Called with each played transcript (mallory's bridge uses it to re-speak a frame on its other leg). */
  onPlayed: ((text: string) => void) | undefined;
  readonly #socket: Socket;
  readonly #relayed: UdpAddress;
  readonly #ufrag = randomBytes(6).toString('base64url');
  readonly #pwd = randomBytes(18).toString('base64url');
  readonly #sessionId = randomBytes(6).readUIntBE(0, 6);
  readonly #revealKeys: ((keys: RevealedCallKeys) => void) | undefined;
  #remote: UdpAddress | undefined;
  #sender: SframeSender | undefined;
  #receiver: SframeReceiver | undefined;
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown;

  private constructor(name: string, socket: Socket, relayed: UdpAddress, revealKeys: ((keys: RevealedCallKeys) => void) | undefined) {
    this.name = name;
    this.#socket = socket;
    this.#relayed = relayed;
    this.#revealKeys = revealKeys;
    socket.on('message', (msg) => {
      const bytes = new Uint8Array(msg);
      this.#queue = this.#queue.then(() => this.#receive(bytes)).catch((e: unknown) => {
        this.#failure ??= e;
      });
    });
  }

  /** An endpoint with its own UDP socket and an allocation on `relay` that forwards to it. */
  static async open(relay: CallRelay, name: string, opts: { revealKeys?: (keys: RevealedCallKeys) => void } = {}): Promise<SframeMedia> {
    const socket = await bindLoopback();
    const a = socket.address();
    const relayed = await relay.allocate({ address: a.address, port: a.port });
    return new SframeMedia(name, socket, relayed, opts.revealKeys);
  }

  /** This endpoint's relayed address on mallory's relay ("127.0.0.1:port"). */
  get allocation(): string {
    return addressKey(this.#relayed);
  }

  /** Whether it holds the call's SFrame keys (setKeys ran and close did not). */
  get keyed(): boolean {
    return this.#sender !== undefined;
  }

  /** Frames received so far: played or dropped. */
  get handled(): number {
    let n = this.played.length;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  droppedAs(reason: string): number {
    return this.dropped.get(reason) ?? 0;
  }

  #sdp(type: 'offer' | 'answer'): string {
    return sdp({ fingerprint: this.fingerprint, type, relayed: this.#relayed, ufrag: this.#ufrag, pwd: this.#pwd, sessionId: BigInt(this.#sessionId) });
  }

  #setRemote(remote: string): void {
    this.remoteSdp = remote;
    const to = relayedAddressOf(remote);
    if (to === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'the remote SDP names no relayed candidate');
    this.#remote = to;
  }

  createOffer(): Promise<string> {
    this.calls.push('createOffer');
    this.offerSdp = this.#sdp('offer');
    return Promise.resolve(this.offerSdp);
  }

  acceptOffer(offerSdp: string): Promise<string> {
    this.calls.push('acceptOffer');
    try {
      this.#setRemote(offerSdp);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    this.answerSdp = this.#sdp('answer');
    return Promise.resolve(this.answerSdp);
  }

  acceptAnswer(answerSdp: string): Promise<void> {
    this.calls.push('acceptAnswer');
    try {
      this.#setRemote(answerSdp);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return Promise.resolve();
  }

  async setKeys(keys: { send: CallMediaKey; receive: CallMediaKey }): Promise<void> {
    this.calls.push('setKeys');
    this.#revealKeys?.({ media: this.name, send: { kid: keys.send.kid, baseKey: keys.send.baseKey.slice() }, receive: { kid: keys.receive.kid, baseKey: keys.receive.baseKey.slice() } });
    this.#sender = await SframeSender.create(fastProvider, { kid: keys.send.kid, baseKey: keys.send.baseKey });
    this.#receiver = await SframeReceiver.create(fastProvider, { kid: keys.receive.kid, baseKey: keys.receive.baseKey });
  }

  /** The call ended: the SFrame state (and with it the derived keys) goes; the socket closes. */
  close(): void {
    this.calls.push('close');
    if (this.closed) return;
    this.closed = true;
    this.#sender = undefined;
    this.#receiver = undefined;
    this.#socket.close();
  }

  /** Encrypts one spoken frame and sends it to the peer's relayed address; false (nothing sent) without keys. */
  async speak(text: string): Promise<boolean> {
    const sender = this.#sender;
    const to = this.#remote;
    if (sender === undefined || to === undefined || this.closed) return false;
    const frame = await sender.encrypt(new TextEncoder().encode(text));
    await sendDatagram(this.#socket, frame, to);
    this.sent++;
    return true;
  }

  /** Throws the first failure of the receive path that was not an SFrame rejection. */
  checkHealthy(): void {
    if (this.#failure !== undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', `media ${this.name} failed`, { cause: this.#failure });
  }

  #drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  async #receive(bytes: Uint8Array): Promise<void> {
    const receiver = this.#receiver;
    if (receiver === undefined) {
      this.#drop(NO_KEYS);
      return;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = await receiver.decrypt(bytes);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.#drop(e.code);
      return;
    }
    const text = new TextDecoder().decode(plaintext);
    this.played.push(text);
    this.onPlayed?.(text);
  }
}
