// Sotto calls, attack 4 — theft of a device's keys after the fact (docs/scorecard.md §4, "Sotto calls" 4). alice
// and bob have two calls (one each way) and talk; every byte of signalling and media is recorded. After both
// calls ended, mallory copies alice's keystore file and is GIVEN her passphrase — the worst case. It harvests
// everything in it (identity seed, prekeys, sessions, every 32-byte value), tries it on every recorded envelope
// with a prekey store that never refuses a use (to read the call signalling), tries every 32-byte value as an
// SFrame base key on every recorded frame, and greps the keystore for the calls' SFrame keys (ground truth from the
// media's setKeys, a test-only window) and for what was said.
//
// Control: the same frame-decryption code, given the calls' real keys, reads every recorded frame — so the zero
// below is because the keys are gone (docs/protocol/11 §11.1: ephemeral, erased at the end, never stored).
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fastProvider } from '@sotto/crypto';
import { systemRng } from '../../internal/rng.ts';
import { SottoCallWorld } from '../../internal/sotto-calls.ts';
import { describeFailures, harvestKeystore, tryStolenKeys } from '../../mallory/sotto-keys.ts';
import { candidateSecrets, occursIn, recordedEnvelopes } from '../../mallory/sotto-recording.ts';
import { recordedFrames, secretsFoundIn, tryCallSecrets } from '../../mallory/sotto-call-media.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoCallsDeviceKeyTheftEvidence extends AttackResult {
  readonly entriesStolen: number;
  readonly sessionsStolen: number;
  readonly prekeysStolen: number;
  readonly candidateKeys: number;
  readonly envelopes: number;
  /** Envelopes whose outer layer the stolen identity opened (those sealed to alice). */
  readonly envelopesOpened: number;
  /** Call-signalling plaintexts recovered from the recorded envelopes. */
  readonly signallingRead: number;
  readonly framesRecorded: number;
  readonly framesSpoken: number;
  /** Earlier frames decrypted with anything from the keystore (must be 0). */
  readonly framesRead: number;
  readonly callSecrets: number;
  /** Call secrets or transcripts found in the keystore's contents (must be 0). */
  readonly callSecretsInKeystore: number;
  readonly transcriptsInKeystore: number;
  readonly controlFramesRead: number;
}

export async function runSottoCallsDeviceKeyTheft(): Promise<SottoCallsDeviceKeyTheftEvidence> {
  const cw = await SottoCallWorld.create();
  try {
    const alice = await cw.party('alice');
    const bob = await cw.party('bob');
    const first = await cw.connect(alice, bob);
    await cw.converse(first, ['Did you move the money?', 'Half of it, to the Lisbon account.', 'And the rest?', 'Next week, in cash.']);
    await cw.hangUp(first);
    const second = await cw.connect(bob, alice);
    await cw.converse(second, ['Change of plan: all of it on Monday.', 'Understood, Monday.']);
    await cw.hangUp(second);
    cw.checkHealthy();

    // The theft, after the calls: alice's device is seized (her client stops, so no keystore write is half done —
    // a call's last signal is handled before its batch is persisted), then a copy of her keystore and her passphrase.
    await alice.user.client.close();
    const loot = join(cw.world.dir, 'stolen-alice');
    await cp(alice.user.home, loot, { recursive: true });
    const stolen = await harvestKeystore(fastProvider, loot, alice.user.passphrase);
    const envelopes = recordedEnvelopes(cw.world.proxy.records);
    const signalling = await tryStolenKeys(fastProvider, systemRng, stolen, envelopes, Date.now());
    const candidates = candidateSecrets(stolen.values);
    const frames = recordedFrames(cw.relay.capture);
    const media = await tryCallSecrets(candidates, frames);

    const texts = cw.spoken.map((s) => s.text);
    const secrets = new Map<string, Uint8Array>();
    for (const k of cw.revealed) for (const b of [k.send.baseKey, k.receive.baseKey]) secrets.set(Buffer.from(b).toString('hex'), b);
    const callSecretsInKeystore = secretsFoundIn(stolen.values, [...secrets.values()]);
    const transcriptsInKeystore = texts.filter((t) => occursIn(stolen.values, t)).length;
    const control = await tryCallSecrets([...secrets.values()], frames);

    const framesRead = media.decrypted.length;
    const outcome = framesRead + callSecretsInKeystore + transcriptsInKeystore + signalling.plaintexts.length > 0 ? 'compromised' : 'resisted';
    const prekeys = stolen.x25519Prekeys.length + stolen.kemPrekeys.length;
    const detail =
      outcome === 'resisted'
        ? `With alice's keystore and passphrase, taken after 2 recorded calls (${stolen.entryNames.length} entries: her identity, ${stolen.sessions.length} session(s), ${prekeys} prekeys), mallory read 0 of ${texts.length} earlier spoken frames: ` +
          `${candidates.length} candidate 32-byte keys from the keystore decrypted ${framesRead} of ${frames.length} frames (${describeFailures(media.failures)}), ` +
          `and the stolen identity opened the outer layer of ${signalling.opened} of ${envelopes.length} signalling envelopes but read ${signalling.plaintexts.length} (${describeFailures(signalling.failures)}). ` +
          `The keystore holds none of the ${secrets.size} SFrame base keys and no transcript: call secrets are ephemeral, kept in memory and erased at the end. ` +
          `Control: the calls' real keys read ${control.decrypted.length} of ${frames.length} with the same code.`
        : `The stolen keystore gave ${framesRead} earlier frames and ${signalling.plaintexts.length} signalling messages; it contains ${callSecretsInKeystore} call secrets and ${transcriptsInKeystore} transcripts.`;
    return {
      outcome, detail, entriesStolen: stolen.entryNames.length, sessionsStolen: stolen.sessions.length, prekeysStolen: prekeys, candidateKeys: candidates.length, envelopes: envelopes.length,
      envelopesOpened: signalling.opened, signallingRead: signalling.plaintexts.length, framesRecorded: frames.length, framesSpoken: texts.length, framesRead, callSecrets: secrets.size,
      callSecretsInKeystore, transcriptsInKeystore, controlFramesRead: control.decrypted.length,
    };
  } finally {
    await cw.close();
  }
}

export const sottoCallsDeviceKeyTheft: Scenario = { attack: 'device-key-theft', system: 'Sotto calls', run: runSottoCallsDeviceKeyTheft };
