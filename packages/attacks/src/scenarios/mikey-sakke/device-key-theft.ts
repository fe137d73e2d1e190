// MIKEY-SAKKE, attack 4 — theft of a device's keys after the fact (docs/scorecard.md §3.4). Bob's phone is stolen
// (or its key store copied) late in November. The phone follows the best policy RFC 6509 §3.3 allows: it keeps
// only the key periods it can still receive in, so October's keys are gone. Mallory installs the stolen key
// material and SAKKE-decapsulates (RFC 6508 §6.2.2) every I_MESSAGE recorded earlier; any SSV it gets yields the
// call's SRTP keys. A Receiver Secret Key is static for its whole month, so there is no forward secrecy inside it.
import { deriveCallSrtpKeys, EscrowError, installUserKeys, keyPeriodOfUnixMs, sakkeDecapsulate, type SrtpMasterKeys } from '@sotto/escrow';
import { ALICE, BOB, CAROL, MikeyWorld, utc } from '../../internal/mikey-world.ts';
import { readRecordedMedia, recordedSetups, recoveredOf } from '../../mallory/mikey-recording.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface MikeyDeviceKeyTheftEvidence extends AttackResult {
  readonly stolenAtMs: number;
  /** Key periods found on the stolen device. */
  readonly stolenPeriods: readonly string[];
  readonly callsRecorded: number;
  /** Recorded calls (all older than the theft) whose SSV the stolen keys recovered. */
  readonly callsOpened: number;
  readonly framesSpoken: number;
  readonly framesRecovered: number;
}

const NAMES = new Map([[ALICE, 'alice'], [BOB, 'bob'], [CAROL, 'carol']]);
const nameOf = (uri: string | undefined): string => NAMES.get(uri ?? '') ?? 'unknown';

export async function runMikeyDeviceKeyTheft(): Promise<MikeyDeviceKeyTheftEvidence> {
  const world = await MikeyWorld.create(utc(2026, 10, 20, 11), ['alice', 'bob', 'carol']);
  try {
    const [alice, bob, carol] = [world.phone('alice'), world.phone('bob'), world.phone('carol')];
    await world.converse(alice, bob, [['caller', 'October: the shipment leaves on the 30th.'], ['callee', 'Tell nobody else.']]);
    world.advanceTo(utc(2026, 11, 3, 9));
    await world.converse(carol, bob, [['caller', 'Bob, the lawyer says we should settle.'], ['callee', 'Not below two hundred thousand.']]);
    world.advanceTo(utc(2026, 11, 10, 18));
    await world.converse(alice, bob, [['caller', 'My new address is 14 Harbour Lane.'], ['callee', 'Noted, I will burn the old one.']]);
    world.advanceTo(utc(2026, 11, 17, 7));
    await world.converse(bob, alice, [['caller', 'Alice, I placed this call myself.'], ['callee', 'Then it is encrypted to me, not you.']]);

    // 22 November: mallory copies bob's key store. Only what the phone still holds is taken.
    world.advanceTo(utc(2026, 11, 22, 23));
    const stolen = bob.storedKeyMaterial();
    const keysOfThief = stolen.map((d) => installUserKeys(world.community, d));
    const setups = recordedSetups(world.network.capture);
    const keys: SrtpMasterKeys[] = [];
    const closed: string[] = [];
    let opened = 0;
    for (const setup of setups) {
      let ok = false;
      for (const own of keysOfThief) {
        try {
          keys.push(...deriveCallSrtpKeys(sakkeDecapsulate(own.receiving, setup.message.sakkeData), setup.message));
          ok = true;
          break;
        } catch (e) {
          if (!(e instanceof EscrowError)) throw e;
        }
      }
      if (ok) opened++;
      else closed.push(`${keyPeriodOfUnixMs(setup.capturedAt)} ${nameOf(setup.initiatorUri)}→${nameOf(setup.responderUri)}`);
    }
    const media = readRecordedMedia(world.network.capture, keys);
    const recovered = recoveredOf(world.spoken, media.frames);
    const outcome = recovered.length > 0 ? 'compromised' : 'resisted';
    const periods = stolen.map((d) => d.period).sort();
    const detail =
      outcome === 'compromised'
        ? `Bob's phone, copied on 22 Nov, held only its ${periods.join(', ')} keys (older months already discarded); they opened ${opened} of ${setups.length} earlier recorded calls ` +
          `— every call bob received that month, days and weeks before the theft — and ${recovered.length} of ${world.spoken.length} spoken frames (both directions). ` +
          `No forward secrecy within a key period: a Receiver Secret Key serves the whole month. Not opened: ${closed.join(', ')} (SAKKE to another Identifier or month).`
        : `The stolen keys (${periods.join(', ')}) opened ${opened} of ${setups.length} earlier calls and no spoken frame.`;
    return { outcome, detail, stolenAtMs: world.now, stolenPeriods: periods, callsRecorded: setups.length, callsOpened: opened, framesSpoken: world.spoken.length, framesRecovered: recovered.length };
  } finally {
    await world.close();
  }
}

export const mikeyDeviceKeyTheft: Scenario = {
  attack: 'device-key-theft',
  system: 'MIKEY-SAKKE',
  run: runMikeyDeviceKeyTheft,
};
