// MIKEY-SAKKE, attack 1 — passive capture (docs/scorecard.md §3.1). Mallory records every datagram of two calls
// on the provider's network and attacks the recording with everything an outsider can have: the community's
// public keys and, as an insider, its own valid subscription (a KMS-issued key of the same community). No KMS
// secret. It greps the recording for what was said, SAKKE-decapsulates every recorded I_MESSAGE with its own
// Receiver Secret Key (RFC 6508 §6.2.2), and tries whatever SRTP keys that yields on every recorded packet.
import { deriveCallSrtpKeys, EscrowError, installUserKeys, sakkeDecapsulate, type SrtpMasterKeys } from '@sotto/escrow';
import { ALICE, BOB, CAROL, MikeyWorld, utc } from '../../internal/mikey-world.ts';
import { cleartextRuns, readRecordedMedia, recordedSetups, recoveredOf } from '../../mallory/mikey-recording.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface MikeyPassiveCaptureEvidence extends AttackResult {
  readonly callsRecorded: number;
  readonly packetsRecorded: number;
  readonly framesSpoken: number;
  /** Spoken frames found in the recording: decrypted, or visible in clear. */
  readonly framesRecovered: number;
  /** Outcomes of decapsulating each recorded I_MESSAGE with the insider's own key (an EscrowError code, or 'ok'). */
  readonly insiderDecapsulations: readonly string[];
  /** Identities an eavesdropper reads in clear from IDRi / IDRr. */
  readonly identitiesInClear: readonly string[];
}

export async function runMikeyPassiveCapture(): Promise<MikeyPassiveCaptureEvidence> {
  const world = await MikeyWorld.create(utc(2026, 11, 10, 9), ['alice', 'bob', 'carol', 'mallory']);
  try {
    const [alice, bob, carol, mallory] = [world.phone('alice'), world.phone('bob'), world.phone('carol'), world.phone('mallory')];
    await world.converse(alice, bob, [['caller', 'Bob, the budget figures are ready.'], ['callee', 'Send me the total only.'], ['caller', 'Four point two million.']]);
    world.advanceTo(utc(2026, 11, 10, 15));
    await world.converse(bob, carol, [['caller', 'Carol, meet at the north gate at six.'], ['callee', 'North gate, six. Understood.']]);

    // What mallory holds: the recording and its own subscription (installed exactly as a phone installs it).
    const capture = world.network.capture;
    const insider = mallory.storedKeyMaterial().map((d) => installUserKeys(world.community, d));
    const setups = recordedSetups(capture);
    const decapsulations: string[] = [];
    const keys: SrtpMasterKeys[] = [];
    for (const setup of setups) {
      for (const own of insider) {
        try {
          const ssv = sakkeDecapsulate(own.receiving, setup.message.sakkeData);
          keys.push(...deriveCallSrtpKeys(ssv, setup.message));
          decapsulations.push('ok');
        } catch (e) {
          if (!(e instanceof EscrowError)) throw e;
          decapsulations.push(e.code);
        }
      }
    }
    const media = readRecordedMedia(capture, keys);
    const inClear = cleartextRuns(capture).join('\n');
    const recovered = new Set([...recoveredOf(world.spoken, media.frames), ...world.spoken.filter((s) => inClear.includes(s.text)).map((s) => s.text)]);
    const identities = [...new Set(setups.flatMap((s) => [s.initiatorUri, s.responderUri]).filter((u): u is string => u !== undefined))];
    const outcome = recovered.size > 0 ? 'compromised' : 'resisted';
    const namesSeen = [ALICE, BOB, CAROL].filter((u) => identities.includes(u)).length;
    const detail =
      outcome === 'resisted'
        ? `Recorded ${setups.length} call set-ups and ${media.packetsTotal} SRTP packets; read ${recovered.size} of ${world.spoken.length} spoken frames: ` +
          `an insider's own SAKKE key fails RFC 6508's check on others' I_MESSAGEs (${[...new Set(decapsulations)].join(', ')}). ` +
          `Metadata is not protected: the I_MESSAGE carries both parties' phone numbers in clear (IDRi/IDRr: ${namesSeen} of 3 subscribers named).`
        : `Recovered ${recovered.size} of ${world.spoken.length} spoken frames from the recording alone (${media.packetsOpened} of ${media.packetsTotal} SRTP packets opened).`;
    return { outcome, detail, callsRecorded: setups.length, packetsRecorded: media.packetsTotal, framesSpoken: world.spoken.length, framesRecovered: recovered.size, insiderDecapsulations: decapsulations, identitiesInClear: identities };
  } finally {
    await world.close();
  }
}

export const mikeyPassiveCapture: Scenario = {
  attack: 'passive-capture',
  system: 'MIKEY-SAKKE',
  run: runMikeyPassiveCapture,
};
