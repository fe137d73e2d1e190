// WeriftCallMedia (src/calls/werift-media.ts) without a server: two instances in this process, wired
// through the real call key agreement of @sotto/protocol (docs/protocol/11 §11.2–11.5) exactly as the
// SDK wires them — offer SDP → answer SDP → keys — each playing a different tone. Each side must hear
// the OTHER side's tone (decrypted with SFrame, decoded by Opus), and nothing may be dropped.
//
// This is also the recipe for a browser↔CLI interop test: construct `new WeriftCallMedia({ source,
// onAudio })`, pass it to client.placeCall(peer, media) or incoming.accept(media) (or drive
// createOffer/acceptOffer/acceptAnswer/setKeys yourself as below), and judge `media.stats` and what
// `onAudio` delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeProvider } from '@sotto/crypto';
import { IdentityKeyPair, completeCall, confirmCallAsCallee, confirmCallAsCaller, createCallOffer, ringCallOffer, sdpFingerprint } from '@sotto/protocol';
import { dominantTone, loudestWindow, systemRng, tone } from '@sotto/test-support';
import { AudioTimeline } from '../src/calls/timeline.ts';
import { WeriftCallMedia, pcmSource } from '../src/calls/werift-media.ts';

/** Frames each side receives before the test judges: 1.5 s of audio. */
const FRAMES_TO_HEAR = 75;

interface Side {
  readonly media: WeriftCallMedia;
  readonly heard: Int16Array[];
  readonly enough: Promise<void>;
}

function side(hz: number): Side {
  const heard: Int16Array[] = [];
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  let frames = 0;
  const timeline = new AudioTimeline((s) => heard.push(s.slice()));
  const media = new WeriftCallMedia({
    source: pcmSource(tone(hz, 30)),
    onAudio: (samples, at) => {
      timeline.put(samples, at);
      if (++frames === FRAMES_TO_HEAR) done();
    },
  });
  return { media, heard, enough };
}

function joined(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('two WeriftCallMedia over loopback: the SDK-style key agreement, SFrame on every frame, each hears the other tone', async () => {
  const crypto = nodeProvider;
  const rng = systemRng;
  const ikI = (await IdentityKeyPair.generate(crypto, rng)).publicKey;
  const ikR = (await IdentityKeyPair.generate(crypto, rng)).publicKey;
  const caller = side(440);
  const callee = side(660);
  try {
    const offerSdp = await caller.media.createOffer();
    assert.match(sdpFingerprint(offerSdp), /^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'one DTLS fingerprint, as §11.2.4 wants');
    assert.doesNotMatch(offerSdp, /ssrc-audio-level/);
    assert.match(offerSdp, /a=rtpmap:\d+ opus\/48000\/2/i);
    assert.match(offerSdp, /a=candidate:.* 127\.0\.0\.1 /, 'a loopback host candidate');
    const { state: cs, offer } = await createCallOffer(crypto, rng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: offerSdp });
    const answerSdp = await callee.media.acceptOffer(offer.sdp);
    sdpFingerprint(answerSdp);
    // docs/protocol/11 §11.1: ringing values, confirm, then the answer bound into both sides' keys.
    const { state: rs, ringing } = await ringCallOffer(crypto, rng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer });
    const { state: cc, confirm } = await confirmCallAsCaller(crypto, cs, ringing);
    const { state: rc } = await confirmCallAsCallee(crypto, rs, confirm);
    const answer = { call: offer.call, sdp: answerSdp };
    await caller.media.acceptAnswer(answer.sdp);
    const { keys: callerKeys } = await completeCall(crypto, cc, answer);
    await caller.media.setKeys({ send: callerKeys.send, receive: callerKeys.receive });
    const { keys: calleeKeys } = await completeCall(crypto, rc, answer);
    await callee.media.setKeys({ send: calleeKeys.send, receive: calleeKeys.receive });
    assert.deepEqual(callerKeys.sas, calleeKeys.sas);

    await Promise.all([caller.media.whenConnected(), callee.media.whenConnected(), caller.enough, callee.enough]);

    for (const [who, s, want] of [['caller', caller, 660], ['callee', callee, 440]] as const) {
      const heard = loudestWindow(joined(s.heard), 1);
      const verdict = dominantTone(heard);
      assert.equal(verdict.dominant, want, `${who} hears the other side's ${want} Hz tone (got ${verdict.dominant} Hz)`);
      assert.ok(verdict.ratio > 100, `${who}: the tone stands far above every other frequency (ratio ${verdict.ratio.toFixed(1)})`);
      assert.ok(verdict.rms > 2000, `${who}: the tone is audible (rms ${verdict.rms.toFixed(0)})`);
      assert.equal(s.media.stats.dropped, 0, `${who}: no frame failed SFrame`);
      assert.ok(s.media.stats.sent > 0 && s.media.stats.received >= FRAMES_TO_HEAR, `${who}: ${JSON.stringify(s.media.stats)}`);
    }
  } finally {
    caller.media.close();
    callee.media.close();
  }
});

test('frames under a wrong key are dropped and counted, never decoded; the other direction still plays', async () => {
  const a = side(440);
  const b = side(660);
  try {
    const answerSdp = await b.media.acceptOffer(await a.media.createOffer());
    await a.media.acceptAnswer(answerSdp);
    const k = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
    // a sends under its key 1; b expects a's KID 0 under a different base key: every frame fails.
    await a.media.setKeys({ send: { kid: 0, baseKey: k(1) }, receive: { kid: 1, baseKey: k(2) } });
    await b.media.setKeys({ send: { kid: 1, baseKey: k(2) }, receive: { kid: 0, baseKey: k(3) } });
    await Promise.all([a.media.whenConnected(), b.media.whenConnected(), a.enough]);
    // a hears b (the keys match in that direction); b has dropped everything a sent.
    await waitUntil(() => b.media.stats.dropped >= 20);
    assert.equal(b.media.stats.received, 0, 'nothing under the wrong key reached the decoder');
    assert.equal(b.heard.length, 0);
    assert.equal(dominantTone(loudestWindow(joined(a.heard), 1)).dominant, 660);
  } finally {
    a.media.close();
    b.media.close();
  }
});

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}
