// The web client's calls (docs/protocol/11): places and answers calls through the SDK (which runs the
// key agreement over the session and hands the SFrame keys to the media), drives the call panel
// (src/views/call.ts), and records voicemails. One call at a time; the SDK answers a second offer with
// `busy` (§11.6). src/app.ts creates one controller per unlocked session and disposes of it on lock.
import type { Call, CallEndReason, IncomingCall, SentMessage, SottoClient } from '@sotto/client';
import { describeError } from '../describe-error.ts';
import { MAX_VOICEMAIL_RECORDING_MS } from '../limits.ts';
import type { CallPanel, CallScreen } from '../views/call.ts';
import { BrowserCallMedia, CALL_AUDIO_CONSTRAINTS, startSframeWorker, turnIceServers, type BrowserCallMediaOptions } from './media.ts';
import { formatDuration, microphoneProblem, sasMatchedText } from './texts.ts';

/** What the recorder asks MediaRecorder for, and the MIME type the voicemail is sent as. */
export const VOICEMAIL_RECORDER_MIME = 'audio/webm;codecs=opus';
export const VOICEMAIL_MIME = 'audio/webm';

/** Test hooks (shared/notes/browser-calls.md): present only when a test defines
 *  `globalThis.__sottoCallTestHooks` before the page loads (an init script); the app never creates it.
 *  They can only weaken this device's own call (relay-only ICE, a wrong receive key, a shorter ring) and
 *  read counters. */
export interface CallTestHooks {
  readonly media?: Pick<BrowserCallMediaOptions, 'iceTransportPolicy' | 'testWrongReceiveKey'>;
  /** How long this device's outgoing calls ring before they end as `timeout` — the SDK's
   *  `placeCall(…, { ringMs })`, 1000 ms up to CALL_RING_TIMEOUT_MS (45 s, docs/protocol/11 §11.6) —
   *  so a test of an unanswered call (then a voicemail) need not wait 45 s. */
  readonly ringMs?: number;
  created?(media: BrowserCallMedia, info: { readonly peer: string; readonly role: 'caller' | 'callee' }): void;
}

/** 16 random bytes in base64url: a call id (docs/protocol/11 §11.1). */
function freshCallId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function testHooks(): CallTestHooks | undefined {
  const hooks = (globalThis as { __sottoCallTestHooks?: unknown }).__sottoCallTestHooks;
  return typeof hooks === 'object' && hooks !== null ? hooks : undefined;
}

export interface CallEnvironment {
  /** The contact list changed (a SAS match verified the peer). */
  contactsChanged(): Promise<void>;
  /** Whether a call (or the recorder) holds the microphone: the Call buttons follow it. */
  busyChanged(busy: boolean): void;
  /** A short line for screen readers. */
  announce(text: string): void;
  /** A call from `peer` that nobody took (the caller gave up while it rang), for the history;
   *  `call` is the call's id (base64url). */
  missedCall(peer: string, call: string, at: number): void;
  /** A voicemail this user sent, for the conversation's history (`call`: the call it follows). */
  voicemailSent(peer: string, voicemail: { readonly size: number; readonly mime: string; readonly durationMs: number; readonly call: string }, sent: SentMessage): Promise<void>;
}

interface Live {
  readonly peer: string;
  readonly role: 'caller' | 'callee';
  media: BrowserCallMedia | undefined;
  call: Call | undefined;
  incoming: IncomingCall | undefined;
  sasNote: string | undefined;
  /** Set when the user hangs up before placeCall resolved. */
  abandoned: boolean;
  /** The callee's TURN credentials, asked for when the offer starts ringing (Accept then only opens
   *  the microphone); they live an hour (docs/protocol/11 §11.7), a ring at most 45 s. */
  iceServers?: Promise<RTCIceServer[]>;
  /** The callee's frame-encryption worker, started when the offer starts ringing so that its module and
   *  SFrame code are ready when the keys come right after Accept (docs/protocol/11 §11.1: they are derived
   *  then). The media takes it at Accept and terminates it at its end; #finish terminates one not taken. */
  worker?: Worker | undefined;
}

interface Recording {
  readonly peer: string;
  readonly call: string | undefined;
  readonly recorder: MediaRecorder;
  readonly stream: MediaStream;
  readonly started: number;
  readonly chunks: Blob[];
  send: boolean;
  timer: ReturnType<typeof setInterval> | undefined;
}

export class CallController {
  readonly #client: SottoClient;
  readonly #panel: CallPanel;
  readonly #env: CallEnvironment;
  #live: Live | undefined;
  #recording: Recording | undefined;
  /** The call a voicemail may follow (after a timeout or decline). */
  #lastUnanswered: { readonly peer: string; readonly call: string } | undefined;
  #stopIncoming: (() => void) | undefined;
  #disposed = false;

  constructor(client: SottoClient, panel: CallPanel, env: CallEnvironment) {
    this.#client = client;
    this.#panel = panel;
    this.#env = env;
  }

  /** Starts ringing for incoming calls (the SDK's listen loop must run). */
  start(): void {
    this.#stopIncoming = this.#client.onIncomingCall((ic) => {
      this.#incoming(ic);
    });
  }

  get busy(): boolean {
    return this.#live !== undefined || this.#recording !== undefined;
  }

  /** The panel's buttons. */
  readonly handlers = {
    accept: (): void => {
      void this.#accept();
    },
    decline: (): void => {
      const l = this.#live;
      if (l?.incoming === undefined) return;
      void l.incoming.decline().catch(() => undefined);
      this.#finish();
      this.#show({ kind: 'ended', peer: l.peer, reason: 'decline', by: 'local', canLeaveVoicemail: false });
    },
    hangUp: (): void => {
      const l = this.#live;
      if (l === undefined) return;
      if (l.call === undefined) {
        // Still opening the microphone or sending the offer: give up as soon as placeCall returns.
        l.abandoned = true;
        l.media?.close();
        void l.incoming?.decline().catch(() => undefined); // still ringing here: tell the caller
        this.#finish();
        this.#show({ kind: 'ended', peer: l.peer, reason: 'hangup', by: 'local', canLeaveVoicemail: false });
        return;
      }
      void l.call.hangUp().catch(() => undefined);
    },
    toggleMute: (): void => {
      const l = this.#live;
      if (l?.media === undefined) return;
      l.media.setMuted(!l.media.muted);
      this.#render();
    },
    confirmSas: (match: boolean): void => {
      void this.#confirmSas(match);
    },
    leaveVoicemail: (): void => {
      void this.#record();
    },
    stopRecording: (send: boolean): void => {
      const r = this.#recording;
      if (r === undefined) return;
      r.send = send;
      if (r.recorder.state !== 'inactive') r.recorder.stop();
    },
    dismiss: (): void => {
      this.#show({ kind: 'none' });
    },
  };

  /** Calls `peer`. */
  async place(peer: string): Promise<void> {
    if (this.busy || this.#disposed) return;
    const live: Live = { peer, role: 'caller', media: undefined, call: undefined, incoming: undefined, sasNote: undefined, abandoned: false };
    this.#begin(live);
    this.#show({ kind: 'call', peer, role: 'caller', state: 'dialing', sas: undefined, sasNote: undefined, muted: false });
    try {
      live.media = await this.#openMedia(peer, 'caller');
    } catch (e) {
      this.#failedToOpen(live, e);
      return;
    }
    if (this.#gaveUp(live)) {
      live.media.close();
      return;
    }
    let call: Call;
    try {
      const ringMs = testHooks()?.ringMs;
      call = await this.#client.placeCall(peer, live.media, ringMs === undefined ? {} : { ringMs });
    } catch (e) {
      live.media.close();
      if (this.#live !== live) return;
      this.#finish();
      this.#show({ kind: 'notice', title: `Call with ${peer}`, text: describeError(e, { action: 'send', contact: peer }), problem: true });
      return;
    }
    if (this.#gaveUp(live)) {
      void call.hangUp().catch(() => undefined);
      return;
    }
    live.call = call;
    this.#follow(live, call);
  }

  /** Ends whatever runs (lock, page close): hangs up, releases the microphone. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#stopIncoming?.();
    const l = this.#live;
    const r = this.#recording;
    if (r !== undefined) {
      r.send = false;
      if (r.recorder.state !== 'inactive') r.recorder.stop();
    }
    if (l !== undefined) {
      await (l.call?.hangUp() ?? l.incoming?.decline())?.catch(() => undefined);
      l.media?.close();
      l.worker?.terminate();
    }
    this.#live = undefined;
    this.#panel.show({ kind: 'none' });
  }

  // -------------------------------------------------------------------------------------------

  #incoming(ic: IncomingCall): void {
    if (this.#disposed || this.busy) {
      void ic.decline().catch(() => undefined);
      return;
    }
    const live: Live = { peer: ic.from, role: 'callee', media: undefined, call: undefined, incoming: ic, sasNote: undefined, abandoned: false, iceServers: turnIceServers(this.#client), worker: startSframeWorker() };
    this.#begin(live);
    this.#show({ kind: 'incoming', peer: ic.from });
    this.#env.announce(`${ic.from} is calling you`);
    void ic.cancelled.then((reason: CallEndReason) => {
      if (this.#live !== live || live.call !== undefined) return;
      this.#finish();
      this.#env.missedCall(ic.from, ic.id, Date.now());
      this.#show({ kind: 'ended', peer: ic.from, reason: reason === 'hangup' ? 'timeout' : reason, by: 'remote', canLeaveVoicemail: false });
    });
  }

  async #accept(): Promise<void> {
    const live = this.#live;
    const ic = live?.incoming;
    if (live === undefined || ic === undefined) return;
    this.#show({ kind: 'call', peer: live.peer, role: 'callee', state: 'connecting', sas: undefined, sasNote: undefined, muted: false });
    try {
      live.media = await this.#openMedia(live.peer, 'callee', live.iceServers, () => {
        const worker = live.worker ?? startSframeWorker();
        live.worker = undefined; // the media's from here
        return worker;
      });
    } catch (e) {
      void ic.decline().catch(() => undefined);
      this.#failedToOpen(live, e);
      return;
    }
    if (this.#gaveUp(live)) {
      live.media.close();
      return;
    }
    try {
      live.call = await ic.accept(live.media);
    } catch (e) {
      live.media.close();
      if (this.#live !== live) return;
      this.#finish();
      this.#show({ kind: 'notice', title: `Call with ${live.peer}`, text: describeError(e, { action: 'receive', contact: live.peer }), problem: true });
      return;
    }
    if (this.#gaveUp(live)) {
      void live.call.hangUp().catch(() => undefined);
      return;
    }
    this.#follow(live, live.call);
  }

  #follow(live: Live, call: Call): void {
    const stop = call.onState(() => {
      if (this.#live === live) this.#render();
    });
    const media = live.media;
    const stopConn = media?.onConnectionState((s) => {
      // ICE/DTLS gave up: nothing more will be heard, so end the call for both sides.
      if (s === 'failed' && this.#live === live) void call.hangUp().catch(() => undefined);
    });
    this.#render();
    void call.ended.then(({ reason, by }) => {
      stop();
      stopConn?.();
      media?.close();
      if (this.#live !== live) return;
      this.#finish();
      if (reason === 'sas-mismatch') {
        this.#show({ kind: 'mismatch', peer: live.peer, by });
        this.#env.announce(`Warning: the call with ${live.peer} was ended because the words did not match.`);
        return;
      }
      // Nobody took the call (§11.6): the caller may leave a voicemail.
      const canLeaveVoicemail = live.role === 'caller' && (reason === 'timeout' || (reason === 'decline' && by === 'remote'));
      if (canLeaveVoicemail) this.#lastUnanswered = { peer: live.peer, call: call.id };
      this.#show({ kind: 'ended', peer: live.peer, reason, by, canLeaveVoicemail });
    });
  }

  async #confirmSas(match: boolean): Promise<void> {
    const live = this.#live;
    const call = live?.call;
    if (live === undefined || call === undefined) return;
    try {
      await call.confirmSas(match);
    } catch (e) {
      live.sasNote = describeError(e, { action: 'verify', contact: live.peer });
      this.#render();
      return;
    }
    if (!match) return; // the call ends with sas-mismatch; #follow shows the warning
    live.sasNote = sasMatchedText(live.peer);
    this.#render();
    this.#env.announce(live.sasNote);
    await this.#env.contactsChanged().catch(() => undefined);
  }

  async #record(): Promise<void> {
    const target = this.#lastUnanswered;
    const peer = target?.peer ?? (this.#panel.screen.kind === 'ended' ? this.#panel.screen.peer : undefined);
    if (peer === undefined || this.busy) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: CALL_AUDIO_CONSTRAINTS, video: false });
    } catch (e) {
      this.#show({ kind: 'notice', title: `Voicemail for ${peer}`, text: microphoneProblem(e), problem: true });
      return;
    }
    const recorder = new MediaRecorder(stream, MediaRecorder.isTypeSupported(VOICEMAIL_RECORDER_MIME) ? { mimeType: VOICEMAIL_RECORDER_MIME } : {});
    const r: Recording = { peer, call: target?.call, recorder, stream, started: Date.now(), chunks: [], send: true, timer: undefined };
    r.timer = setInterval(() => {
      const elapsedMs = Date.now() - r.started;
      if (elapsedMs >= MAX_VOICEMAIL_RECORDING_MS && recorder.state !== 'inactive') recorder.stop();
      else if (this.#recording === r) this.#panel.show({ kind: 'recording', peer, elapsedMs, maxMs: MAX_VOICEMAIL_RECORDING_MS });
    }, 250);
    recorder.addEventListener('dataavailable', (ev) => {
      if (ev.data.size > 0) r.chunks.push(ev.data);
    });
    recorder.addEventListener('stop', () => {
      void this.#recorded(r);
    });
    this.#recording = r;
    this.#env.busyChanged(true);
    recorder.start(1_000);
    this.#show({ kind: 'recording', peer, elapsedMs: 0, maxMs: MAX_VOICEMAIL_RECORDING_MS });
  }

  async #recorded(r: Recording): Promise<void> {
    clearInterval(r.timer);
    for (const t of r.stream.getTracks()) t.stop();
    const durationMs = Math.min(Date.now() - r.started, MAX_VOICEMAIL_RECORDING_MS);
    this.#recording = undefined;
    this.#env.busyChanged(this.busy);
    if (!r.send || this.#disposed) {
      this.#show({ kind: 'none' });
      return;
    }
    const bytes = new Uint8Array(await new Blob(r.chunks, { type: VOICEMAIL_MIME }).arrayBuffer());
    this.#show({ kind: 'notice', title: `Voicemail for ${r.peer}`, text: 'Sending the voicemail…', problem: false });
    try {
      // Without an unanswered call to follow, the voicemail names a fresh call id (as the SDK would).
      const call = r.call ?? freshCallId();
      const sent = await this.#client.sendVoicemail(r.peer, { bytes, mime: VOICEMAIL_MIME, durationMs }, call);
      if (this.#lastUnanswered?.call === r.call) this.#lastUnanswered = undefined;
      await this.#env.voicemailSent(r.peer, { size: bytes.length, mime: VOICEMAIL_MIME, durationMs, call }, sent);
      this.#show({ kind: 'notice', title: `Voicemail for ${r.peer}`, text: `Voicemail sent to ${r.peer} (${formatDuration(durationMs)}).`, problem: false });
    } catch (e) {
      this.#show({ kind: 'notice', title: `Voicemail for ${r.peer}`, text: describeError(e, { action: 'send-file', contact: r.peer }), problem: true });
    }
  }

  /** `iceServers`: credentials asked for earlier (while ringing); else they are asked for now.
   *  `createWorker`: the frame-encryption worker started while ringing (the media's default otherwise). */
  async #openMedia(peer: string, role: 'caller' | 'callee', iceServers?: Promise<RTCIceServer[]>, createWorker?: () => Worker): Promise<BrowserCallMedia> {
    const hooks = testHooks();
    const media = await BrowserCallMedia.open({ audio: this.#panel.audio, iceServers: await (iceServers ?? turnIceServers(this.#client)), ...(createWorker === undefined ? {} : { createWorker }), ...(hooks?.media ?? {}) });
    hooks?.created?.(media, { peer, role });
    return media;
  }

  #failedToOpen(live: Live, e: unknown): void {
    if (this.#live !== live) return;
    this.#finish();
    const text = e instanceof DOMException ? microphoneProblem(e) : describeError(e, { action: 'send', contact: live.peer });
    this.#show({ kind: 'notice', title: `Call with ${live.peer}`, text, problem: true });
  }

  /** The user hung up while the call was being set up, or the app locked (set from other tasks). */
  #gaveUp(live: Live): boolean {
    return live.abandoned || this.#disposed;
  }

  #begin(live: Live): void {
    this.#live = live;
    this.#env.busyChanged(true);
  }

  #finish(): void {
    this.#live?.worker?.terminate(); // a callee's worker the media never took (declined, missed, failed)
    this.#live = undefined;
    this.#env.busyChanged(this.busy);
  }

  #render(): void {
    const l = this.#live;
    if (l?.call === undefined) return;
    const c = l.call;
    this.#show({ kind: 'call', peer: l.peer, role: l.role, state: c.state, sas: c.state === 'active' ? c.sas : undefined, sasNote: l.sasNote, muted: l.media?.muted ?? false });
  }

  #show(s: CallScreen): void {
    if (this.#disposed && s.kind !== 'none') return;
    this.#panel.show(s);
  }
}
