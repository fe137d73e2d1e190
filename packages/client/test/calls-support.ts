// Shared set-up for the call tests (docs/protocol/11): real clients against a real server (support.ts),
// each with a live listen() loop, injectable clock and timers, and a loopback CallMedia.
//
// LoopbackMedia is NOT a mock of any cryptography: the SDK runs the real key agreement, SAS and
// session sealing. It stands in for the WebRTC stack only — it makes realistic SDP text with its own
// DTLS fingerprint, checks (as a DTLS stack would, RFC 8842 §5) that the peer it is paired with is
// the one the remote SDP names, and records the SFrame keys it is given, so a test can compare both
// sides' keys byte for byte.
import { randomBytes } from 'node:crypto';
import { sdpFingerprint } from '@sotto/protocol';
import { createAccount, openClient, type Call, type CallMedia, type IncomingCall, type CallMediaKey, type CallState, type ReceivedMessage, type SottoClient, type Timers } from '@sotto/client';
import { softwareKeystore } from '@sotto/client/node';
import { chromiumAnswer, chromiumOffer, fingerprintOf } from '@sotto/test-support';
import { PASS, WEAK_KDF, tempDir, wire, type TestServer, type Wire } from './support.ts';

type After = { after: (fn: () => Promise<void>) => void };

/** Timers a test fires by hand: nothing waits 45 s. */
export class ManualTimers implements Timers {
  readonly #pending = new Map<number, { cb: () => void; ms: number }>();
  #next = 1;

  setTimeout(cb: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#pending.set(id, { cb, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** How many timers of `ms` are armed. */
  armed(ms: number): number {
    return [...this.#pending.values()].filter((p) => p.ms === ms).length;
  }

  /** Fires every armed timer of `ms` (as if that much time passed for them). */
  fire(ms: number): number {
    const due = [...this.#pending].filter(([, p]) => p.ms === ms);
    for (const [id, p] of due) {
      this.#pending.delete(id);
      p.cb();
    }
    return due.length;
  }
}

/** One side of an in-memory "WebRTC" pair (see the header). */
export class LoopbackMedia implements CallMedia {
  readonly fingerprint = new Uint8Array(randomBytes(32));
  readonly ufrag = randomBytes(6).toString('base64url');
  peer: LoopbackMedia | undefined;
  offerSdp: string | undefined;
  answerSdp: string | undefined;
  remoteSdp: string | undefined;
  keys: { send: CallMediaKey; receive: CallMediaKey } | undefined;
  closed = false;
  /** Set when the remote SDP's fingerprint is not the paired peer's certificate (a DTLS stack would refuse). */
  dtlsMismatch = false;
  readonly calls: string[] = [];

  createOffer(): Promise<string> {
    this.calls.push('createOffer');
    this.offerSdp = chromiumOffer({ fingerprint: fingerprintOf(this.fingerprint), ufrag: this.ufrag });
    return Promise.resolve(this.offerSdp);
  }

  acceptOffer(offerSdp: string): Promise<string> {
    this.calls.push('acceptOffer');
    this.#remote(offerSdp);
    this.answerSdp = chromiumAnswer({ fingerprint: fingerprintOf(this.fingerprint), ufrag: this.ufrag });
    return Promise.resolve(this.answerSdp);
  }

  acceptAnswer(answerSdp: string): Promise<void> {
    this.calls.push('acceptAnswer');
    this.#remote(answerSdp);
    return Promise.resolve();
  }

  setKeys(keys: { send: CallMediaKey; receive: CallMediaKey }): void {
    this.calls.push('setKeys');
    // Copies: the SDK erases its own copies when the call ends.
    this.keys = { send: { kid: keys.send.kid, baseKey: keys.send.baseKey.slice() }, receive: { kid: keys.receive.kid, baseKey: keys.receive.baseKey.slice() } };
  }

  close(): void {
    this.calls.push('close');
    this.closed = true;
  }

  #remote(sdp: string): void {
    this.remoteSdp = sdp;
    if (this.peer !== undefined && sdpFingerprint(sdp) !== fingerprintOf(this.peer.fingerprint)) this.dtlsMismatch = true;
  }
}

export function loopbackPair(): [LoopbackMedia, LoopbackMedia] {
  const a = new LoopbackMedia();
  const b = new LoopbackMedia();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Something to wait on without timing: resolves when `check` holds, re-checked on every `poke`. */
class Waiters {
  readonly #waiting = new Set<() => void>();
  poke(): void {
    for (const w of [...this.#waiting]) w();
  }
  until<T>(check: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const attempt = (): void => {
        const v = check();
        if (v !== undefined) {
          this.#waiting.delete(attempt);
          resolve(v);
        }
      };
      this.#waiting.add(attempt);
      attempt();
    });
  }
}

export interface CallClient {
  readonly name: string;
  client: SottoClient;
  readonly home: string;
  readonly wire: Wire;
  readonly timers: ManualTimers;
  /** Added to Date.now() for this client's clock. */
  skewMs: number;
  readonly messages: ReceivedMessage[];
  readonly errors: unknown[];
  /** Resolves with the first received message that satisfies `pred`. */
  message<T extends ReceivedMessage>(pred: (m: ReceivedMessage) => m is T): Promise<T>;
  message(pred: (m: ReceivedMessage) => boolean): Promise<ReceivedMessage>;
  /** Starts the live loop (calls need one); stop() ends it. */
  listen(): void;
  stop(): Promise<void>;
  close(): Promise<void>;
  reopen(): Promise<void>;
}

function makeOptions(c: { home: string; wire: Wire; timers: ManualTimers; skew: () => number }) {
  return {
    keystore: softwareKeystore(c.home, { testOnlyWeakKdf: WEAK_KDF }),
    webSocket: c.wire.webSocket,
    passphrase: PASS,
    fetch: c.wire.fetch,
    timers: c.timers,
    now: () => Date.now() + c.skew(),
  };
}

export async function callAccount(t: After, server: TestServer, name: string): Promise<CallClient> {
  const home = await tempDir(t, `call-${name}`);
  const w = wire();
  const timers = new ManualTimers();
  const waiters = new Waiters();
  let stopListening: (() => Promise<void>) | undefined;
  const c: CallClient = {
    name,
    client: undefined as unknown as SottoClient,
    home,
    wire: w,
    timers,
    skewMs: 0,
    messages: [],
    errors: [],
    message(pred: (m: ReceivedMessage) => boolean): Promise<ReceivedMessage> {
      return waiters.until(() => c.messages.find(pred));
    },
    listen() {
      stopListening = c.client.listen(
        (m) => {
          c.messages.push(m);
          waiters.poke();
        },
        (e) => c.errors.push(e),
      );
    },
    async stop() {
      await stopListening?.();
      stopListening = undefined;
    },
    async close() {
      await c.stop();
      await c.client.close();
    },
    async reopen() {
      c.client = await openClient(makeOptions({ home, wire: w, timers, skew: () => c.skewMs }));
    },
  } as CallClient;
  c.client = await createAccount({ ...makeOptions({ home, wire: w, timers, skew: () => c.skewMs }), serverUrl: server.url, username: name });
  t.after(async () => {
    await c.stop();
    await c.client.close();
  });
  return c;
}

/** Resolves once the call is in `state` (at once if it is already). */
export function reached(call: Call, state: CallState): Promise<void> {
  return new Promise((resolve) => {
    if (call.state === state) {
      resolve();
      return;
    }
    const off = call.onState((s) => {
      if (s === state) {
        off();
        resolve();
      }
    });
  });
}

/** Records every state a call goes through after now. */
export function states(call: Call): CallState[] {
  const seen: CallState[] = [call.state];
  call.onState((s) => seen.push(s));
  return seen;
}

/** Registers an onIncomingCall handler that collects the offers that ring. */
export function answering(c: CallClient): { readonly rung: IncomingCall[]; next(): Promise<IncomingCall>; off(): void } {
  const waiters = new Waiters();
  const rung: IncomingCall[] = [];
  let taken = 0;
  const off = c.client.onIncomingCall((call) => {
    rung.push(call);
    waiters.poke();
  });
  return {
    rung,
    next: () => waiters.until(() => (rung.length > taken ? rung[taken++] : undefined)),
    off,
  };
}
