// The CLI's CallMedia (packages/client/src/calls/types.ts): a werift RTCPeerConnection carrying one
// audio-only sendrecv Opus transceiver, with SFrame (RFC 9605, docs/protocol/11 §11.5) on every RTP
// payload. The SDK does the signalling and the key agreement; this class does the media.
//
// - ICE: only the servers given (the account's TURN credentials from client.turnServers(), or none):
//   werift's default would contact a public STUN server. 127.0.0.1 is added as a host address, since
//   werift skips loopback otherwise (shared/notes/browser-calls.md). No trickle: createOffer and
//   acceptOffer return the SDP once gathering is complete (§11.2.4), with the audio-level header
//   extensions removed (stripAudioLevel).
// - Sending: every 20 ms one frame of mono 48 kHz PCM is taken from `source`, Opus-encoded (one
//   frame = one RTP payload, RFC 7587 §4.2), encrypted with SframeSender (KID = our role's, CTR from
//   0) and sent as one RTP packet: sequence number +1 per packet (from a random start, RFC 3550
//   §5.1), timestamp +960 per frame (48 kHz clock, RFC 7587 §4.1), marker bit on the first packet (the
//   start of a talk spurt, RFC 3551 §4.1). Nothing is sent before setKeys() and before DTLS is up.
// - Receiving: each RTP payload goes through SframeReceiver (the peer's KID only); a frame that fails
//   (malformed, unknown KID, replay, bad tag), or arrives before setKeys(), is dropped and counted —
//   never given to the Opus decoder, where ciphertext plays as loud noise. Zero-length payloads pass
//   through SFrame untouched and are not decoded. Decoded audio goes to `onAudio` with its position in
//   samples since the first received frame (from the RTP timestamp), so a recorder can place it.
//
// Usable directly from a test (a browser↔CLI interop test, two instances in one process):
// packages/cli/test/cli-call-media.test.ts shows the recipe.
import { randomInt } from 'node:crypto';
import { nodeProvider } from '@sotto/crypto';
import { SframeReceiver, SframeSender, stripAudioLevel, type CryptoProvider } from '@sotto/protocol';
import type { CallMedia, CallMediaKey } from '@sotto/client';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type MediaStreamTrack, type RTCRtpTransceiver } from 'werift';
import { FRAME_MS, FRAME_SAMPLES, OpusDecoder, OpusEncoder } from './opus.ts';

/** An ICE server as RTCIceServer has it (what client.turnServers() returns). */
export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export type MediaConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface WeriftCallMediaOptions {
  /** ICE servers (TURN from client.turnServers()); default none: host candidates only. */
  readonly iceServers?: readonly IceServer[];
  /** Fills the next 20 ms (FRAME_SAMPLES mono samples at 48 kHz; the array arrives zeroed). Default: silence. */
  readonly source?: (frame: Int16Array) => void;
  /** Decoded received audio, mono 48 kHz; `at` is its position in samples since the first received frame. */
  readonly onAudio?: (samples: Int16Array, at: number) => void;
  /** Every change of the peer connection's state. */
  readonly onConnectionState?: (state: MediaConnectionState) => void;
  /** For SFrame; default @sotto/crypto's Node provider. */
  readonly crypto?: CryptoProvider;
  /** Host addresses werift adds to its candidates; default ['127.0.0.1'] (loopback, which it skips otherwise). */
  readonly additionalHostAddresses?: readonly string[];
}

/** What happened to the media so far; frames, not bytes. */
export interface WeriftCallMediaStats {
  /** RTP packets handed to werift (after DTLS came up). */
  readonly sent: number;
  /** Received frames that SFrame authenticated and Opus decoded. */
  readonly received: number;
  /** Received frames dropped: SFrame failures (the receiver's count) plus those before setKeys(). */
  readonly dropped: number;
  /** Authenticated frames libopus refused, or that came too late to place. */
  readonly undecodable: number;
  /** Frames that could not be sent (werift refused the packet while closing). */
  readonly sendFailed: number;
}

/** A source that plays `samples` (mono 48 kHz) once, then silence. */
export function pcmSource(samples: Int16Array): (frame: Int16Array) => void {
  let at = 0;
  return (frame) => {
    if (at >= samples.length) return;
    const part = samples.subarray(at, at + frame.length);
    frame.set(part);
    at += part.length;
  };
}

const OPUS = (): RTCRtpCodecParameters => new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 }); // RFC 7587 §7: always opus/48000/2

export class WeriftCallMedia implements CallMedia {
  readonly #pc: RTCPeerConnection;
  readonly #crypto: CryptoProvider;
  readonly #source: (frame: Int16Array) => void;
  readonly #onAudio: ((samples: Int16Array, at: number) => void) | undefined;
  readonly #onState: ((state: MediaConnectionState) => void) | undefined;
  #transceiver: RTCRtpTransceiver | undefined;
  #sender: SframeSender | undefined;
  #receiver: SframeReceiver | undefined;
  #encoder: OpusEncoder | undefined;
  #decoder: OpusDecoder | undefined;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #framesDue = 0;
  #sendChain: Promise<void> = Promise.resolve();
  #receiveChain: Promise<void> = Promise.resolve();
  // RTP state of the sending side (RFC 3550 §5.1: random initial sequence number and timestamp).
  #seq = randomInt(0, 0x10000);
  #timestamp = randomInt(0, 0x1_0000_0000);
  #first = true;
  // Receiving side: the last RTP timestamp placed, and its position in samples.
  #lastTs: number | undefined;
  #lastAt = 0;
  #sent = 0;
  #received = 0;
  #droppedEarly = 0;
  #undecodable = 0;
  #sendFailed = 0;
  #closed = false;
  #connected: Promise<void>;
  #resolveConnected: () => void = () => undefined;
  #rejectConnected: (e: Error) => void = () => undefined;

  constructor(opts: WeriftCallMediaOptions = {}) {
    this.#crypto = opts.crypto ?? nodeProvider;
    this.#source = opts.source ?? ((): void => undefined);
    this.#onAudio = opts.onAudio;
    this.#onState = opts.onConnectionState;
    this.#connected = new Promise<void>((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#connected.catch(() => undefined); // observed through whenConnected() only
    this.#pc = new RTCPeerConnection({
      iceServers: (opts.iceServers ?? []).map((s) => ({
        urls: typeof s.urls === 'string' ? s.urls : [...s.urls],
        ...(s.username === undefined ? {} : { username: s.username }),
        ...(s.credential === undefined ? {} : { credential: s.credential }),
      })),
      iceAdditionalHostAddresses: [...(opts.additionalHostAddresses ?? ['127.0.0.1'])],
      codecs: { audio: [OPUS()] },
      headerExtensions: { audio: [] },
    });
    this.#pc.onTrack.subscribe((track) => {
      this.#onTrack(track);
    });
    this.#pc.connectionStateChange.subscribe((state) => {
      this.#onState?.(state);
      if (state === 'connected') {
        this.#resolveConnected();
        this.#maybeStart();
      } else if (state === 'failed' || state === 'closed') {
        this.#rejectConnected(new Error(`the media connection ${state}`));
      }
    });
  }

  /** Resolves when DTLS is up; rejects if the connection fails or closes first. */
  whenConnected(): Promise<void> {
    return this.#connected;
  }

  get connectionState(): MediaConnectionState {
    return this.#pc.connectionState;
  }

  get stats(): WeriftCallMediaStats {
    const failed = this.#receiver?.stats.failed ?? 0;
    return { sent: this.#sent, received: this.#received, dropped: failed + this.#droppedEarly, undecodable: this.#undecodable, sendFailed: this.#sendFailed };
  }

  // --- CallMedia -------------------------------------------------------------------------------

  async createOffer(): Promise<string> {
    this.#checkOpen();
    this.#watch(this.#pc.addTransceiver('audio', { direction: 'sendrecv' }));
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    return this.#completeLocalSdp();
  }

  async acceptOffer(offerSdp: string): Promise<string> {
    this.#checkOpen();
    await this.#pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const audio = this.#pc.getTransceivers().filter((t) => t.kind === 'audio');
    const first = audio[0];
    if (audio.length !== 1 || first === undefined) throw new Error(`the offer has ${audio.length} audio sections; a Sotto call has exactly one`);
    first.setDirection('sendrecv');
    this.#watch(first);
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    return this.#completeLocalSdp();
  }

  async acceptAnswer(answerSdp: string): Promise<void> {
    this.#checkOpen();
    await this.#pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  async setKeys(keys: { send: CallMediaKey; receive: CallMediaKey }): Promise<void> {
    this.#checkOpen();
    if (this.#sender !== undefined) throw new Error('WeriftCallMedia: setKeys() was called already');
    const [sender, receiver] = await Promise.all([
      SframeSender.create(this.#crypto, { kid: keys.send.kid, baseKey: keys.send.baseKey }),
      SframeReceiver.create(this.#crypto, { kid: keys.receive.kid, baseKey: keys.receive.baseKey }),
    ]);
    this.#sender = sender;
    this.#receiver = receiver;
    this.#maybeStart();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#rejectConnected(new Error('the media was closed'));
    void this.#pc.close().catch(() => undefined);
    // The codecs are freed once the queued frames are through (they may still be encoding).
    void Promise.allSettled([this.#sendChain, this.#receiveChain]).then(() => {
      this.#encoder?.close();
      this.#decoder?.close();
    });
  }

  // --- internals -------------------------------------------------------------------------------

  /** Read through a method: #closed changes while a frame awaits its encryption. */
  #isClosed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('WeriftCallMedia: used after close()');
  }

  /** Waits for ICE gathering to finish (no trickle, §11.2.4), then the local SDP without audio level. */
  async #completeLocalSdp(): Promise<string> {
    if (this.#pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const { unSubscribe } = this.#pc.iceGatheringStateChange.subscribe((s) => {
          if (s === 'complete') {
            unSubscribe();
            resolve();
          }
        });
        if (this.#pc.iceGatheringState === 'complete') {
          unSubscribe();
          resolve();
        }
      });
    }
    const sdp = this.#pc.localDescription?.sdp;
    if (sdp === undefined) throw new Error('werift produced no local description');
    return stripAudioLevel(sdp);
  }

  #watch(transceiver: RTCRtpTransceiver): void {
    this.#transceiver = transceiver;
  }

  /** The remote track: subscribed from the constructor, since werift fires it during setRemoteDescription. */
  #onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'audio') return;
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      const payload = new Uint8Array(rtp.payload);
      const ts = rtp.header.timestamp;
      this.#receiveChain = this.#receiveChain.then(() => this.#receive(payload, ts)).catch(() => {
        this.#undecodable++; // the onAudio callback failed: the frame is lost, the call goes on
      });
    });
  }

  /** Starts the 20 ms clock once both the keys and the DTLS connection are there. */
  #maybeStart(): void {
    if (this.#closed || this.#timer !== undefined || this.#sender === undefined || this.#pc.connectionState !== 'connected') return;
    this.#encoder = new OpusEncoder();
    this.#startedAt = performance.now();
    this.#framesDue = 0;
    // A 20 ms interval drifts and bunches; each tick sends as many frames as the wall clock says are due.
    this.#timer = setInterval(() => {
      this.#tick();
    }, FRAME_MS / 2);
    this.#tick();
  }

  #tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / FRAME_MS) + 1;
    while (this.#framesDue < due && !this.#closed) {
      this.#framesDue++;
      const frame = new Int16Array(FRAME_SAMPLES);
      this.#source(frame);
      this.#sendChain = this.#sendChain.then(() => this.#send(frame)).catch(() => {
        this.#sendFailed++; // werift refused the packet (closing), or the CTR ran out: the frame is lost
      });
    }
  }

  async #send(frame: Int16Array): Promise<void> {
    const sender = this.#sender;
    const encoder = this.#encoder;
    const transceiver = this.#transceiver;
    if (this.#closed || sender === undefined || encoder === undefined || transceiver === undefined) return;
    const encrypted = await sender.encrypt(encoder.encode(frame));
    if (this.#isClosed()) return; // closed while encrypting
    const header = new RtpHeader({ sequenceNumber: this.#seq, timestamp: this.#timestamp, marker: this.#first, payloadType: 0 }); // werift sets the negotiated payload type
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0;
    this.#first = false;
    await transceiver.sender.sendRtp(new RtpPacket(header, Buffer.from(encrypted)));
    this.#sent++;
  }

  async #receive(payload: Uint8Array, ts: number): Promise<void> {
    if (this.#closed) return;
    const receiver = this.#receiver;
    if (receiver === undefined) {
      this.#droppedEarly++; // before setKeys: nothing can be authenticated
      return;
    }
    let frame: Uint8Array;
    try {
      frame = await receiver.decrypt(payload);
    } catch {
      return; // dropped and counted by the receiver (ERR_SFRAME_*)
    }
    if (frame.length === 0 || this.#isClosed()) return;
    // RTP timestamps wrap at 2^32 (RFC 3550 §5.1): the signed 32-bit difference from the last one.
    let at = 0;
    if (this.#lastTs !== undefined) {
      const delta = (ts - this.#lastTs) | 0;
      if (delta <= 0) {
        this.#undecodable++; // late or duplicated in transit: already past where it belongs
        return;
      }
      at = this.#lastAt + delta;
    }
    let samples: Int16Array;
    try {
      this.#decoder ??= new OpusDecoder();
      samples = this.#decoder.decode(frame);
    } catch {
      this.#undecodable++;
      return;
    }
    this.#lastTs = ts;
    this.#lastAt = at;
    this.#received++;
    this.#onAudio?.(samples, at);
  }
}
