// The MIKEY-SAKKE community every MIKEY-SAKKE scenario starts from: one KMS (RFC 6509 §2.1) provisioning three
// subscribers every month, their phones (src/internal/mikey-phone.ts) on mallory's recorded network
// (src/mallory/mikey-network.ts), and a simulated calendar so that calls can happen in past months.
//
// `spoken` is the ground truth of what was said on each call. Only the scoring reads it — to check whether what
// an attacker recovered is what was really said; no attacker ever reads it.
import { keyPeriodOfUnixMs, kmsProvisionUser, mikeySakkeCommunityKeys, mikeySakkeGenerateKms, type MikeySakkeCommunityKeys, type MikeySakkeKms } from '@sotto/escrow';
import { AttacksError } from '../errors.ts';
import { MikeyNetwork } from '../mallory/mikey-network.ts';
import { MikeyPhone, type Rng } from './mikey-phone.ts';
import { systemRng } from './rng.ts';

export const ALICE = 'tel:+447700900123';
export const BOB = 'tel:+447700900456';
export const CAROL = 'tel:+447700900789';
/** Mallory's own subscription: an insider with valid keys of the same community. */
export const MALLORY = 'tel:+447700900666';

/** One frame of speech on a recorded call, as it was really said. */
export interface SpokenFrame {
  readonly callId: string;
  readonly speaker: string;
  readonly text: string;
  readonly atMs: number;
}

export type Subscriber = 'alice' | 'bob' | 'carol' | 'mallory';
const URIS: Readonly<Record<Subscriber, string>> = { alice: ALICE, bob: BOB, carol: CAROL, mallory: MALLORY };

export class MikeyWorld {
  readonly kms: MikeySakkeKms;
  readonly community: MikeySakkeCommunityKeys;
  readonly network: MikeyNetwork;
  /** The subscribers' phones; only those the scenario asked for exist (each monthly key install costs a pairing). */
  readonly phones: Readonly<Partial<Record<Subscriber, MikeyPhone>>>;
  readonly spoken: SpokenFrame[] = [];
  readonly rng: Rng;
  /** The simulated calendar every phone and the recorder read. */
  readonly clock: () => number;
  readonly #calendar: { now: number };
  readonly #provisioned = new Set<string>();

  private constructor(kms: MikeySakkeKms, network: MikeyNetwork, phones: Partial<Record<Subscriber, MikeyPhone>>, calendar: { now: number }, rng: Rng) {
    this.kms = kms;
    this.community = mikeySakkeCommunityKeys(kms);
    this.network = network;
    this.phones = phones;
    this.rng = rng;
    this.#calendar = calendar;
    this.clock = () => calendar.now;
  }

  /** A fresh KMS and community at `startMs` with phones for `subscribers`, provisioned for that month. */
  static async create(startMs: number, subscribers: readonly Subscriber[], rng: Rng = systemRng): Promise<MikeyWorld> {
    const calendar = { now: startMs };
    const clock = (): number => calendar.now;
    const kms = mikeySakkeGenerateKms(rng);
    const community = mikeySakkeCommunityKeys(kms);
    const network = await MikeyNetwork.start(clock);
    const phones: Partial<Record<Subscriber, MikeyPhone>> = {};
    for (const who of subscribers) phones[who] = await MikeyPhone.start({ uri: URIS[who], network, community, clock, rng, register: true });
    const world = new MikeyWorld(kms, network, phones, calendar, rng);
    world.advanceTo(startMs);
    return world;
  }

  /** The phone of a subscriber the world was created with. */
  phone(who: Subscriber): MikeyPhone {
    const p = this.phones[who];
    if (p === undefined) throw new AttacksError('ERR_ATTACKS_ARGUMENT', `the world has no phone for ${who}`);
    return p;
  }

  get now(): number {
    return this.#calendar.now;
  }

  /** Moves the calendar (never backwards); the KMS provisions the month's keys as RFC 6509 §3.3 schedules them. */
  advanceTo(ms: number): void {
    if (ms < this.#calendar.now) throw new AttacksError('ERR_ATTACKS_ARGUMENT', 'the calendar only moves forward');
    this.#calendar.now = ms;
    const period = keyPeriodOfUnixMs(ms);
    if (!this.#provisioned.has(period)) {
      this.#provisioned.add(period);
      for (const phone of Object.values(this.phones)) phone.install(kmsProvisionUser(this.kms, phone.uri, period, this.rng));
    }
    for (const phone of Object.values(this.phones)) phone.prune();
  }

  /**
   * `caller` dials `callee`; then each line is spoken by its side as one SRTP frame, and the call ends when the
   * other side has heard everything. Returns the call id; throws if the call is refused (a scenario bug).
   */
  async converse(caller: MikeyPhone, callee: MikeyPhone, lines: readonly (readonly ['caller' | 'callee', string])[]): Promise<string> {
    const dialled = await caller.dial(callee.uri);
    if (!dialled.ok) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', `an honest call was refused: ${dialled.code}`);
    const callId = dialled.call.callId;
    await callee.waitForEvent((e) => e.kind === 'call-connected' && e.callId === callId);
    let toCallee = 0;
    let toCaller = 0;
    for (const [side, text] of lines) {
      const speaker = side === 'caller' ? caller : callee;
      await speaker.say(callId, [text]);
      this.spoken.push({ callId, speaker: speaker.uri, text, atMs: this.now });
      if (side === 'caller') toCallee++;
      else toCaller++;
    }
    await Promise.all([callee.waitHeard(callId, toCallee), caller.waitHeard(callId, toCaller)]);
    this.network.checkHealthy();
    return callId;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.phones).map((p) => p.close()));
    await this.network.close();
  }
}

/** UTC midnight-plus-hours of a day, for readable scenario calendars. */
export function utc(year: number, month: number, day: number, hour = 12, minute = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute);
}
