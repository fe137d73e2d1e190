// A malicious server substitutes the call keys, in real Chromium (issue 5: "a malicious-server scenario that
// substitutes the call keys: the SAS differs and no audio decrypts"; docs/protocol/11 §11.2.3, §11.4). The
// browser version of packages/attacks' Sotto-calls key substitution (b): the real `sotto serve` on loopback,
// and in front of it mallory's recording proxy (packages/attacks/src/mallory/proxy.ts), through which each
// browser gets everything — the web app itself, the API and the WebSocket. Alice and Bob have never talked
// (first contact, trust on first use). Mallory (packages/attacks/src/mallory/sotto-call-mitm.ts, the real SDK
// and protocol code in this process) serves an impostor identity for each of them, so both sessions are with
// mallory; when Alice calls, it runs its OWN call key agreement on each leg (callee towards Alice, caller
// towards Bob) and passes both SDPs on unchanged ('direct'), so the two browsers' DTLS connects directly and
// mallory relays no media. Checked on both screens:
// - each shows the SAS of its own leg with mallory (mallory's two agreements really completed), and the two
//   differ (the hash commitment leaves mallory one 2⁻¹⁶ guess);
// - media arrives over the direct DTLS connection, yet no frame decrypts (the SFrame worker's decrypted
//   counter stays 0, its failed counter grows) and the analyser hears silence, not noise;
// - "They don't match" on Bob's screen ends both calls with the loud warning.
// The control, through the same proxy and server with mallory's hooks removed: Alice calls Carol (in Bob's
// browser, so also 660 Hz), both screens show the same SAS, frames decrypt and each hears the other's tone —
// so the zero above is the substitution, not a broken setup.
// Why the test lives here and not in packages/attacks/test: it drives the web client (DOM-typed support code,
// the built app), and a test may reach into a sibling package's fixtures by path, as browser-call-relay.test.ts
// does with the server's coturn; no package's src gains a dependency (web stays web → client → protocol).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Sas } from '@sotto/protocol';
import { RecordingProxy } from '../../attacks/src/mallory/proxy.ts';
import { CallMitm } from '../../attacks/src/mallory/sotto-call-mitm.ts';
import { connectionOf, sendsTo } from '../../attacks/src/mallory/sotto-signalling.ts';
import { until } from '../../attacks/src/internal/wait.ts';
import { BROWSER_REPORTS, requireBuiltClient, scratch, startServe, WebUser } from './support/harness.ts';
import { callAndAccept, callPanel, installCallHooks, lastCallStats, waitStats } from './support/calls.ts';
import { chromiumWithTone, dominantFrequency, isTone } from './support/tones.ts';

const ALICE_HZ = 440;
const BOB_HZ = 660;

const panel = (u: WebUser) => callPanel(u.page);

/** What a screen shows of a SAS: "word word (code)". */
async function shownSas(u: WebUser): Promise<string> {
  const [words, code] = await Promise.all([panel(u).words(), panel(u).code()]);
  assert.match(words ?? '', /^[A-Za-z-]+ [A-Za-z-]+$/, `${u.name}: two PGP words on screen`);
  return `${words ?? ''} (${code ?? ''})`;
}

const sasText = (s: Sas | undefined): string => (s === undefined ? 'none' : `${s.words.join(' ')} (${s.base32})`);


test('browser calls, malicious server substitutes the call keys at first contact: SAS differ, no frame decrypts, nothing heard, the mismatch warns both', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-mitm-');
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const proxy = await RecordingProxy.start(server.url);
  t.after(() => proxy.close());
  const [browserA, browserB] = await Promise.all([chromiumWithTone(t, dir, 'alice', ALICE_HZ), chromiumWithTone(t, dir, 'bob', BOB_HZ)]);
  // Every page is loaded from mallory's proxy: the app, the API and the WebSocket all cross it.
  const alice = await WebUser.open(browserA, proxy.url, 'alice', 'correct horse battery alice');
  const bob = await WebUser.open(browserB, proxy.url, 'bob', 'bob likes long passphrases');
  const carol = await WebUser.open(browserB, proxy.url, 'carol', 'carol keeps her own counsel');
  await Promise.all([alice.register(), bob.register(), carol.register()]);
  await Promise.all([installCallHooks(alice.page), installCallHooks(bob.page), installCallHooks(carol.page)]);

  // From here mallory answers every lookup of alice or bob with an impostor and handles their sends.
  const mitm = await CallMitm.create(proxy, 'direct', server.url, { username: 'alice', connection: connectionOf(proxy.records, 'alice') }, { username: 'bob', connection: connectionOf(proxy.records, 'bob') });
  t.after(() => {
    mitm.close();
  });
  mitm.start();

  await t.test('mallory in both sessions and both call key agreements: the SAS differ, media flows directly, nothing decrypts or is heard', async () => {
    await alice.startConversation('bob');
    await callAndAccept(alice, bob);
    await until(() => mitm.legSas.withA !== undefined && mitm.legSas.withB !== undefined, "mallory's two key agreements to complete");
    await mitm.idle();
    const [aliceSees, bobSees] = await Promise.all([shownSas(alice), shownSas(bob)]);
    const legs = mitm.legSas;
    assert.ok(mitm.rewrites >= 2, `mallory served impostors (${mitm.rewrites} answers rewritten)`);
    // docs/protocol/11 §11.1: offer, ringing (bob's values), alice's confirm after mallory's ringing, bob's answer;
    // alice's confirm and bob's answer may come in either order.
    assert.deepEqual(mitm.log.slice(0, 2), ['alice: call-offer', 'bob: call-ringing'], 'mallory opened the offer and bob’s ringing values');
    assert.deepEqual([...mitm.log.slice(2, 4)].sort(), ['alice: call-confirm', 'bob: call-answer'], 'and alice’s confirm and bob’s answer');
    const sends = [...sendsTo(proxy.records, 'bob'), ...sendsTo(proxy.records, 'alice')];
    assert.ok(sends.length >= 4 && sends.every((r) => r.answeredByMallory === true), 'no send between them reached the real server');
    assert.equal(aliceSees, sasText(legs.withA), "Alice's screen shows the SAS of her key agreement with mallory");
    assert.equal(bobSees, sasText(legs.withB), "Bob's screen shows the SAS of his key agreement with mallory");
    // Two independent agreements: equal words would be mallory's one 2⁻¹⁶ guess coming true.
    assert.notEqual(aliceSees.split(' (')[0], bobSees.split(' (')[0], `the two screens show different words (${aliceSees} / ${bobSees})`);

    // The SDPs went through unchanged, so the browsers' DTLS connects directly; each encrypts with its own
    // leg's keys, so every frame reaches the other side and fails there.
    const [sa, sb] = await Promise.all([
      waitStats(alice.page, 'alice: frames arrive and fail', (s) => s.connectionState === 'connected' && s.packetsReceived > 50 && s.frames.failed > 50),
      waitStats(bob.page, 'bob: frames arrive and fail', (s) => s.connectionState === 'connected' && s.packetsReceived > 50 && s.frames.failed > 50),
    ]);
    const [aliceHears, bobHears] = await Promise.all([dominantFrequency(alice.page, 'audio.call__audio'), dominantFrequency(bob.page, 'audio.call__audio')]);
    assert.equal(aliceHears.hz, undefined, `Alice hears silence, not Bob's ${BOB_HZ} Hz nor noise: ${JSON.stringify(aliceHears)}`);
    assert.equal(bobHears.hz, undefined, `Bob hears silence, not Alice's ${ALICE_HZ} Hz nor noise: ${JSON.stringify(bobHears)}`);
    const [sa2, sb2] = await Promise.all([lastCallStats(alice.page), lastCallStats(bob.page)]);
    for (const [who, before, after] of [['alice', sa, sa2], ['bob', sb, sb2]] as const) {
      assert.equal(after.transformsAttached, true, `${who}: the SFrame transforms run`);
      assert.ok(after.frames.encrypted > 50, `${who}: sends SFrame ciphertext`);
      assert.equal(after.frames.decrypted, 0, `${who}: no frame decrypted under the substituted keys`);
      assert.ok(after.frames.failed > before.frames.failed, `${who}: failures keep being counted`);
      const pair = after.selectedPair;
      assert.ok(pair !== undefined && pair.local.candidateType === 'host' && pair.remote.candidateType === 'host', `${who}: a direct host ↔ host path, no relay: ${JSON.stringify(pair)}`);
    }
  });

  await t.test("Bob says the words don't match: both calls end with the loud warning", async () => {
    await panel(bob).button('They don’t match').click();
    for (const u of [alice, bob]) {
      const alarm = panel(u).state('mismatch').getByRole('alert');
      await alarm.waitFor({ timeout: 10_000 });
      assert.match((await alarm.textContent()) ?? '', /Warning: the words did not match — someone may be listening in/, `${u.name}: the warning`);
    }
    assert.match((await panel(bob).region.textContent()) ?? '', /You said the words on your screen were not the ones alice read\. The call was ended\./);
    assert.match((await panel(alice).region.textContent()) ?? '', /bob said the words on their screen were not the ones you read\. The call was ended\./);
    const [sa, sb] = await Promise.all([lastCallStats(alice.page), lastCallStats(bob.page)]);
    assert.equal(sa.connectionState, 'closed');
    assert.equal(sb.connectionState, 'closed');
    assert.equal(sa.frames.decrypted + sb.frames.decrypted, 0, 'nothing was ever heard');
    assert.equal(await alice.headerBadge().textContent(), 'Unverified', 'a mismatch verifies nobody (§11.4)');
    await Promise.all([panel(alice).button('I understand').click(), panel(bob).button('I understand').click()]);
    await mitm.idle();
    assert.equal(mitm.log.at(-1), 'bob: call-end', "mallory passed Bob's `sas-mismatch` on to Alice (had it kept it, Alice would still hear nothing)");
  });

  await t.test('control: without mallory, through the same proxy and server, Alice and Carol see the same SAS and each hears the other', async () => {
    mitm.stop();
    await alice.startConversation('carol');
    await callAndAccept(alice, carol);
    assert.equal(await shownSas(alice), await shownSas(carol), 'the same SAS on both screens');
    await Promise.all([
      waitStats(alice.page, 'alice decrypting', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50),
      waitStats(carol.page, 'carol decrypting', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50),
    ]);
    const [aliceHears, carolHears] = await Promise.all([dominantFrequency(alice.page, 'audio.call__audio'), dominantFrequency(carol.page, 'audio.call__audio')]);
    assert.ok(isTone(aliceHears, BOB_HZ), `Alice hears Carol's ${BOB_HZ} Hz, got ${JSON.stringify(aliceHears)}`);
    assert.ok(isTone(carolHears, ALICE_HZ), `Carol hears Alice's ${ALICE_HZ} Hz, got ${JSON.stringify(carolHears)}`);
    const [sa, sc] = await Promise.all([lastCallStats(alice.page), lastCallStats(carol.page)]);
    assert.equal(sa.frames.failed, 0, 'alice: no frame failed');
    assert.equal(sc.frames.failed, 0, 'carol: no frame failed');
    await panel(alice).button('Hang up').click();
    await panel(carol).state('ended').waitFor({ timeout: 10_000 });
  });

  proxy.checkHealthy();
  mitm.checkHealthy();
  // The server has no TURN (`--turn-url` not given): GET /v1/calls/turn answers 404, which Chromium reports
  // on the console (docs/protocol/11 §11.7); the proxy's record shows that this is the only 404.
  const notFound = proxy.records.flatMap((r) => (r.kind === 'http' && r.status === 404 ? [`${r.method} ${r.path}`] : []));
  assert.ok(notFound.length > 0 && notFound.every((r) => r === 'GET /v1/calls/turn'), `only the TURN credentials are not found: ${notFound.join(', ')}`);
  // Mallory refuses the sealed-send socket to see the sends (src/mallory/sotto-call-mitm.ts): a browser
  // that reconnects it reports the refused handshake, and its SDK sends over HTTP instead.
  for (const u of [alice, bob, carol]) u.assertClean([BROWSER_REPORTS.notFound, BROWSER_REPORTS.sealedSocketRefused]);
});
