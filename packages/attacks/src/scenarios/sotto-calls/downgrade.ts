// Sotto calls, attack 6 — downgrade (docs/scorecard.md §4, "Sotto calls" 6). Nothing about a call is negotiated:
// the key agreement is fixed (X25519 + ML-KEM-1024, docs/protocol/11 §11.2), the SFrame suite is fixed
// (AES_256_GCM_SHA512_128, §11.5), and the SDPs, which a WebRTC stack negotiates, travel sealed in the session
// (§11.6). Mallory rewrites what it can reach anyway:
//   * signalling: every envelope delivered to bob while alice calls him gets another version byte (0x01 → 0x02),
//     another type byte, or one flipped bit inside the sealed body (the only way to touch a field such as the
//     offer's SDP, KEM key or commitment);
//   * media, in a live call: alice's frames reach bob with the KID rewritten (0 → 1, the callee's own, and 0 → 7),
//     the CTR rewritten, the header re-encoded in a longer (non-minimal) form, one ciphertext bit flipped, or the
//     16-byte tag cut to 8 bytes (a "weaker suite" would need a shorter tag or another cipher, and no field names
//     either).
// What bob's phone does is the result: ring, show, or play anything altered, or drop it and count why.
import { decodeSframeHeader } from '@sotto/protocol';
import { AttacksError } from '../../errors.ts';
import { describeCounts, SottoCallWorld } from '../../internal/sotto-calls.ts';
import { causes } from '../../internal/sotto-world.ts';
import { until } from '../../internal/wait.ts';
import { connectionOf, rewriteDeliveredEnvelopes } from '../../mallory/sotto-signalling.ts';
import type { AttackResult, Scenario } from '../../scenario.ts';

export interface SignallingDowngrade {
  readonly what: string;
  /** What bob's SDK reported (the rejection with its causes). */
  readonly result: string;
  readonly rung: boolean;
}

export interface MediaDowngrade {
  readonly what: string;
  /** The drop reason bob's media counted, or 'played'. */
  readonly result: string;
}

export interface SottoCallsDowngradeEvidence extends AttackResult {
  readonly signallingAttempts: readonly SignallingDowngrade[];
  readonly mediaAttempts: readonly MediaDowngrade[];
  /** Tag lengths of the genuine frames (frame − header − transcript): the suite's full 16 bytes. */
  readonly tagBytes: readonly number[];
  readonly callStillWorks: boolean;
}

const flipMiddleBit = (e: Uint8Array): Uint8Array => {
  const out = e.slice();
  const i = Math.floor(out.length / 2);
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
};

export async function runSottoCallsDowngrade(): Promise<SottoCallsDowngradeEvidence> {
  const cw = await SottoCallWorld.create();
  try {
    const alice = await cw.party('alice');
    const bob = await cw.party('bob');
    const proxy = cw.world.proxy;
    // A first call, so that the session exists and bob's connection is known.
    const warm = await cw.connect(alice, bob);
    await cw.converse(warm, ['Testing, one, two.', 'I hear you.']);
    await cw.hangUp(warm);
    const bobConnection = connectionOf(proxy.records, bob.name);

    // Signalling: envelopes altered on their way to bob.
    const envelopeRewrites: { what: string; rewrite: (e: Uint8Array) => Uint8Array }[] = [
      { what: 'envelope version byte 0x01 → 0x02', rewrite: (e) => Uint8Array.of(0x02, ...e.subarray(1)) },
      { what: 'envelope type byte altered', rewrite: (e) => Uint8Array.of(e[0] ?? 0, (e[1] ?? 0) ^ 0x07, ...e.subarray(2)) },
      { what: 'one bit flipped inside the sealed body (offer SDP, KEM key or commitment)', rewrite: flipMiddleBit },
    ];
    const signallingAttempts: SignallingDowngrade[] = [];
    for (const { what, rewrite } of envelopeRewrites) {
      proxy.setHooks(rewriteDeliveredEnvelopes(rewrite, bobConnection));
      const errors = bob.errors.length;
      const rang = bob.rung.length;
      const call = await alice.user.client.placeCall(bob.name, await cw.endpoint(`alice (${what})`));
      await until(() => bob.errors.length > errors, "bob's SDK to process the altered offer");
      proxy.setHooks({});
      await call.hangUp();
      signallingAttempts.push({ what, result: [...new Set(bob.errors.slice(errors).map(causes))].join('; '), rung: bob.rung.length > rang });
    }

    // Media: alice's frames altered on their way to bob, in a live call.
    const live = await cw.connect(alice, bob);
    await cw.converse(live, ['This line is being tested.', 'Go on.']);
    const frameRewrites: { what: string; rewrite: (f: Uint8Array) => Uint8Array }[] = [
      { what: 'KID 0 → 1 (the callee’s own)', rewrite: (f) => Uint8Array.of(((f[0] ?? 0) & 0x8f) | (1 << 4), ...f.subarray(1)) },
      { what: 'KID 0 → 7', rewrite: (f) => Uint8Array.of(((f[0] ?? 0) & 0x8f) | (7 << 4), ...f.subarray(1)) },
      { what: 'CTR rewritten', rewrite: (f) => Uint8Array.of((f[0] ?? 0) ^ 0x04, ...f.subarray(1)) },
      {
        what: 'header re-encoded non-minimally (1-byte CTR field)',
        rewrite: (f) => {
          const { ctr } = decodeSframeHeader(f);
          return Uint8Array.of(((f[0] ?? 0) & 0xf0) | 0x08, Number(ctr), ...f.subarray(1));
        },
      },
      { what: 'one ciphertext bit flipped', rewrite: flipMiddleBit },
      { what: 'tag cut from 16 to 8 bytes', rewrite: (f) => f.slice(0, f.length - 8) },
    ];
    const mediaAttempts: MediaDowngrade[] = [];
    const bobMedia = live.calleeMedia;
    for (const { what, rewrite } of frameRewrites) {
      cw.relay.setTamper((d) => (d.allocation === bobMedia.allocation ? rewrite(d.bytes) : undefined));
      const before = new Map(bobMedia.dropped);
      const played = bobMedia.played.length;
      const handled = bobMedia.handled;
      if (!(await live.callerMedia.speak(`Altered frame: ${what}.`))) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'alice could not speak');
      await until(() => bobMedia.handled > handled, "bob's media to take the altered frame");
      const reasons = [...bobMedia.dropped].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k]) => k);
      mediaAttempts.push({ what, result: bobMedia.played.length > played ? 'played' : reasons.join(', ') });
    }
    cw.relay.setTamper(undefined);
    let callStillWorks = true;
    try {
      await cw.converse(live, ['Is the line clean now?', 'Clean.']);
    } catch (e) {
      if (!(e instanceof AttacksError)) throw e;
      callStillWorks = false;
    }
    await cw.hangUp(live);
    cw.checkHealthy();

    // The frames as sent (scoring side): header, then ciphertext of the transcript, then the suite's tag.
    const firstFrame = cw.relay.capture.find((d) => !d.injected && d.allocation === bobMedia.allocation);
    const firstLine = cw.spoken.find((s) => s.call === live.n)?.text;
    if (firstFrame === undefined || firstLine === undefined) throw new AttacksError('ERR_ATTACKS_UNEXPECTED', 'no genuine frame recorded');
    const tagBytes = [firstFrame.bytes.length - decodeSframeHeader(firstFrame.bytes).headerLength - new TextEncoder().encode(firstLine).length];

    const failed = [...signallingAttempts.filter((a) => a.rung || a.result === ''), ...mediaAttempts.filter((a) => a.result === 'played')];
    const outcome = failed.length > 0 ? 'compromised' : 'resisted';
    const dropped = describeCounts(new Map(mediaAttempts.map((a) => [a.result, mediaAttempts.filter((b) => b.result === a.result).length])));
    const detail =
      outcome === 'resisted'
        ? `Nothing is negotiated: the call's key agreement and SFrame suite (AES_256_GCM_SHA512_128, a ${tagBytes.join('/')}-byte tag) are fixed, and the SDPs travel sealed, so mallory cannot see or rewrite them. ` +
          `Altered signalling (${signallingAttempts.map((a) => a.what).join('; ')}) was rejected by bob's SDK, never rung (${[...new Set(signallingAttempts.map((a) => a.result))].join('; ')}). ` +
          `Altered frames in a live call (${mediaAttempts.map((a) => a.what).join('; ')}) were dropped, never played (${dropped}). The call ${callStillWorks ? 'worked' : 'DID NOT work'} afterwards.`
        : `Accepted: ${failed.map((a) => a.what).join('; ')}.`;
    return { outcome, detail, signallingAttempts, mediaAttempts, tagBytes, callStillWorks };
  } finally {
    await cw.close();
  }
}

export const sottoCallsDowngrade: Scenario = { attack: 'downgrade', system: 'Sotto calls', run: runSottoCallsDowngrade };
