// MIKEY-SAKKE, attack 3 — key substitution by the provider (docs/scorecard.md §3.3). The KMS issues keys for
// alice's and bob's Identifiers (RFC 6509 §3.2) a second time — to mallory. They are genuine KMS-issued keys,
// so they pass every check a device makes (RFC 6507 §5.1.2, RFC 6508 §6.1.2). The provider's network diverts
// alice's call for bob to mallory's phone, which answers as bob and calls bob as alice, relaying the media it
// decrypts in between: a full man in the middle. The attack succeeds unnoticed if both phones show a normal call
// with the expected peer while mallory hears everything.
import { kmsProvisionUser, keyPeriodOfUnixMs } from '@sotto/escrow';
import { AttacksError } from '../../errors.ts';
import { MikeyPhone, type PhoneEvent } from '../../internal/mikey-phone.ts';
import { ALICE, BOB, MikeyWorld, utc } from '../../internal/mikey-world.ts';
import { recoveredOf } from '../../mallory/mikey-recording.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface MikeyKeySubstitutionEvidence extends AttackResult {
  /** Every event alice's and bob's phones showed for the intercepted call. */
  readonly aliceEvents: readonly PhoneEvent[];
  readonly bobEvents: readonly PhoneEvent[];
  readonly framesSpoken: number;
  /** Spoken frames mallory decrypted in the middle. */
  readonly framesReadByMallory: number;
  /** Whether each side heard exactly what the other said (the relay was transparent). */
  readonly conversationIntact: boolean;
}

export async function runMikeyKeySubstitution(): Promise<MikeyKeySubstitutionEvidence> {
  const world = await MikeyWorld.create(utc(2026, 11, 12, 14), ['alice', 'bob']);
  const period = keyPeriodOfUnixMs(world.now);
  const [alice, bob] = [world.phone('alice'), world.phone('bob')];
  const start = (uri: string): Promise<MikeyPhone> => MikeyPhone.start({ uri, network: world.network, community: world.community, clock: world.clock, rng: world.rng, register: false });
  const [asBob, asAlice] = await Promise.all([start(BOB), start(ALICE)]);
  try {
    // The KMS mints second key sets for the victims' Identifiers; mallory's phones install them with every RFC check.
    asBob.install(kmsProvisionUser(world.kms, BOB, period, world.rng));
    asAlice.install(kmsProvisionUser(world.kms, ALICE, period, world.rng));
    world.network.divert(BOB, asBob.signallingAddress, asAlice.signallingAddress);
    const aliceBefore = alice.events.length;
    const bobBefore = bob.events.length;

    const leg1 = await alice.dial(BOB); //                         reaches mallory-as-bob
    if (!leg1.ok) return finish(world, alice, bob, aliceBefore, bobBefore, 0, false);
    const leg2 = await asAlice.dial(BOB); //                       mallory-as-alice calls the real bob
    if (!leg2.ok) return finish(world, alice, bob, aliceBefore, bobBefore, 0, false);
    const one = leg1.call.callId;
    const two = leg2.call.callId;
    const aliceSays = ['Bob, it is Alice. Wire the money to the usual account.', 'The code word is heron.'];
    const bobSays = ['Done. Heron confirmed.'];
    for (const [i, line] of aliceSays.entries()) {
      await alice.say(one, [line]);
      world.spoken.push({ callId: one, speaker: ALICE, text: line, atMs: world.now });
      const heard = (await asBob.waitHeard(one, i + 1)).slice(i); // mallory decrypts ...
      await asAlice.say(two, heard); //                                ... and re-encrypts to bob
    }
    await bob.waitHeard(two, aliceSays.length);
    for (const [i, line] of bobSays.entries()) {
      await bob.say(two, [line]);
      world.spoken.push({ callId: two, speaker: BOB, text: line, atMs: world.now });
      const heard = (await asAlice.waitHeard(two, i + 1)).slice(i);
      await asBob.say(one, heard);
    }
    await alice.waitHeard(one, bobSays.length);
    const malloryHeard = [...(asBob.call(one)?.heard ?? []), ...(asAlice.call(two)?.heard ?? [])];
    const intact =
      JSON.stringify(bob.call(two)?.heard) === JSON.stringify(aliceSays) && JSON.stringify(alice.call(one)?.heard) === JSON.stringify(bobSays);
    return finish(world, alice, bob, aliceBefore, bobBefore, recoveredOf(world.spoken, malloryHeard).length, intact);
  } finally {
    await Promise.all([asBob.close(), asAlice.close()]);
    await world.close();
  }
}

function finish(world: MikeyWorld, alice: MikeyPhone, bob: MikeyPhone, aliceBefore: number, bobBefore: number, read: number, intact: boolean): MikeyKeySubstitutionEvidence {
  world.network.checkHealthy();
  const aliceEvents = alice.events.slice(aliceBefore);
  const bobEvents = bob.events.slice(bobBefore);
  const warned = [...aliceEvents, ...bobEvents].filter((e) => e.kind !== 'call-connected');
  const aliceSawBob = aliceEvents.some((e) => e.kind === 'call-connected' && e.peer === BOB);
  const bobSawAlice = bobEvents.some((e) => e.kind === 'call-connected' && e.peer === ALICE);
  if (warned.length > 0) {
    const codes = warned.map((e) => (e.kind === 'media-refused' ? e.reason : e.code)).join(', ');
    return { outcome: 'detected', detail: `A victim's phone refused part of the intercepted call (${codes}).`, aliceEvents, bobEvents, framesSpoken: world.spoken.length, framesReadByMallory: read, conversationIntact: intact };
  }
  if (!aliceSawBob || !bobSawAlice) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'the intercepted call neither connected nor was refused');
  const outcome = read > 0 ? 'compromised' : 'resisted';
  const detail =
    outcome === 'compromised'
      ? `The KMS issued a second, valid key set for bob and for alice to mallory (both pass the RFC 6507/6508 device checks). Alice's phone showed a normal call to bob, ` +
        `bob's a normal call from alice (ECCSI signature verified), with no warning on either; mallory decrypted ${read} of ${world.spoken.length} spoken frames in the middle` +
        `${intact ? ' and relayed them unchanged' : ''}. MIKEY-SAKKE gives users nothing to compare: identity is whatever the KMS says.`
      : 'Both phones connected but mallory read nothing.';
  return { outcome, detail, aliceEvents, bobEvents, framesSpoken: world.spoken.length, framesReadByMallory: read, conversationIntact: intact };
}

export const mikeyKeySubstitution: Scenario = {
  attack: 'key-substitution',
  system: 'MIKEY-SAKKE',
  run: runMikeyKeySubstitution,
};
