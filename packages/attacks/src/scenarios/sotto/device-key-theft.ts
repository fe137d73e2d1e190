// Sotto, attack 4 — theft of a device's keys after the fact (docs/scorecard.md §4.4). alice and bob have a
// conversation (a prekey message, ratchet messages both ways, delivery receipts); every byte is recorded.
// Then mallory copies alice's keystore file and is GIVEN her passphrase — the worst case. It opens the
// keystore, harvests every secret in it (identity seed, prekeys, sessions, and any 32-byte value) and tries all
// of it on every envelope it recorded, with a prekey store that never refuses a use. It also greps the
// keystore's contents for the conversation.
//
// Control (so that this attack can fail): a message bob sends AFTER the copy and alice has not fetched yet is
// attacked with the same stolen state. It must be readable — a stolen device reads what is still in flight
// until the next round trip heals the session (docs/threat-model.md); only EARLIER messages must be safe.
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fastProvider } from '@sotto/crypto';
import { systemRng } from '../../internal/rng.ts';
import { SottoWorld } from '../../internal/sotto-world.ts';
import { describeFailures, harvestKeystore, tryStolenKeys } from '../../mallory/sotto-keys.ts';
import { occursIn, recordedEnvelopes } from '../../mallory/sotto-recording.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoDeviceKeyTheftEvidence extends AttackResult {
  readonly entriesStolen: number;
  readonly sessionsStolen: number;
  readonly prekeysStolen: number;
  readonly earlierEnvelopes: number;
  /** Earlier envelopes whose outer layer the stolen identity opened (those sent to alice). */
  readonly earlierOpened: number;
  readonly earlierTexts: number;
  /** Earlier texts recovered from the envelopes, or found in the keystore's contents. */
  readonly earlierRecovered: number;
  readonly earlierInKeystore: number;
  /** Control: the message still in flight at the theft, read with the stolen state (must be 1). */
  readonly inFlightRecovered: number;
}

export async function runSottoDeviceKeyTheft(): Promise<SottoDeviceKeyTheftEvidence> {
  const world = await SottoWorld.create();
  try {
    const alice = await world.user('alice');
    const bob = await world.user('bob');
    await world.send(alice, bob, 'Bob, I am worried about the audit.');
    await world.send(bob, alice, 'Shred the March invoices tonight.');
    await world.send(alice, bob, 'Done. What about the ledger?');
    await world.send(bob, alice, 'The ledger is in locker 12, code 0451.');
    await world.send(alice, bob, 'Understood. Deleting this chat now.');
    await world.drain();
    const earlierTexts = world.said.map((s) => s.text);
    const earlierEnvelopes = recordedEnvelopes(world.proxy.records);

    // The theft: a copy of alice's keystore file, and her passphrase.
    const loot = join(world.dir, 'stolen-alice');
    await cp(alice.home, loot, { recursive: true });
    const stolen = await harvestKeystore(fastProvider, loot, alice.passphrase);
    const attempt = await tryStolenKeys(fastProvider, systemRng, stolen, earlierEnvelopes, Date.now());
    const fromEnvelopes = earlierTexts.filter((t) => attempt.plaintexts.some((p) => p.text.includes(t)));
    const inKeystore = earlierTexts.filter((t) => occursIn(stolen.values, t));

    // Control: in flight at the time of the copy.
    const inFlight = 'Alice? Call me when you see this.';
    const before = world.proxy.records.length;
    await bob.client.sendText(alice.username, inFlight);
    const control = await tryStolenKeys(fastProvider, systemRng, stolen, recordedEnvelopes(world.proxy.records.slice(before)), Date.now());
    const inFlightRecovered = control.plaintexts.filter((p) => p.text.includes(inFlight)).length;

    const recovered = new Set([...fromEnvelopes, ...inKeystore]);
    const outcome = recovered.size > 0 ? 'compromised' : 'resisted';
    const prekeys = stolen.x25519Prekeys.length + stolen.kemPrekeys.length;
    const detail =
      outcome === 'resisted'
        ? `With alice's keystore and passphrase (${stolen.entryNames.length} entries: her identity, ${stolen.sessions.length} session(s), ${prekeys} prekeys), mallory opened the outer layer of ${attempt.opened} of ${earlierEnvelopes.length} recorded envelopes ` +
          `(those sealed to her) but read ${recovered.size} of ${earlierTexts.length} earlier messages: their message keys and the used one-time prekeys are gone (${describeFailures(attempt.failures)}); none is kept in the keystore in clear. ` +
          `Control: a message still in flight at the theft was readable (${inFlightRecovered}), as expected until the next round trip heals the session.`
        : `The stolen keystore gave ${fromEnvelopes.length} of ${earlierTexts.length} earlier messages from the recorded envelopes and ${inKeystore.length} from its own contents.`;
    return {
      outcome, detail, entriesStolen: stolen.entryNames.length, sessionsStolen: stolen.sessions.length, prekeysStolen: prekeys, earlierEnvelopes: earlierEnvelopes.length, earlierOpened: attempt.opened,
      earlierTexts: earlierTexts.length, earlierRecovered: recovered.size, earlierInKeystore: inKeystore.length, inFlightRecovered,
    };
  } finally {
    await world.close();
  }
}

export const sottoDeviceKeyTheft: Scenario = { attack: 'device-key-theft', system: 'Sotto', run: runSottoDeviceKeyTheft };
