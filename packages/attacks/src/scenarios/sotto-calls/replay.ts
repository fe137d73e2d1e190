// Sotto calls, attack 5 — replay (docs/scorecard.md §4, "Sotto calls" 5). Mallory holds the recording and the
// network (the server and the relay):
//   1. after a call alice → bob, it re-sends alice's recorded sends of that call (offer, confirm, hang-up) byte for
//      byte to the server, which delivers them to bob again;
//   2. it pushes the same envelopes to bob's connection under FRESH message ids, so that only the cryptography can
//      recognise them;
//   3. during a second, live call it re-injects alice's recorded SFrame frames of that call into bob's media, and
//      the frames of the first call too;
//   4. it withholds alice's next call offer from bob and delivers it (unchanged, its own id) once bob's clock is
//      61 s later — past CALL_OFFER_MAX_AGE_MS (docs/protocol/11 §11.6).
// What bob's phone does is the result: whether it rings again, shows a missed call, plays a replayed frame.
import { CALL_OFFER_MAX_AGE_MS } from '@sotto/client';
import { decodeSendMessageRequest, decodeServerFrame, encodeBase64url, encodeServerFrame } from '@sotto/protocol';
import { AttacksError } from '../../errors.ts';
import { systemRng } from '../../internal/rng.ts';
import { describeCounts, SottoCallWorld } from '../../internal/sotto-calls.ts';
import { causes } from '../../internal/sotto-world.ts';
import { until } from '../../internal/wait.ts';
import { ackedIds, connectionOf, sendsTo } from '../../mallory/sotto-signalling.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SottoCallsReplayEvidence extends AttackResult {
  /** Byte-for-byte replays of the recorded call signalling, and how the server answered them. */
  readonly replayedSends: number;
  readonly serverAnswers: readonly string[];
  readonly injectedFreshIds: number;
  /** Rejections bob's SDK reported for the fresh-id copies. */
  readonly rejections: readonly string[];
  /** Times bob's phone rang because of a replay (must be 0). */
  readonly rungByReplay: number;
  readonly missedCallsByReplay: number;
  /** SFrame frames replayed into the live call, and what bob's media did with them. */
  readonly framesReplayed: number;
  readonly framesPlayedFromReplay: number;
  readonly framesDropped: Readonly<Record<string, number>>;
  /** A genuine frame after the replays was heard. */
  readonly callSurvived: boolean;
  /** The withheld offer delivered late: shown as a missed call, and rung or not. */
  readonly lateOfferMissedCall: boolean;
  readonly lateOfferRung: boolean;
  readonly lateOfferAgeMs: number;
}

export async function runSottoCallsReplay(): Promise<SottoCallsReplayEvidence> {
  const cw = await SottoCallWorld.create();
  try {
    let bobClockAhead = 0;
    const alice = await cw.party('alice');
    const bob = await cw.party('bob', { now: () => Date.now() + bobClockAhead });
    const proxy = cw.world.proxy;

    // The call mallory records.
    const mark = proxy.records.length;
    const first = await cw.connect(alice, bob);
    await cw.converse(first, ['Authorise the transfer to Harlow Ltd.', 'Authorised, once.', 'Four hundred thousand.', 'Understood.', 'Today, before five.', 'It will be done.']);
    await cw.hangUp(first);
    const sends = sendsTo(proxy.records.slice(mark), bob.name);
    const ids = sends.map((r) => encodeBase64url(decodeSendMessageRequest(r.requestBody).id));
    await until(() => ids.every((id) => ackedIds(proxy.records).has(id)), 'bob to acknowledge the call signalling');
    const rang = bob.rung.length;
    const shown = bob.messages.length;
    const bobConnection = connectionOf(proxy.records, bob.name);

    // 1. Byte-for-byte replays to the server.
    const answers: string[] = [];
    const before1 = proxy.records.length;
    for (const r of sends) {
      const headers = Object.fromEntries(Object.entries(r.requestHeaders).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)));
      const res = await fetch(`${cw.world.server.url}${r.path}`, { method: 'PUT', headers, body: r.requestBody });
      const text = await res.text();
      answers.push(res.status === 200 ? (text.includes('"duplicate":true') ? '200 duplicate' : '200 queued') : String(res.status));
    }
    // Queued again: the server delivers them and bob acknowledges (drops) them.
    if (answers.some((a) => a === '200 queued')) await until(() => ids.every((id) => ackedIds(proxy.records.slice(before1)).has(id)), 'bob to take the replayed sends');

    // 2. The same envelopes under fresh ids, pushed by "the server".
    const errorsBefore = bob.errors.length;
    let seq = 2_000_000;
    for (const r of sends) {
      const { envelope } = decodeSendMessageRequest(r.requestBody);
      if (!proxy.injectToConnection(bobConnection, encodeServerFrame({ type: 'message', seq: seq++, id: systemRng(16), envelope, receivedAt: Date.now() }))) {
        throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'bob was not connected for the injection');
      }
    }
    await until(() => bob.errors.length - errorsBefore >= sends.length, "bob's SDK to process the fresh-id copies");
    const rejections = bob.errors.slice(errorsBefore).map(causes);
    const rungByReplay = bob.rung.length - rang;
    const missedCallsByReplay = bob.messages.slice(shown).filter((m) => m.kind === 'missed-call').length;

    // 3. SFrame replays into a live call.
    const second = await cw.connect(alice, bob);
    await cw.converse(second, ['New call: cancel the Harlow transfer.', 'Cancelled.', 'And freeze the account.']);
    const fromAlice = (allocation: string): Uint8Array[] => cw.relay.capture.filter((d) => !d.injected && d.allocation === allocation).map((d) => d.bytes);
    const replayed = [...fromAlice(second.calleeMedia.allocation), ...fromAlice(first.calleeMedia.allocation)];
    const played = second.calleeMedia.played.length;
    const handled = second.calleeMedia.handled;
    for (const f of replayed) await cw.relay.inject(second.calleeMedia.allocation, f);
    await until(() => second.calleeMedia.handled - handled >= replayed.length, "bob's media to take the replayed frames");
    const framesPlayedFromReplay = second.calleeMedia.played.length - played;
    const framesDropped = Object.fromEntries(second.calleeMedia.dropped);
    let callSurvived = true;
    try {
      await cw.converse(second, ['One more thing, after all that noise.']);
    } catch (e) {
      if (!(e instanceof AttacksError)) throw e;
      callSurvived = false;
    }
    await cw.hangUp(second);

    // 4. A withheld offer, delivered after its time.
    let withheld: string | undefined;
    proxy.setHooks({
      toClientFrame: (connection, text) => {
        if (connection !== bobConnection || decodeServerFrame(text).type !== 'message') return undefined;
        withheld ??= text; //                                  the first message for bob: the offer
        return null;
      },
    });
    const rangBefore4 = bob.rung.length;
    const shownBefore4 = bob.messages.length;
    const media = await cw.endpoint('alice#late');
    const late = await alice.user.client.placeCall(bob.name, media);
    await until(() => withheld !== undefined, 'the offer to reach mallory');
    await late.hangUp(); //                                         alice gives up; nobody answered
    proxy.setHooks({});
    bobClockAhead = CALL_OFFER_MAX_AGE_MS + 1_000;
    const offerFrame = withheld;
    if (offerFrame === undefined || !proxy.injectToConnection(bobConnection, offerFrame)) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'the withheld offer could not be delivered');
    const lateId = encodeBase64url((decodeServerFrame(offerFrame) as { id: Uint8Array }).id);
    await until(() => ackedIds(proxy.records).has(lateId), 'bob to take the late offer');
    const lateOfferMissedCall = bob.messages.slice(shownBefore4).some((m) => m.kind === 'missed-call' && m.from === alice.name);
    const lateOfferRung = bob.rung.length > rangBefore4;
    cw.checkHealthy();

    const compromised = rungByReplay > 0 || missedCallsByReplay > 0 || framesPlayedFromReplay > 0 || lateOfferRung;
    const outcome = compromised ? 'compromised' : 'resisted';
    const detail =
      outcome === 'resisted'
        ? `Bob's phone never rang for a replay: alice's ${sends.length} recorded call sends (offer, confirm, hang-up) re-sent byte for byte (server: ${[...new Set(answers)].join(', ')}) were dropped by their known ids, silently; ` +
          `the same envelopes under fresh ids were rejected (${[...new Set(rejections)].join('; ')}). ` +
          `${replayed.length} recorded SFrame frames injected into a live call (this call's and the previous call's) played ${framesPlayedFromReplay} (${describeCounts(second.calleeMedia.dropped)}); a genuine frame afterwards ${callSurvived ? 'was heard' : 'WAS NOT heard'}. ` +
          `An offer mallory withheld and delivered ${Math.round((CALL_OFFER_MAX_AGE_MS + 1_000) / 1000)} s late was shown as a missed call${lateOfferMissedCall ? '' : ' (NOT shown)'}, never rung.`
        : `Replays rang bob ${rungByReplay + (lateOfferRung ? 1 : 0)} time(s), showed ${missedCallsByReplay} missed call(s), played ${framesPlayedFromReplay} replayed frame(s).`;
    return {
      outcome, detail, replayedSends: sends.length, serverAnswers: answers, injectedFreshIds: sends.length, rejections, rungByReplay, missedCallsByReplay, framesReplayed: replayed.length,
      framesPlayedFromReplay, framesDropped, callSurvived, lateOfferMissedCall, lateOfferRung, lateOfferAgeMs: CALL_OFFER_MAX_AGE_MS + 1_000,
    };
  } finally {
    await cw.close();
  }
}

export const sottoCallsReplay: Scenario = { attack: 'replay', system: 'Sotto calls', run: runSottoCallsReplay };
