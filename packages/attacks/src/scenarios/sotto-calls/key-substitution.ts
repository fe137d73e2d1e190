// Sotto calls, attack 3 — key substitution by the provider (docs/scorecard.md §4, "Sotto calls" 3). Three ways a
// malicious server can try to put its own keys into a call:
//   (a) verified contact: carol verified bob's safety number; mallory then serves its own identity key for bob.
//       carol's placeCall to bob must be refused (ERR_TRUST_CHANGED) before anything is offered.
//   (b) first contact: alice has never talked to bob. Mallory serves an impostor for each side and sits in the
//       middle of the session and of the call — two real call key agreements, one per leg, re-encrypting every
//       frame (src/mallory/sotto-call-mitm.ts). Each Call shows its SAS; the users compare them (modelled: the
//       scenario compares the strings each side's Call shows) and, if they differ, both press "they don't match"
//       (confirmSas(false)), which ends the call with `sas-mismatch`. Mallory reads the frames spoken before that.
//   (c) mallory substitutes only the call's keys, without the session: it would have to change the offer's KEM key
//       or commitment, or the ringing's or confirm's values, but these travel inside the sealed session. It
//       alters the sealed envelopes of one step at a time — the offer to bob, the ringing to dave, the confirm to
//       bob — in a call dave → bob (contacts with an honest session).
// What each victim's phone shows is the result.
import type { Call } from '@sotto/client';
import { AttacksError } from '../../errors.ts';
import { NO_KEYS } from '../../internal/sframe-media.ts';
import { SottoCallWorld, type CallPair, type CallParty } from '../../internal/sotto-calls.ts';
import { causes, clientErrorCode } from '../../internal/sotto-world.ts';
import { until } from '../../internal/wait.ts';
import { CallMitm } from '../../mallory/sotto-call-mitm.ts';
import { connectionOf, rewriteDeliveredEnvelopes, sendsTo } from '../../mallory/sotto-signalling.ts';
import { worstOutcome, type AttackResult, type Outcome, type Scenario } from '../../scenario.ts';

export interface VerifiedContactCall {
  /** placeCall's error code, or 'placed'. */
  readonly placeCall: string;
  readonly stateShown: string;
  /** Sends to bob that left carol's device during the attempt (must be 0). */
  readonly offersSent: number;
  /** What carol's SDK asked of her media (only `close`: no offer was made). */
  readonly mediaCalls: readonly string[];
  readonly outcome: Outcome;
}

export interface FirstContactCall {
  readonly aliceSas: string;
  readonly bobSas: string;
  readonly sasDiffer: boolean;
  /** How each call ended after the users compared. */
  readonly aliceEnded: { readonly reason: string; readonly by: string };
  readonly bobEnded: { readonly reason: string; readonly by: string };
  /** What each side's SDK showed about the other before the comparison. */
  readonly aliceSawBobAs: string;
  readonly bobSawAliceAs: string;
  /** Frames spoken before the comparison, and how many mallory read in the middle. */
  readonly framesSpoken: number;
  readonly framesReadByMallory: number;
  /** Both users heard each other normally through mallory (the relay was transparent). */
  readonly conversationIntact: boolean;
  /** bob's trust state at alice after the mismatch (not verified). */
  readonly bobStateAfter: string;
  readonly rewrites: number;
  readonly outcome: Outcome;
}

export interface TamperedStep {
  readonly step: 'offer to bob' | 'ringing to dave' | 'confirm to bob';
  /** What the receiving SDK reported about the altered envelope. */
  readonly rejection: string;
  readonly rung: boolean;
  readonly daveState: string;
  readonly bobState: string;
  /** Media given keys: dave's, bob's (false: no keys for that side). */
  readonly daveKeyed: boolean;
  readonly bobKeyed: boolean;
  /** Frames dave spoke (when he had keys) and bob played (must be 0), and bob's drops. */
  readonly framesSent: number;
  readonly framesPlayed: number;
  readonly framesDroppedNoKeys: number;
  readonly outcome: Outcome;
}

export interface SottoCallsKeySubstitutionEvidence extends AttackResult {
  readonly verified: VerifiedContactCall;
  readonly firstContact: FirstContactCall;
  readonly callKeysOnly: readonly TamperedStep[];
}

const sasText = (c: Call): string => (c.sas === undefined ? 'none' : `${c.sas.words.join(' ')} (${c.sas.base32})`);

const flipLastByte = (e: Uint8Array): Uint8Array => {
  const out = e.slice();
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x80;
  return out;
};

/** (c): one call dave → bob with the envelopes of one step altered on their way. */
async function tamperedCall(cw: SottoCallWorld, dave: CallParty, bob: CallParty, step: TamperedStep['step']): Promise<TamperedStep> {
  const proxy = cw.world.proxy;
  const target = step === 'ringing to dave' ? dave : bob;
  const connection = connectionOf(proxy.records, target.name);
  // The step's envelope is the first one the target gets in this call (the offer to bob, the ringing to
  // dave), or the second (the confirm to bob, after the offer); the previous step's traffic is over.
  let skip = step === 'confirm to bob' ? 1 : 0;
  proxy.setHooks(rewriteDeliveredEnvelopes((e) => (skip-- > 0 ? e : flipLastByte(e)), connection));
  const daveMedia = await cw.endpoint(`dave (${step})`);
  const bobMedia = await cw.endpoint(`bob (${step})`);
  const errors = target.errors.length;
  const rang = bob.rung.length;
  const call = await dave.user.client.placeCall(bob.name, daveMedia);
  let answered: Call | undefined;
  if (step !== 'offer to bob') {
    await until(() => bob.rung.length > rang, "bob's phone to ring");
    const incoming = bob.rung[rang];
    if (incoming === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'no incoming call');
    answered = await incoming.accept(bobMedia);
  }
  await until(() => target.errors.length > errors, `${target.name}'s SDK to process the altered envelope`);
  proxy.setHooks({});
  // Whoever holds keys speaks; nothing may be heard on the other side.
  let framesSent = 0;
  for (const line of ['Dave here: the shipment is at pier 4.', 'Repeat: pier 4.']) if (await daveMedia.speak(line)) framesSent++;
  if (framesSent > 0) await until(() => bobMedia.handled >= framesSent, "bob's media to take dave's frames");
  const result = {
    // The first error after the alteration is the rejection (an honest answer to a call whose ringing was
    // rejected then fails the call too: ERR_CALL_FAILED, reported after it).
    step, rejection: causes(target.errors[errors]), rung: bob.rung.length > rang, daveState: call.state, bobState: answered?.state ?? 'never rang',
    daveKeyed: daveMedia.calls.includes('setKeys'), bobKeyed: bobMedia.calls.includes('setKeys'), framesSent, framesPlayed: bobMedia.played.length, framesDroppedNoKeys: bobMedia.droppedAs(NO_KEYS),
  };
  await call.hangUp();
  if (answered !== undefined) await answered.ended;
  const broken = result.framesPlayed > 0 || (result.daveKeyed && result.bobKeyed) || (step === 'offer to bob' && result.rung);
  return { ...result, outcome: broken ? 'compromised' : 'resisted' };
}

export async function runSottoCallsKeySubstitution(): Promise<SottoCallsKeySubstitutionEvidence> {
  const cw = await SottoCallWorld.create();
  let mitm: CallMitm | undefined;
  try {
    const [alice, bob, carol, dave] = [await cw.party('alice'), await cw.party('bob'), await cw.party('carol'), await cw.party('dave')];
    await cw.text(carol, bob, 'Bob, carol here. Let us verify.');
    await cw.text(bob, carol, 'Hello carol.');
    await carol.user.client.verify(bob.name, (await bob.user.client.safetyNumber(carol.name)).digits, 'safety-number'); // read aloud in person
    await cw.text(dave, bob, 'Bob, dave here.');
    await cw.text(bob, dave, 'Hello dave.');

    // (c) The call's keys alone, without the session.
    const callKeysOnly: TamperedStep[] = [];
    for (const step of ['offer to bob', 'ringing to dave', 'confirm to bob'] as const) callKeysOnly.push(await tamperedCall(cw, dave, bob, step));

    // From here mallory serves impostors for alice and bob, and handles every send between them.
    mitm = await CallMitm.create(cw.world.proxy, cw.relay, cw.world.server.url, { username: alice.name, connection: connectionOf(cw.world.proxy.records, alice.name) }, { username: bob.name, connection: connectionOf(cw.world.proxy.records, bob.name) });
    mitm.start();

    // (a) carol, who verified bob, calls him.
    const carolMedia = await cw.endpoint('carol');
    const before = cw.world.proxy.records.length;
    const placeCall = await clientErrorCode(carol.user.client.placeCall(bob.name, carolMedia), 'placed');
    const carolSees = (await carol.user.client.contacts()).find((c) => c.username === bob.name);
    const offersSent = sendsTo(cw.world.proxy.records.slice(before), bob.name).length;
    const verified: VerifiedContactCall = {
      placeCall, stateShown: carolSees?.state ?? 'none', offersSent, mediaCalls: [...carolMedia.calls],
      outcome: placeCall === 'ERR_TRUST_CHANGED' && offersSent === 0 ? 'detected' : 'compromised',
    };

    // (b) alice calls bob for the first time; mallory is in the middle of the session and the call.
    const aliceMedia = await cw.endpoint('alice');
    const bobMedia = await cw.endpoint('bob');
    const rang = bob.rung.length;
    const call = await alice.user.client.placeCall(bob.name, aliceMedia);
    await until(() => bob.rung.length > rang, "bob's phone to ring");
    const incoming = bob.rung[rang];
    if (incoming === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'no incoming call');
    const bobSawAliceAs = incoming.senderState;
    const answered = await incoming.accept(bobMedia);
    await until(() => call.state === 'active' && answered.state === 'active', 'both legs to become active');
    const aliceSawBobAs = (await alice.user.client.contacts()).find((c) => c.username === bob.name)?.state ?? 'none';
    const pair: CallPair = { n: 0, call, answered, callerMedia: aliceMedia, calleeMedia: bobMedia };
    const lines = ['Bob? It is Alice. First time we speak on this.', 'Hi Alice. Go ahead.', 'The bid for Northwind is 41.50, final.', 'Understood, 41.50.'];
    let conversationIntact = true;
    try {
      await cw.converse(pair, lines);
    } catch (e) {
      if (!(e instanceof AttacksError)) throw e;
      conversationIntact = false;
    }
    await mitm.idle();
    const framesReadByMallory = lines.filter((l) => mitm?.framesRead.includes(l)).length;

    // The users read their SAS words to each other.
    const aliceSas = sasText(call);
    const bobSas = sasText(answered);
    const sasDiffer = aliceSas !== bobSas;
    if (sasDiffer) {
      await Promise.all([call.confirmSas(false), answered.confirmSas(false)]);
    } else {
      await Promise.all([call.confirmSas(true), answered.confirmSas(true)]);
      await cw.hangUp(pair);
    }
    const [aliceEnded, bobEnded] = await Promise.all([call.ended, answered.ended]);
    await mitm.idle();
    mitm.stop();
    const bobStateAfter = (await alice.user.client.contacts()).find((c) => c.username === bob.name)?.state ?? 'none';
    const firstContact: FirstContactCall = {
      aliceSas, bobSas, sasDiffer, aliceEnded, bobEnded, aliceSawBobAs, bobSawAliceAs, framesSpoken: lines.length, framesReadByMallory, conversationIntact, bobStateAfter, rewrites: mitm.rewrites,
      outcome: sasDiffer && aliceEnded.reason === 'sas-mismatch' && bobEnded.reason === 'sas-mismatch' ? 'detected' : 'compromised',
    };
    cw.checkHealthy();

    const outcome = worstOutcome([verified.outcome, firstContact.outcome, ...callKeysOnly.map((s) => s.outcome)]);
    const fc = firstContact;
    const detail =
      `Verified contact: mallory served its own key for bob; carol's call was refused (${verified.placeCall}), bob shown as ${verified.stateShown}, nothing offered (${verified.offersSent} sends). ` +
      `First contact: mallory in the middle of the session and of the call (${fc.rewrites} directory answers rewritten, two key agreements, every frame re-encrypted): both phones showed a normal call (${fc.aliceSawBobAs} contact) and mallory read ${fc.framesReadByMallory} of ${fc.framesSpoken} frames before the users compared the SAS; ` +
      `the two phones showed ${fc.sasDiffer ? `different SAS words, and "they don't match" ended both calls (${fc.aliceEnded.reason}, ${fc.bobEnded.reason})` : 'THE SAME SAS WORDS (a 2^-16 chance)'}; ` +
      `the hash commitment leaves mallory one 2^-16 guess per call. ` +
      `Call keys alone: altering the sealed ${callKeysOnly.map((s) => s.step).join(', ')} was rejected (${[...new Set(callKeysOnly.map((s) => s.rejection))].join('; ')}); ` +
      `no call got keys on both sides and ${callKeysOnly.reduce((n, s) => n + s.framesPlayed, 0)} frames were heard.`;
    return { outcome, detail, verified, firstContact, callKeysOnly };
  } finally {
    mitm?.close();
    await cw.close();
  }
}

export const sottoCallsKeySubstitution: Scenario = { attack: 'key-substitution', system: 'Sotto calls', run: runSottoCallsKeySubstitution };
