// The deployment every Sotto-calls scenario starts from (docs/scorecard.md §4, "Sotto calls"): the Sotto world of
// the message scenarios (real server, mallory's recording proxy, real SDK clients; src/internal/sotto-world.ts)
// plus mallory's media relay (src/mallory/call-relay.ts) and SframeMedia endpoints on it. Calls are placed and
// answered with the SDK's own API (placeCall, onIncomingCall, IncomingCall.accept), over live listen() loops, so
// the signalling is the SDK's, sealed in the session and carried by the real server through the proxy.
//
// `spoken` (what was said into which call) and `revealed` (the call keys the media were given) are ground truth
// for the scoring only; no attacker reads them.
import type { Call, IncomingCall, ReceivedMessage } from '@sotto/client';
import { AttacksError } from '../errors.ts';
import { CallRelay } from '../mallory/call-relay.ts';
import { SframeMedia, type RevealedCallKeys } from './sframe-media.ts';
import { SottoWorld, type SottoUser } from './sotto-world.ts';
import { until } from './wait.ts';

/** A user whose device runs a live listen() loop and rings for incoming calls. */
export interface CallParty {
  readonly name: string;
  readonly user: SottoUser;
  /** What listen() reported (rejected envelopes, call failures), in order. */
  readonly errors: unknown[];
  /** Messages shown (texts, missed calls, ...), in order. */
  readonly messages: ReceivedMessage[];
  /** Offers that rang, in order. */
  readonly rung: IncomingCall[];
}

/** One frame said into a call (ground truth). */
export interface Spoken {
  readonly call: number;
  readonly from: string;
  readonly text: string;
}

/** An established call: both sides' Call objects and media. */
export interface CallPair {
  readonly n: number;
  readonly call: Call;
  readonly answered: Call;
  readonly callerMedia: SframeMedia;
  readonly calleeMedia: SframeMedia;
}

/** "ERR_A ×3, ERR_B ×1" for a count map. */
export function describeCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ');
}

export class SottoCallWorld {
  readonly world: SottoWorld;
  readonly relay: CallRelay;
  readonly spoken: Spoken[] = [];
  readonly revealed: RevealedCallKeys[] = [];
  readonly media: SframeMedia[] = [];
  #calls = 0;

  private constructor(world: SottoWorld, relay: CallRelay) {
    this.world = world;
    this.relay = relay;
  }

  static async create(): Promise<SottoCallWorld> {
    const world = await SottoWorld.create();
    return new SottoCallWorld(world, new CallRelay());
  }

  /** Registers a user (real SDK client) and starts its live loop and ringer. */
  async party(username: string, opts: { now?: () => number } = {}): Promise<CallParty> {
    const user = await this.world.user(username, opts);
    const party: CallParty = { name: username, user, errors: [], messages: [], rung: [] };
    user.client.listen(
      (m) => {
        party.messages.push(m);
      },
      (e) => {
        party.errors.push(e);
      },
    );
    user.client.onIncomingCall((c) => {
      party.rung.push(c);
    });
    return party;
  }

  /** A media endpoint on mallory's relay whose keys the scoring sees (ground truth). */
  async endpoint(name: string): Promise<SframeMedia> {
    const m = await SframeMedia.open(this.relay, name, { revealKeys: (k) => this.revealed.push(k) });
    this.media.push(m);
    return m;
  }

  /** `caller` calls `callee`, who accepts; resolves when both calls are active. */
  async connect(caller: CallParty, callee: CallParty): Promise<CallPair> {
    const n = ++this.#calls;
    const callerMedia = await this.endpoint(`${caller.name}#${n}`);
    const calleeMedia = await this.endpoint(`${callee.name}#${n}`);
    const rang = callee.rung.length;
    const call = await caller.user.client.placeCall(callee.name, callerMedia);
    await until(() => callee.rung.length > rang, `${callee.name}'s phone to ring`);
    const incoming = callee.rung[rang];
    if (incoming === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'no incoming call');
    const answered = await incoming.accept(calleeMedia);
    await until(() => call.state === 'active' && answered.state === 'active', 'the call to become active');
    return { n, call, answered, callerMedia, calleeMedia };
  }

  /** Each line is said by one side of `pair` (caller first, then alternating) and heard by the other. */
  async converse(pair: CallPair, lines: readonly string[]): Promise<void> {
    for (const [i, text] of lines.entries()) {
      const [from, to, who] = i % 2 === 0 ? [pair.callerMedia, pair.calleeMedia, 'caller'] : [pair.calleeMedia, pair.callerMedia, 'callee'];
      const heard = to.played.length;
      if (!(await from.speak(text))) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', `${from.name} could not speak (no keys)`);
      this.spoken.push({ call: pair.n, from: `${from.name} (${who})`, text });
      await until(() => to.played.length > heard, `${to.name} to hear a frame`);
      if (to.played.at(-1) !== text) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'a frame was heard differently from what was said');
    }
  }

  /** `from` texts `to`, whose live loop must show exactly that text. */
  async text(from: CallParty, to: CallParty, text: string): Promise<void> {
    await from.user.client.sendText(to.name, text);
    await until(() => to.messages.some((m) => m.kind === 'text' && m.from === from.name && m.text === text), `${to.name} to receive a text`);
  }

  /** The caller hangs up; resolves when both sides have ended. */
  async hangUp(pair: CallPair): Promise<void> {
    await pair.call.hangUp();
    await pair.answered.ended;
  }

  checkHealthy(): void {
    this.world.proxy.checkHealthy();
    this.relay.checkHealthy();
    for (const m of this.media) m.checkHealthy();
  }

  async close(): Promise<void> {
    try {
      await this.world.close();
    } finally {
      for (const m of this.media) if (!m.closed) m.close();
      await this.relay.close();
    }
  }
}
