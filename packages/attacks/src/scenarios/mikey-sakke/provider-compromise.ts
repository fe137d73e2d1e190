// MIKEY-SAKKE, attack 2 — provider compromise (docs/scorecard.md §3.2). Calls are recorded over three months;
// then mallory obtains the KMS master secrets — two integers, the ECCSI KSAK (RFC 6507 §4.2) and the SAKKE
// z_T (RFC 6508 §6.1) — by hacking, coercing or simply being the provider. From those two numbers and the
// recording alone it rebuilds the KMS, recovers every call's SSV (RFC 6509 §2.1: the TGK) with
// `kmsRecoverCall`, derives each call's SRTP keys (RFC 3830 §4.1.3) and opens the recorded media.
// No user key, no cooperation, no trace on any phone.
import { eccsiKmsKeys, EscrowError, kmsRecoverCall, sakkeKmsKeys, type MikeySakkeKms, type SrtpMasterKeys } from '@sotto/escrow';
import { MikeyWorld, utc } from '../../internal/mikey-world.ts';
import { readRecordedMedia, recordedSetups, recoveredOf } from '../../mallory/mikey-recording.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface MikeyProviderCompromiseEvidence extends AttackResult {
  readonly callsRecorded: number;
  readonly callsRecovered: number;
  /** The months ("YYYY-MM") of the calls whose keys were recovered. */
  readonly monthsRecovered: readonly string[];
  readonly framesSpoken: number;
  readonly framesRecovered: number;
  /** The date of the compromise: every recovered call is older. */
  readonly compromisedAtMs: number;
  readonly latestCallMs: number;
}

export async function runMikeyProviderCompromise(): Promise<MikeyProviderCompromiseEvidence> {
  const world = await MikeyWorld.create(utc(2026, 9, 3, 10), ['alice', 'bob', 'carol']);
  try {
    const [alice, bob, carol] = [world.phone('alice'), world.phone('bob'), world.phone('carol')];
    await world.converse(alice, bob, [['caller', 'September: the contract is signed.'], ['callee', 'Good. Keep it quiet.']]);
    world.advanceTo(utc(2026, 10, 14, 16));
    await world.converse(carol, alice, [['caller', 'October: my source at the ministry called.'], ['callee', 'Do not say the name on the phone.']]);
    world.advanceTo(utc(2026, 11, 3, 8));
    await world.converse(bob, carol, [['caller', 'November: the audit starts Monday.'], ['callee', 'I will move the files tonight.']]);
    const latestCallMs = world.now;

    // Weeks later the provider is compromised. Mallory takes two integers and nothing else from the KMS.
    world.advanceTo(utc(2026, 11, 28, 12));
    const ksak = world.kms.eccsi.ksak;
    const z = world.kms.sakke.z;
    const rebuilt: MikeySakkeKms = { eccsi: eccsiKmsKeys(ksak), sakke: sakkeKmsKeys(z) };

    const setups = recordedSetups(world.network.capture);
    const keys: SrtpMasterKeys[] = [];
    const months = new Set<string>();
    let recoveredCalls = 0;
    for (const setup of setups) {
      try {
        const call = kmsRecoverCall(rebuilt, setup.iMessage);
        keys.push(...call.srtp);
        months.add(call.period);
        recoveredCalls++;
      } catch (e) {
        if (!(e instanceof EscrowError)) throw e;
      }
    }
    const media = readRecordedMedia(world.network.capture, keys);
    const recovered = recoveredOf(world.spoken, media.frames);
    const outcome = recovered.length > 0 ? 'compromised' : 'resisted';
    const monthList = [...months].sort();
    const detail =
      outcome === 'compromised'
        ? `With only the KMS's two master-secret integers (KSAK, z_T), taken after the fact, mallory recovered the SSV of ${recoveredCalls} of ${setups.length} recorded calls ` +
          `(${monthList.join(', ')}) and read ${recovered.length} of ${world.spoken.length} spoken frames (${media.packetsOpened} of ${media.packetsTotal} SRTP packets authenticated and decrypted). No phone can notice.`
        : `The KMS master secrets opened ${recoveredCalls} of ${setups.length} recorded calls and no spoken frame.`;
    return { outcome, detail, callsRecorded: setups.length, callsRecovered: recoveredCalls, monthsRecovered: monthList, framesSpoken: world.spoken.length, framesRecovered: recovered.length, compromisedAtMs: world.now, latestCallMs };
  } finally {
    await world.close();
  }
}

export const mikeyProviderCompromise: Scenario = {
  attack: 'provider-compromise',
  system: 'MIKEY-SAKKE',
  run: runMikeyProviderCompromise,
};
