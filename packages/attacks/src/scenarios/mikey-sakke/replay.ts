// MIKEY-SAKKE, attack 5 — replay (docs/scorecard.md §3.5). Mallory re-sends a recorded I_MESSAGE to bob: at once
// (inside the clock-skew window, where only bob's replay cache can stop it, RFC 3830 §5.4), with its ECCSI
// signature re-encoded as (r, q − s) (which still verifies, RFC 6507 §5.2.2), and an hour later (outside the
// window); and it replays alice's recorded SRTP packets into the ongoing call (RFC 3711 §3.3.2 replay list).
// What bob's phone reports for each is the result.
import { decodeEccsiSignature, decodeIMessage, ECCSI_Q, encodeEccsiSignature, encodeIMessage, MIKEY_MAX_CLOCK_SKEW_MS } from '@sotto/escrow';
import { AttacksError } from '../../errors.ts';
import type { MikeyPhone, PhoneEvent } from '../../internal/mikey-phone.ts';
import { BOB, MikeyWorld, utc } from '../../internal/mikey-world.ts';
import { KEY_MGMT_PREFIX, parseSignalling } from '../../mallory/mikey-network.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface MikeyReplayAttempt {
  readonly what: string;
  /** What bob's phone reported: 'accepted', or the refusal code / SRTP rejection reason. */
  readonly bobReported: string;
}

export interface MikeyReplayEvidence extends AttackResult {
  readonly attempts: readonly MikeyReplayAttempt[];
  readonly framesHeardBefore: number;
  readonly framesHeardAfter: number;
}

export async function runMikeyReplay(): Promise<MikeyReplayEvidence> {
  const start = utc(2026, 11, 12, 10);
  const world = await MikeyWorld.create(start, ['alice', 'bob']);
  try {
    const [alice, bob] = [world.phone('alice'), world.phone('bob')];
    const callId = await world.converse(alice, bob, [['caller', 'Release the payment now.'], ['caller', 'Authorisation seven-seven-alpha.']]);
    const heardBefore = bob.call(callId)?.heard.length ?? 0;

    // From the recording: the INVITE that set the call up, and alice's media packets (from the INVITE's Media: address).
    const capture = world.network.capture;
    const inviteDatagram = capture.find((d) => d.channel === 'signalling' && parseSignalling(d.bytes)?.method === 'INVITE');
    const invite = inviteDatagram === undefined ? undefined : parseSignalling(inviteDatagram.bytes);
    if (inviteDatagram === undefined || invite === undefined) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'no INVITE recorded');
    const callerMedia = invite.headers.get('media') ?? '';
    const aliceMedia = capture.filter((d) => d.channel === 'media' && d.from === callerMedia);

    const attempts: MikeyReplayAttempt[] = [];
    const replayInvite = async (what: string, bytes: Uint8Array): Promise<void> => {
      const after = bob.events.length;
      await world.network.injectSignalling(BOB, bytes);
      const e = await bob.waitForEvent((ev) => ev.callId === callId && ev.kind !== 'media-refused', after);
      attempts.push({ what, bobReported: reported(e) });
    };

    world.advanceTo(start + 30_000);
    await replayInvite('the recorded INVITE, 30 s later', inviteDatagram.bytes);

    const line = invite.body.split('\r\n').find((l) => l.startsWith(KEY_MGMT_PREFIX)) ?? '';
    const { message } = decodeIMessage(new Uint8Array(Buffer.from(line.slice(KEY_MGMT_PREFIX.length), 'base64')));
    const sig = decodeEccsiSignature(message.signature);
    const mauled = encodeIMessage({ ...message, signature: encodeEccsiSignature({ ...sig, s: ECCSI_Q - sig.s }) });
    const mauledInvite = new TextDecoder().decode(inviteDatagram.bytes).replace(line, `${KEY_MGMT_PREFIX}${Buffer.from(mauled).toString('base64')}`);
    await replayInvite('the same I_MESSAGE with its signature re-encoded as (r, q - s)', new TextEncoder().encode(mauledInvite));

    world.advanceTo(start + 60 * 60_000);
    await replayInvite('the recorded INVITE, one hour later', inviteDatagram.bytes);

    const bobMedia = bob.mediaAddress(callId);
    if (bobMedia === undefined) throw new AttacksError('ERR_ATTACKS_SCENARIO_FAILED', 'bob has no media socket for the call');
    const after = bob.events.length;
    for (const d of aliceMedia) await world.network.injectMedia(bobMedia, d.bytes);
    const refusals = await waitMediaOutcomes(bob, callId, after, heardBefore, aliceMedia.length);
    attempts.push({ what: `alice's ${aliceMedia.length} recorded SRTP packets, into the live call`, bobReported: refusals });

    const heardAfter = bob.call(callId)?.heard.length ?? 0;
    const accepted = attempts.filter((a) => a.bobReported === 'accepted' || a.bobReported.includes('heard'));
    const outcome = accepted.length > 0 || heardAfter !== heardBefore ? 'compromised' : 'resisted';
    const detail =
      outcome === 'resisted'
        ? `Bob's phone refused every replay: ${attempts.map((a) => `${a.what} → ${a.bobReported}`).join('; ')}. ` +
          `Modelled: a replay cache kept for the whole ${MIKEY_MAX_CLOCK_SKEW_MS / 60_000}-minute skew window (RFC 3830 §5.4) and SRTP's replay list (RFC 3711 §3.3.2).`
        : `Bob's phone accepted a replay: ${accepted.map((a) => a.what).join('; ')}.`;
    return { outcome, detail, attempts, framesHeardBefore: heardBefore, framesHeardAfter: heardAfter };
  } finally {
    await world.close();
  }
}

function reported(e: PhoneEvent): string {
  if (e.kind === 'call-connected') return 'accepted';
  return e.kind === 'call-refused' ? e.code : e.reason;
}

/** Waits until each of `count` injected packets was either heard or refused; summarises the refusals. */
async function waitMediaOutcomes(bob: MikeyPhone, callId: string, after: number, heardBefore: number, count: number): Promise<string> {
  const done = (): boolean => bob.events.slice(after).filter((e) => e.kind === 'media-refused' && e.callId === callId).length + ((bob.call(callId)?.heard.length ?? 0) - heardBefore) >= count;
  await bob.waitUntil(done);
  const reasons = bob.events.slice(after).filter((e) => e.kind === 'media-refused').map((e) => reported(e));
  const heard = (bob.call(callId)?.heard.length ?? 0) - heardBefore;
  const counts = [...new Set(reasons)].map((r) => `${reasons.filter((x) => x === r).length}× ${r}`);
  if (heard > 0) counts.push(`${heard} heard again`);
  return counts.join(', ');
}

export const mikeyReplay: Scenario = {
  attack: 'replay',
  system: 'MIKEY-SAKKE',
  run: runMikeyReplay,
};
