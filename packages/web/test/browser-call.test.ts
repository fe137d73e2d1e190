// Calls in the web client, end to end (docs/protocol/11; shared/notes/browser-calls.md): the real
// `sotto serve` on loopback serving the built client, two people in two real Chromium instances (the
// fake microphone is a launch flag, so each browser plays its own tone: Alice 440 Hz, Bob 660 Hz).
// Through the UI only: Alice calls, Bob accepts, both screens show the same two words and code, each
// hears the OTHER tone through the SFrame worker (decrypted grows, nothing fails, no
// ssrc-audio-level in the SDPs); "The words match" marks Bob verified by SAS. Then Bob calls and says
// "They don't match": the call ends on both sides with the loud warning and nothing is verified. Then
// Bob declines a call and Alice leaves a voicemail that Bob plays; after both reload the page, the missed
// call and the voicemail are still in the history. Last, the voicemail round trip with the callee
// offline (issue 5): Bob closes his tab, Alice's call rings out (a 3 s ring through the ringMs test
// hook) and she leaves a voicemail, which stays "Sent"; Bob opens Sotto again, catches up, sees the
// missed call, plays the voicemail and the analyser finds Alice's 440 Hz in it; Alice's copy turns
// "Delivered". The wrong-key case and the worker's
// zero-plaintext rule are checked at the media level (browser-call-media.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { BROWSER_REPORTS, shot, SLOW_MS, type WebUser } from './support/harness.ts';
import { callAndAccept, callPanel, installCallHooks, lastCallStats, sentSdps, setCallHookRingMs, twoCallers, waitStats } from './support/calls.ts';
import { dominantFrequency, isTone, playedFrequency } from './support/tones.ts';

const ALICE_HZ = 440;
const BOB_HZ = 660;

/** The call panel of `u`'s page. */
const panel = (u: WebUser) => callPanel(u.page);

/** Finds the `nth` voicemail from `from` (0:01–0:03; 1: the first) in `u`'s open conversation, presses
 *  Play, waits until the decrypted recording loads as media from its blob: URL (CSP media-src 'self'
 *  blob:), and returns its player. */
async function playVoicemail(u: WebUser, from: string, nth = 1): Promise<Locator> {
  const item = u.log(from).locator('li.msg--in').filter({ hasText: /Voicemail \(0:0[1-3]\)/ }).nth(nth - 1);
  await item.waitFor({ timeout: 20_000 });
  await item.getByRole('button', { name: new RegExp(`^Play the voicemail from ${from} \\(0:0[1-3]\\)$`) }).click();
  const player = item.locator('audio.voicemail__audio');
  await player.waitFor();
  assert.match((await player.getAttribute('src')) ?? '', /^blob:/);
  await player.evaluate(async (el: HTMLAudioElement) => {
    if (el.readyState >= HTMLMediaElement.HAVE_METADATA) return;
    await new Promise((ok, fail) => {
      el.addEventListener('loadedmetadata', ok, { once: true });
      el.addEventListener('error', () => {
        fail(new Error(`the voicemail does not load: ${String(el.error?.message)}`));
      }, { once: true });
    });
  });
  return player;
}


test('browser calls: SAS on both screens, each hears the other, match verifies, mismatch warns, voicemail', async (t) => {
  const { alice, bob } = await twoCallers(t, { prefix: 'sotto-web-call-', aliceHz: ALICE_HZ, bobHz: BOB_HZ, message: 'Can I call you?', bobViewport: { width: 360, height: 740 } });

  await t.test('(a, b, d) Alice calls, Bob accepts: same SAS, each hears the other, the words match', async () => {
    await callAndAccept(alice, bob);
    const [aWords, bWords, aCode, bCode] = await Promise.all([panel(alice).words(), panel(bob).words(), panel(alice).code(), panel(bob).code()]);
    assert.match(aWords ?? '', /^[A-Za-z-]+ [A-Za-z-]+$/, 'two PGP words');
    assert.match(aCode ?? '', /^[ybndrfg8ejkmcpqxot1uwisza345h769]{4}$/, 'four z-base-32 characters');
    assert.equal(aWords, bWords, 'the same words on both screens');
    assert.equal(aCode, bCode, 'the same code on both screens');

    const [sa, sb] = await Promise.all([
      waitStats(alice.page, 'alice decrypting', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50),
      waitStats(bob.page, 'bob decrypting', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50),
    ]);
    const [aliceHears, bobHears] = await Promise.all([dominantFrequency(alice.page, 'audio.call__audio'), dominantFrequency(bob.page, 'audio.call__audio')]);
    assert.ok(isTone(aliceHears, BOB_HZ), `Alice hears Bob's ${BOB_HZ} Hz, got ${JSON.stringify(aliceHears)}`);
    assert.ok(isTone(bobHears, ALICE_HZ), `Bob hears Alice's ${ALICE_HZ} Hz, got ${JSON.stringify(bobHears)}`);
    const [sa2, sb2] = await Promise.all([lastCallStats(alice.page), lastCallStats(bob.page)]);
    for (const [who, before, after] of [['alice', sa, sa2], ['bob', sb, sb2]] as const) {
      assert.equal(after.transformsAttached, true, `${who}: both transforms attached at transceiver creation and running`);
      assert.ok(after.frames.decrypted > before.frames.decrypted, `${who}: decrypted keeps growing`);
      assert.equal(after.frames.failed, 0, `${who}: no frame failed`);
    }
    const sdps = [...(await sentSdps(alice.page)), ...(await sentSdps(bob.page))];
    assert.equal(sdps.length, 2, 'one offer and one answer');
    for (const sdp of sdps) assert.doesNotMatch(sdp, /ssrc-audio-level/, 'no voice-activity header extension in a sent SDP (§11.2.4)');

    await shot(alice.page, 'call-active-sas');
    await shot(bob.page, 'phone-call-active-sas');
    const overflow = await bob.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the in-call screen is ${overflow} px wider than a 360 px phone`);

    // Mute sends silence (still encrypted): Bob stops hearing Alice's tone, and hears it again after.
    await panel(alice).button('Mute').click();
    await panel(alice).button('Unmute').waitFor();
    const muted = await dominantFrequency(bob.page, 'audio.call__audio');
    assert.ok(!isTone(muted, ALICE_HZ), `muted: Bob must not hear ${ALICE_HZ} Hz, got ${JSON.stringify(muted)}`);
    await panel(alice).button('Unmute').click();
    await panel(alice).button('Mute').waitFor();
    const unmuted = await dominantFrequency(bob.page, 'audio.call__audio');
    assert.ok(isTone(unmuted, ALICE_HZ), `unmuted: Bob hears ${ALICE_HZ} Hz again, got ${JSON.stringify(unmuted)}`);

    await panel(alice).button('The words match').click();
    await panel(alice).region.getByText('The words matched: bob is now verified by words compared in a call.').waitFor();
    await alice.badge('bob').filter({ hasText: 'Verified by words compared in a call' }).waitFor();
    assert.equal(await alice.headerBadge().textContent(), 'Verified by words compared in a call');
    assert.equal(await bob.headerBadge().textContent(), 'Unverified', "Bob has not answered yet: his view of Alice is unchanged");

    await panel(alice).button('Hang up').click();
    await panel(alice).state('ended').getByText('You ended the call.').waitFor();
    await panel(bob).state('ended').getByText('alice ended the call.').waitFor({ timeout: 10_000 });
    await panel(alice).button('Close').click();
    await panel(bob).button('Close').click();
  });

  await t.test("(d) Bob calls, the words don't match: both sides end with the warning", async () => {
    await callAndAccept(bob, alice);
    assert.equal(await panel(alice).words(), await panel(bob).words());
    await panel(bob).button('They don’t match').click();
    for (const u of [alice, bob]) {
      const alarm = panel(u).state('mismatch').getByRole('alert');
      await alarm.waitFor({ timeout: 10_000 });
      assert.match((await alarm.textContent()) ?? '', /Warning: the words did not match — someone may be listening in/);
    }
    assert.match((await panel(bob).region.textContent()) ?? '', /You said the words on your screen were not the ones alice read\. The call was ended\./);
    assert.match((await panel(alice).region.textContent()) ?? '', /bob said the words on their screen were not the ones you read\. The call was ended\./);
    await shot(alice.page, 'call-sas-mismatch');
    assert.equal(await bob.headerBadge().textContent(), 'Unverified', 'a mismatch changes no trust state (§11.4)');
    assert.equal(await alice.badge('bob').textContent(), 'Verified by words compared in a call', 'nor the earlier verification');
    const [sa, sb] = await Promise.all([lastCallStats(alice.page), lastCallStats(bob.page)]);
    assert.equal(sa.connectionState, 'closed');
    assert.equal(sb.connectionState, 'closed');
    await panel(alice).button('I understand').click();
    await panel(bob).button('I understand').click();
  });

  await t.test('Alice gives up while it rings: Bob sees a missed call', async () => {
    await alice.page.getByRole('button', { name: 'Call bob', exact: true }).click();
    await panel(bob).state('incoming').waitFor({ timeout: 20_000 });
    await panel(alice).button('Cancel the call').click();
    await panel(alice).state('ended').getByText('You ended the call.').waitFor();
    await panel(bob).state('ended').getByText('You missed a call from alice.').waitFor({ timeout: 10_000 });
    await bob.log('alice').locator('li.msg--call', { hasText: 'Missed call from alice' }).waitFor();
    await panel(alice).button('Close').click();
    await panel(bob).button('Close').click();
  });

  await t.test('Bob declines; Alice leaves a voicemail that Bob plays', async () => {
    await alice.page.getByRole('button', { name: 'Call bob', exact: true }).click();
    await panel(bob).state('incoming').waitFor({ timeout: 20_000 });
    await panel(bob).button('Decline').click();
    await panel(alice).state('ended').getByText('bob declined the call.').waitFor({ timeout: 10_000 });
    await panel(alice).button('Leave a voicemail').click();
    await panel(alice).state('recording').waitFor();
    await new Promise((r) => setTimeout(r, 1_500)); // something to record
    await panel(alice).button('Stop and send').click();
    await panel(alice).region.getByText(/^Voicemail sent to bob \(0:0[1-3]\)\.$/).waitFor({ timeout: SLOW_MS });
    await panel(bob).button('Close').click();
    await playVoicemail(bob, 'alice');
    await alice.message('bob', 'Can I call you?').waitFor();
    await alice.log('bob').locator('li.msg--out').filter({ hasText: /^You: Voicemail \(0:0[1-3]\)/ }).waitFor();
  });

  await t.test('after a reload, the missed call and the voicemail are still there (the encrypted history)', async () => {
    await Promise.all([alice.page.reload(), bob.page.reload()]);
    await Promise.all([alice.unlock(), bob.unlock()]);
    await Promise.all([alice.openConversation('bob'), bob.openConversation('alice')]);
    const missed = bob.log('alice').locator('li.msg--call', { hasText: 'Missed call from alice' });
    await missed.waitFor();
    assert.equal(await missed.count(), 1, 'one entry for the one missed call');
    assert.match((await missed.locator('time').getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/, 'with its time');
    await playVoicemail(bob, 'alice');
    await shot(bob.page, 'call-history-after-reload');
    await alice.log('bob').locator('li.msg--out').filter({ hasText: /^You: Voicemail \(0:0[1-3]\)/ }).waitFor();
    assert.equal(await alice.log('bob').locator('li.msg--call').count(), 0, 'the caller has no missed call');
  });

  await t.test("Bob's tab is closed: the call times out, Alice leaves a voicemail, Bob opens Sotto again and hears her tone in it", async () => {
    await installCallHooks(alice.page); // the reload above removed them
    await setCallHookRingMs(alice.page, 3_000); // the SDK's placeCall ringMs: no 45 s wait for the timeout
    await bob.closePage(); // offline: no page, no socket
    await alice.page.getByRole('button', { name: 'Call bob', exact: true }).click();
    await panel(alice).state('ended').getByText('bob did not answer.').waitFor({ timeout: 20_000 });
    await panel(alice).button('Leave a voicemail').click();
    await panel(alice).state('recording').waitFor();
    await new Promise((r) => setTimeout(r, 1_500)); // Alice's microphone plays her tone into the recorder
    await panel(alice).button('Stop and send').click();
    await panel(alice).region.getByText(/^Voicemail sent to bob \(0:0[1-3]\)\.$/).waitFor({ timeout: SLOW_MS });
    const sent = alice.log('bob').locator('li.msg--out').filter({ hasText: /^You: Voicemail \(0:0[1-3]\)/ });
    await sent.nth(1).waitFor();
    assert.equal(await sent.count(), 2, 'the earlier voicemail and this one');
    await sent.nth(1).locator('.status', { hasText: /^Sent/ }).waitFor(); // queued on the server: Bob is offline, no receipt yet

    await bob.reopen();
    await bob.unlock();
    await bob.openConversation('alice');
    const player = await playVoicemail(bob, 'alice', 2);
    const heard = await playedFrequency(player);
    assert.ok(isTone(heard, ALICE_HZ), `Bob hears Alice's ${ALICE_HZ} Hz in the voicemail, got ${JSON.stringify(heard)}`);
    // The offer and Alice's `timeout` were queued together: a missed call, never a phone left ringing
    // (it may ring for an instant on catch-up while the offer is under 60 s old, §11.6).
    await bob.log('alice').locator('li.msg--call', { hasText: 'Missed call from alice' }).nth(1).waitFor({ timeout: 20_000 });
    assert.equal(await panel(bob).state('incoming').count(), 0, "Bob's phone is not ringing for the call that timed out");
    if (await panel(bob).state('ended').isVisible()) await panel(bob).button('Close').click();
    await sent.nth(1).locator('.status', { hasText: /^Delivered/ }).waitFor({ timeout: SLOW_MS });
    await panel(alice).button('Close').click();
  });

  // The server has no TURN (`--turn-url` not given): GET /v1/calls/turn answers 404, which Chromium
  // reports on the console; the client then uses no ICE server (docs/protocol/11 §11.7).
  alice.assertClean([BROWSER_REPORTS.notFound]);
  bob.assertClean([BROWSER_REPORTS.notFound]);
});
