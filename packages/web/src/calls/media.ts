// The browser's side of a call (docs/protocol/11): an audio-only RTCPeerConnection whose frames are
// encrypted with SFrame (§11.5) by src/calls/sframe-worker.ts through RTCRtpScriptTransform, exposed
// to the SDK as its CallMedia (the SDK runs the key agreement and hands the SFrame keys over).
//
// Rules this file keeps (shared/notes/browser-calls.md):
// - The sender's and the receiver's transforms are attached when the transceiver is made, before any
//   offer or answer. A receiver transform attached later (say in `ontrack`) is silently ignored on a
//   sendrecv transceiver in Chromium (w3c/webrtc-encoded-transform#314), and then ciphertext would be
//   decoded as audio. So the callee too adds its track (and the transforms) before it applies the
//   offer, and the remote track is taken from the transceiver, not from `ontrack`.
// - No trickle: createOffer/acceptOffer return the whole SDP once ICE gathering has finished, since
//   the SDP is bound into the call transcript (§11.2.4).
// - Every SDP that leaves goes through stripAudioLevel (§11.2.4): the ssrc- and csrc-audio-level
//   header extensions would send voice levels in the clear.
// - Echo cancellation, noise suppression and automatic gain are off: noise suppression removes a
//   steady tone, which the tests use to tell the two voices apart.
import { stripAudioLevel } from '@sotto/protocol';
import type { CallMedia } from '@sotto/client';
import type { WorkerCounters, WorkerRequest, WorkerResponse } from './worker-messages.ts';

/** Longest wait for ICE gathering, in ms: host candidates come at once, a TURN allocation within a
 *  second or two; an unreachable TURN server must not hold the call forever — the SDP then carries
 *  what was gathered. */
export const ICE_GATHER_TIMEOUT_MS = 8_000;

export interface BrowserCallMediaOptions {
  /** Where the other person's voice plays (it must be in the document, or at least playable). */
  readonly audio: HTMLAudioElement;
  /** STUN/TURN servers (turnIceServers(client) for the server's TURN). */
  readonly iceServers?: readonly RTCIceServer[];
  /** 'relay' forces every path through TURN (tests of the TURN path). */
  readonly iceTransportPolicy?: RTCIceTransportPolicy;
  /** The microphone; default: getUserMedia with the processing above turned off. */
  readonly microphone?: MediaStream;
  /** The frame-encryption worker; default: the bundled src/calls/sframe-worker.ts. */
  readonly createWorker?: () => Worker;
  /** Test hook: replace the receive key by random bytes when the keys arrive, so that every received
   *  frame fails authentication (it changes nothing but this device's own decryption). */
  readonly testWrongReceiveKey?: boolean;
}

/** What the tests read while a call runs. */
export interface CallMediaStats {
  readonly connectionState: RTCPeerConnectionState;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly totalSamplesReceived: number;
  readonly audioLevel: number;
  /** The frame-encryption worker's counters (both directions). */
  readonly frames: WorkerCounters;
  /** Whether both the sender and the receiver transform are attached to the one transceiver. */
  readonly transformsAttached: boolean;
  /** The ICE candidate pair the media flows over (getStats: the transport's selectedCandidatePairId →
   *  candidate-pair → local-candidate / remote-candidate); undefined until one is selected. A pair
   *  whose two ends are `relay` carries every packet through the TURN server. */
  readonly selectedPair: SelectedCandidatePair | undefined;
}

/** One end of the selected candidate pair (W3C webrtc-stats RTCIceCandidateStats). */
export interface CandidateInfo {
  /** 'host' | 'srflx' | 'prflx' | 'relay'. */
  readonly candidateType: string;
  /** 'udp' | 'tcp'. */
  readonly protocol: string;
  readonly address: string | undefined;
  readonly port: number | undefined;
  /** For a local relay candidate: how this end reaches the TURN server ('udp' | 'tcp' | 'tls'). */
  readonly relayProtocol: string | undefined;
}

export interface SelectedCandidatePair {
  readonly local: CandidateInfo;
  readonly remote: CandidateInfo;
  readonly state: string;
}

type StatsEntry = Record<string, unknown>;

function candidateInfo(s: StatsEntry | undefined): CandidateInfo | undefined {
  if (s === undefined) return undefined;
  const str = (k: string): string | undefined => (typeof s[k] === 'string' ? s[k] : undefined);
  return { candidateType: str('candidateType') ?? '', protocol: str('protocol') ?? '', address: str('address') ?? str('ip'), port: typeof s['port'] === 'number' ? s['port'] : undefined, relayProtocol: str('relayProtocol') };
}

/** The selected pair from a stats report: through the transport's selectedCandidatePairId (the
 *  standard way), or the candidate pair marked `selected` (older Chromium). */
export function selectedCandidatePair(report: RTCStatsReport): SelectedCandidatePair | undefined {
  const byId = new Map<string, StatsEntry>();
  report.forEach((s: StatsEntry) => {
    if (typeof s['id'] === 'string') byId.set(s['id'], s);
  });
  let pair: StatsEntry | undefined;
  for (const s of byId.values()) {
    if (s['type'] === 'transport' && typeof s['selectedCandidatePairId'] === 'string') pair = byId.get(s['selectedCandidatePairId']);
  }
  pair ??= [...byId.values()].find((s) => s['type'] === 'candidate-pair' && s['selected'] === true);
  if (pair === undefined) return undefined;
  const local = candidateInfo(typeof pair['localCandidateId'] === 'string' ? byId.get(pair['localCandidateId']) : undefined);
  const remote = candidateInfo(typeof pair['remoteCandidateId'] === 'string' ? byId.get(pair['remoteCandidateId']) : undefined);
  if (local === undefined || remote === undefined) return undefined;
  return { local, remote, state: typeof pair['state'] === 'string' ? pair['state'] : '' };
}

/** The audio constraints of every call: the voice as captured, nothing removed. */
export const CALL_AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

/** The server's TURN servers as RTCIceServers; none when it has no TURN or cannot be asked (then
 *  calls still work between peers that reach each other directly). */
export async function turnIceServers(client: { turnServers(): Promise<readonly { urls: readonly string[]; username: string; credential: string }[]> }): Promise<RTCIceServer[]> {
  try {
    const servers = await client.turnServers();
    return servers.map((s) => ({ urls: [...s.urls], username: s.username, credential: s.credential }));
  } catch {
    return [];
  }
}

/** A new frame-encryption worker (src/calls/sframe-worker.ts). It loads its module and warms its SFrame
 *  code as soon as it starts, so a callee starts one while the phone rings (controller.ts). */
export function startSframeWorker(): Worker {
  return new Worker(new URL('./sframe-worker.ts', import.meta.url), { type: 'module', name: 'sotto-sframe' });
}

function countMediaSections(sdp: string): number {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith('m=')).length;
}

export class BrowserCallMedia implements CallMedia {
  readonly #pc: RTCPeerConnection;
  readonly #worker: Worker;
  readonly #microphone: MediaStream;
  readonly #transceiver: RTCRtpTransceiver;
  readonly #audio: HTMLAudioElement;
  readonly #remote: MediaStream;
  readonly #wrongReceiveKey: boolean;
  #nextId = 1;
  readonly #pending = new Map<number, (r: WorkerResponse) => void>();
  #closed = false;

  private constructor(opts: BrowserCallMediaOptions, microphone: MediaStream) {
    this.#audio = opts.audio;
    this.#microphone = microphone;
    this.#wrongReceiveKey = opts.testWrongReceiveKey === true;
    this.#pc = new RTCPeerConnection({
      iceServers: [...(opts.iceServers ?? [])],
      iceTransportPolicy: opts.iceTransportPolicy ?? 'all',
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
    });
    this.#worker = (opts.createWorker ?? startSframeWorker)();
    this.#worker.onmessage = (ev: MessageEvent<WorkerResponse>) => {
      const done = this.#pending.get(ev.data.id);
      this.#pending.delete(ev.data.id);
      done?.(ev.data);
    };
    const track = microphone.getAudioTracks()[0];
    if (track === undefined) throw new TypeError('expected a microphone stream with an audio track');
    // addTrack (not addTransceiver): for the callee, setRemoteDescription(offer) reuses a transceiver
    // made by addTrack for the offer's audio section (JSEP §5.10), so the transforms below stay on it.
    const sender = this.#pc.addTrack(track, microphone);
    const transceiver = this.#pc.getTransceivers().find((t) => t.sender === sender);
    if (transceiver === undefined) throw new Error('expected the transceiver of the added track');
    this.#transceiver = transceiver;
    transceiver.sender.transform = new RTCRtpScriptTransform(this.#worker, { side: 'send' });
    transceiver.receiver.transform = new RTCRtpScriptTransform(this.#worker, { side: 'receive' });
    // The remote track exists from now on (muted until media flows): no need for ontrack.
    this.#remote = new MediaStream([transceiver.receiver.track]);
    this.#audio.srcObject = this.#remote;
  }

  /** Opens the microphone (unless given) and prepares the connection with its transforms. */
  static async open(opts: BrowserCallMediaOptions): Promise<BrowserCallMedia> {
    const microphone = opts.microphone ?? (await navigator.mediaDevices.getUserMedia({ audio: CALL_AUDIO_CONSTRAINTS, video: false }));
    try {
      return new BrowserCallMedia(opts, microphone);
    } catch (e) {
      if (opts.microphone === undefined) for (const t of microphone.getTracks()) t.stop();
      throw e;
    }
  }

  /** The other person's audio (what the <audio> element plays). */
  get remoteStream(): MediaStream {
    return this.#remote;
  }

  get connectionState(): RTCPeerConnectionState {
    return this.#pc.connectionState;
  }

  /** Calls `cb` on every connection state change; returns the unsubscribe. */
  onConnectionState(cb: (s: RTCPeerConnectionState) => void): () => void {
    const listener = (): void => {
      cb(this.#pc.connectionState);
    };
    this.#pc.addEventListener('connectionstatechange', listener);
    return () => {
      this.#pc.removeEventListener('connectionstatechange', listener);
    };
  }

  async createOffer(): Promise<string> {
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    return this.#localSdp();
  }

  async acceptOffer(offerSdp: string): Promise<string> {
    if (countMediaSections(offerSdp) !== 1) throw new Error('expected an offer with exactly one (audio) media section');
    await this.#pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    this.#checkTransceivers();
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    const sdp = await this.#localSdp();
    this.#play();
    return sdp;
  }

  async acceptAnswer(answerSdp: string): Promise<void> {
    if (countMediaSections(answerSdp) !== 1) throw new Error('expected an answer with exactly one (audio) media section');
    await this.#pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    this.#checkTransceivers();
    this.#play();
  }

  async setKeys(keys: { send: { kid: number; baseKey: Uint8Array }; receive: { kid: number; baseKey: Uint8Array } }): Promise<void> {
    // Copies go to the worker (transferred, so none stays here); the SDK erases its own.
    const send = keys.send.baseKey.slice();
    const receive = this.#wrongReceiveKey ? crypto.getRandomValues(new Uint8Array(keys.receive.baseKey.length)) : keys.receive.baseKey.slice();
    const r = await this.#ask({ type: 'keys', id: this.#nextId++, send: { kid: keys.send.kid, baseKey: send }, receive: { kid: keys.receive.kid, baseKey: receive } }, [send.buffer, receive.buffer]);
    if (r.type !== 'keyed') throw new Error('the frame-encryption worker could not take the call keys');
  }

  /** Mute sends silence (still encrypted) rather than stopping the stream, so unmuting is instant. */
  setMuted(muted: boolean): void {
    for (const t of this.#microphone.getAudioTracks()) t.enabled = !muted;
  }

  get muted(): boolean {
    return this.#microphone.getAudioTracks().every((t) => !t.enabled);
  }

  /** getStats and the worker's counters, for tests and diagnostics. */
  async stats(): Promise<CallMediaStats> {
    const [report, frames] = await Promise.all([this.#pc.getStats(), this.#frames()]);
    let packetsSent = 0;
    let packetsReceived = 0;
    let totalSamplesReceived = 0;
    let audioLevel = 0;
    report.forEach((s: Record<string, unknown>) => {
      if (s['kind'] !== 'audio') return;
      if (s['type'] === 'outbound-rtp') packetsSent += Number(s['packetsSent'] ?? 0);
      if (s['type'] === 'inbound-rtp') {
        packetsReceived += Number(s['packetsReceived'] ?? 0);
        totalSamplesReceived += Number(s['totalSamplesReceived'] ?? 0);
        audioLevel = Math.max(audioLevel, Number(s['audioLevel'] ?? 0));
      }
    });
    const t = this.#transceiver;
    return {
      connectionState: this.#pc.connectionState,
      packetsSent,
      packetsReceived,
      totalSamplesReceived,
      audioLevel,
      frames,
      transformsAttached: t.sender.transform !== null && t.receiver.transform !== null && frames.transforms === 2,
      selectedPair: selectedCandidatePair(report),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    for (const t of this.#microphone.getTracks()) t.stop();
    this.#pc.close();
    this.#audio.pause();
    this.#audio.srcObject = null;
    for (const done of this.#pending.values()) done({ type: 'key-failed', id: 0 });
    this.#pending.clear();
    // Let the close message land before the worker goes (it drops the SFrame contexts).
    setTimeout(() => {
      this.#worker.terminate();
    }, 0);
  }

  #play(): void {
    // Started from the user's click (call or accept), so autoplay rules allow it; if a browser
    // refuses anyway, the <audio> element's own controls let the user start it.
    this.#audio.play().catch(() => undefined);
  }

  /** JSEP applied a remote description: still exactly our one transceiver, with both transforms. */
  #checkTransceivers(): void {
    const all = this.#pc.getTransceivers();
    if (all.length !== 1 || all[0] !== this.#transceiver || this.#transceiver.receiver.transform === null || this.#transceiver.sender.transform === null) {
      throw new Error('expected the one audio transceiver with its frame-encryption transforms');
    }
  }

  async #localSdp(): Promise<string> {
    await this.#gathered();
    const sdp = this.#pc.localDescription?.sdp;
    if (sdp === undefined) throw new Error('expected a local description');
    return stripAudioLevel(sdp);
  }

  #gathered(): Promise<void> {
    const pc = this.#pc;
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = (): void => {
        if (pc.iceGatheringState === 'complete') done();
      };
      const timer = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** The frame-encryption worker's counters alone (cheaper than stats(): no getStats). */
  frames(): Promise<WorkerCounters> {
    return this.#frames();
  }

  async #frames(): Promise<WorkerCounters> {
    const r = await this.#ask({ type: 'stats', id: this.#nextId++ });
    if (r.type !== 'stats') return { encrypted: 0, decrypted: 0, failed: 0, droppedUnkeyed: 0, droppedUnkeyedReceived: 0, passedEmpty: 0, transforms: 0, firstDecryptedAt: 0 };
    return r.counters;
  }

  #ask(req: Extract<WorkerRequest, { id: number }>, transfer: Transferable[] = []): Promise<WorkerResponse> {
    if (this.#closed) return Promise.resolve({ type: 'key-failed', id: req.id });
    return new Promise((resolve) => {
      this.#pending.set(req.id, resolve);
      this.#worker.postMessage(req, transfer);
    });
  }
}
