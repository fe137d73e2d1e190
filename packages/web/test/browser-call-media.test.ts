// The call's media layer on its own (docs/protocol/11 §11.2.4, §11.5; shared/notes/browser-calls.md):
// two real Chromium instances, each with its own fake microphone tone (the tone is a launch flag, so
// one browser per person), each running src/calls/media.ts with its real SFrame worker. The key
// agreement of §11.2 runs here in Node between them, over the SDPs the pages produce, and hands each
// page its SFrame keys. Checked: each side hears the OTHER side's tone (AnalyserNode), the worker's
// decrypted counters grow and nothing fails, the SDPs carry no ssrc-audio-level, the receiver transform
// attached at transceiver creation is live (the canary for w3c/webrtc-encoded-transform#314), and a
// wrong receive key gives silence with every frame counted as failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastProvider } from '@sotto/crypto';
import { completeCall, confirmCallAsCallee, confirmCallAsCaller, createCallOffer, ringCallOffer, type CallKeys } from '@sotto/protocol';
import { systemRng } from '@sotto/test-support';
import { bundleForBrowser, serveDirectory } from '@sotto/test-support/browser';
import type { Browser, Page } from 'playwright-core';
import type { CallLab } from './support/call-lab-page.ts';
import { scratch } from './support/harness.ts';
import { pollStats } from './support/calls.ts';
import { chromiumWithTone, dominantFrequency, isTone } from './support/tones.ts';
import type { CallMediaStats } from '../src/calls/media.ts';

const CALLER_HZ = 440;
const CALLEE_HZ = 660;
const LAB_ENTRY = fileURLToPath(new URL('./support/call-lab-page.ts', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('../src/calls/sframe-worker.ts', import.meta.url));

/** Chromium flags for these pages: no user gesture in a bare page, so let audio start without one. */
const AUTOPLAY = ['--autoplay-policy=no-user-gesture-required'];

async function labPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => 'lab' in globalThis);
  return { page, errors };
}

type Keys = Parameters<CallLab['setKeys']>[0];

/** The page's `lab` (support/call-lab-page.ts), driven from here. */
function lab(page: Page) {
  return {
    open: (o: { wrongReceiveKey?: boolean }) => page.evaluate((o) => (globalThis as unknown as { lab: CallLab }).lab.open(o), o),
    createOffer: () => page.evaluate(() => (globalThis as unknown as { lab: CallLab }).lab.createOffer()),
    acceptOffer: (sdp: string) => page.evaluate((sdp) => (globalThis as unknown as { lab: CallLab }).lab.acceptOffer(sdp), sdp),
    acceptAnswer: (sdp: string) => page.evaluate((sdp) => (globalThis as unknown as { lab: CallLab }).lab.acceptAnswer(sdp), sdp),
    setKeys: (k: Keys) => page.evaluate((k) => (globalThis as unknown as { lab: CallLab }).lab.setKeys(k), k),
    stats: () => page.evaluate(() => (globalThis as unknown as { lab: CallLab }).lab.stats()),
    close: () => page.evaluate(() => {
      (globalThis as unknown as { lab: CallLab }).lab.close();
    }),
  };
}

function stats(page: Page): Promise<CallMediaStats> {
  return lab(page).stats();
}

/** pollStats on the page's lab call. */
function waitStats(page: Page, what: string, ok: (s: CallMediaStats) => boolean): Promise<CallMediaStats> {
  return pollStats(() => stats(page), what, ok);
}

function identityKey(): Promise<Uint8Array> {
  return fastProvider.ed25519PublicKey(systemRng(32));
}

function forPage(k: CallKeys): Keys {
  return { send: { kid: k.send.kid, baseKey: [...k.send.baseKey] }, receive: { kid: k.receive.kid, baseKey: [...k.receive.baseKey] } };
}

interface Connected {
  readonly offerSdp: string;
  readonly answerSdp: string;
  readonly caller: CallKeys;
  readonly callee: CallKeys;
}

/** The whole §11.2 flow between the two pages: offer SDP → key agreement offer → ringing values →
 *  confirm → callee's answer SDP → answer; both pages get their keys. */
async function connect(caller: Page, callee: Page, opts: { calleeWrongKey?: boolean; beforeKeys?: () => Promise<void> } = {}): Promise<Connected> {
  await lab(caller).open({});
  await lab(callee).open(opts.calleeWrongKey === true ? { wrongReceiveKey: true } : {});
  const [ikI, ikR] = await Promise.all([identityKey(), identityKey()]);
  const offerSdp = await lab(caller).createOffer();
  const { state: callerState, offer } = await createCallOffer(fastProvider, systemRng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, sdp: offerSdp });
  const answerSdp = await lab(callee).acceptOffer(offer.sdp);
  const { state: calleeState, ringing } = await ringCallOffer(fastProvider, systemRng, { callerIdentityKey: ikI, calleeIdentityKey: ikR, offer });
  const { state: callerConfirmed, confirm } = await confirmCallAsCaller(fastProvider, callerState, ringing);
  const { state: calleeConfirmed } = await confirmCallAsCallee(fastProvider, calleeState, confirm);
  const answer = { call: offer.call, sdp: answerSdp };
  await lab(caller).acceptAnswer(answer.sdp);
  const { keys: callerKeys } = await completeCall(fastProvider, callerConfirmed, answer);
  const { keys: calleeKeys } = await completeCall(fastProvider, calleeConfirmed, answer);
  await opts.beforeKeys?.();
  await lab(caller).setKeys(forPage(callerKeys));
  await lab(callee).setKeys(forPage(calleeKeys));
  return { offerSdp, answerSdp, caller: callerKeys, callee: calleeKeys };
}

test('browser call media: SFrame in an RTCRtpScriptTransform worker, each side hears the other tone', async (t) => {
  const dir = scratch(t, 'sotto-call-media-');
  const page = await bundleForBrowser({ entry: LAB_ENTRY, outDir: join(dir, 'page') });
  const worker = await bundleForBrowser({ entry: WORKER_ENTRY, outDir: join(dir, 'worker') });
  copyFileSync(join(worker.dir, 'main.js'), join(page.dir, 'sframe-worker.js'));
  const server = await serveDirectory(page.dir);
  t.after(() => server.close());
  const url = `${server.url}/`;
  // One browser per person: the fake microphone file is a launch flag.
  const [browserI, browserR] = await Promise.all([chromiumWithTone(t, dir, 'caller', CALLER_HZ, { args: AUTOPLAY }), chromiumWithTone(t, dir, 'callee', CALLEE_HZ, { args: AUTOPLAY })]);

  await t.test('(a, b) keyed call: the other tone is heard, frames decrypt, the SDPs carry no audio level', async () => {
    const [a, b] = await Promise.all([labPage(browserI, url), labPage(browserR, url)]);
    const c = await connect(a.page, b.page, {
      // Connected but not keyed yet: the sender drops every frame, so nothing non-empty reaches the
      // other side at all — no plaintext audio ever leaves (§11.5).
      beforeKeys: async () => {
        const sa = await waitStats(a.page, 'caller connected, dropping unkeyed frames', (s) => s.connectionState === 'connected' && s.frames.droppedUnkeyed > 20);
        const sb = await waitStats(b.page, 'callee connected, dropping unkeyed frames', (s) => s.connectionState === 'connected' && s.frames.droppedUnkeyed > 20);
        for (const [who, s] of [['caller', sa], ['callee', sb]] as const) assert.equal(s.frames.encrypted + s.frames.decrypted, 0, `${who}: nothing encrypted or decrypted before the keys`);
        const [ra, rb] = await Promise.all([stats(a.page), stats(b.page)]);
        // A receiver that got any non-empty frame before the keys would have counted it: none came,
        // because the other side's sender dropped them all instead of sending plaintext.
        assert.equal(ra.frames.droppedUnkeyedReceived, 0, `the caller received no audio frame before the keys: ${JSON.stringify(ra.frames)}`);
        assert.equal(rb.frames.droppedUnkeyedReceived, 0, `the callee received no audio frame before the keys: ${JSON.stringify(rb.frames)}`);
      },
    });
    assert.doesNotMatch(c.offerSdp, /ssrc-audio-level/, 'the offer SDP leaks no voice activity (§11.2.4)');
    assert.doesNotMatch(c.answerSdp, /ssrc-audio-level/, 'the answer SDP leaks no voice activity (§11.2.4)');
    assert.match(c.offerSdp, /a=candidate:.* 127\.0\.0\.1 /, 'a loopback host candidate (--allow-loopback-in-peer-connection)');
    assert.deepEqual(c.caller.sas, c.callee.sas, 'both sides derive the same SAS');

    for (const [who, p] of [['caller', a.page], ['callee', b.page]] as const) {
      await waitStats(p, `${who} connected and decrypting`, (s) => s.connectionState === 'connected' && s.frames.decrypted > 50 && s.totalSamplesReceived > 0);
    }
    const [heardByCaller, heardByCallee] = await Promise.all([dominantFrequency(a.page, '#remote'), dominantFrequency(b.page, '#remote')]);
    assert.ok(isTone(heardByCaller, CALLEE_HZ), `the caller hears the callee's ${CALLEE_HZ} Hz, got ${JSON.stringify(heardByCaller)}`);
    assert.ok(isTone(heardByCallee, CALLER_HZ), `the callee hears the caller's ${CALLER_HZ} Hz, got ${JSON.stringify(heardByCallee)}`);

    const [sa, sb] = await Promise.all([stats(a.page), stats(b.page)]);
    for (const [who, s] of [['caller', sa], ['callee', sb]] as const) {
      // Canary (w3c/webrtc-encoded-transform#314): the receiver transform attached when the transceiver
      // was made is the one Chromium runs — every decoded frame went through it and authenticated.
      assert.equal(s.transformsAttached, true, `${who}: sender and receiver transforms attached and started`);
      assert.ok(s.frames.encrypted > 50, `${who} encrypted its frames: ${JSON.stringify(s.frames)}`);
      assert.ok(s.frames.decrypted > 50, `${who} decrypted the peer's frames: ${JSON.stringify(s.frames)}`);
      assert.equal(s.frames.failed, 0, `${who}: no frame failed`);
      assert.ok(s.audioLevel > 0.01, `${who} plays audio: level ${s.audioLevel}`);
    }
    await lab(a.page).close();
    await lab(b.page).close();
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  await t.test('(c) a wrong receive key: nothing is heard, every frame fails, none is decoded', async () => {
    const [a, b] = await Promise.all([labPage(browserI, url), labPage(browserR, url)]);
    await connect(a.page, b.page, { calleeWrongKey: true });
    // The caller still decrypts the callee (its keys are right): the call is up both ways.
    await waitStats(a.page, 'caller decrypting', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50);
    const sb = await waitStats(b.page, 'callee receiving packets that fail', (s) => s.packetsReceived > 50 && s.frames.failed > 50);
    assert.equal(sb.frames.decrypted, 0, 'no frame authenticated under the wrong key');
    const heard = await dominantFrequency(b.page, '#remote');
    assert.ok(!isTone(heard, CALLER_HZ), `the callee must not hear the caller's tone, got ${JSON.stringify(heard)}`);
    assert.equal(heard.hz, undefined, `silence, not noise: ${JSON.stringify(heard)}`);
    const after = await stats(b.page);
    assert.equal(after.frames.decrypted, 0);
    assert.ok(after.frames.failed > sb.frames.failed, 'failures keep being counted');
    await lab(a.page).close();
    await lab(b.page).close();
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  t.after(() => Promise.all([page.remove(), worker.remove()]));
});
