// A web call forced through TURN (docs/protocol/11 §11.5, §11.7; issue 5: "a relay-only call"): a real
// coturn on loopback (packages/server/test/fixtures/coturn.ts, use-auth-secret), the real `sotto serve`
// started with that TURN server (`--turn-url`, $SOTTO_TURN_SECRET), so each page gets short-lived
// credentials from GET /v1/calls/turn, and two real Chromium instances whose calls allow only relay
// candidates (the `iceTransportPolicy: 'relay'` test hook of src/calls/controller.ts). Checked:
// - media flows both ways: each side's analyser finds the OTHER side's tone, frames decrypt, none fails;
// - the path really is relayed: each side's selected candidate pair is relay ↔ relay, and the SDPs both
//   sides sent hold only relay candidates;
// - coturn only relays: its log shows allocations for exactly the usernames the server minted (which
//   name no account), and it never saw a key or an account name;
// - still end to end: a callee whose receive key is wrong gets the relayed packets but no frame
//   authenticates and nothing is heard — what crosses the relay is SFrame ciphertext, opened only at
//   the endpoint holding the call key.
// The test runner already runs this in a network namespace with only loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startCoturn } from '../../server/test/fixtures/coturn.ts';
import type { CallMediaStats } from '../src/calls/media.ts';
import { shot, type WebUser } from './support/harness.ts';
import { callPanel, lastCallStats, sentSdps, setCallHookMedia, twoCallers, waitStats } from './support/calls.ts';
import { dominantFrequency, isTone } from './support/tones.ts';

const ALICE_HZ = 440;
const BOB_HZ = 660;
/** Relay-only ICE for every call (the iceTransportPolicy test hook of src/calls/controller.ts). */
const RELAY = { iceTransportPolicy: 'relay' } as const;
/** A bound on how long a relayed call may take to show what a test waits for (TURN allocations first). */
const RELAY_MS = 20_000;

const panel = (u: WebUser) => callPanel(u.page);

/** Catches the TURN credentials the page gets from GET /v1/calls/turn for its next call: the request
 *  goes to the server through a Playwright route, which reads the answer and hands it on unchanged
 *  (reading a response body afterwards through the DevTools protocol is not reliable in Chromium). */
async function turnUsername(page: Page): Promise<{ readonly username: Promise<string> }> {
  let resolve: (u: string) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const username = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  username.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
  const timer = setTimeout(() => {
    reject(new Error('no GET /v1/calls/turn within 20 s'));
  }, 20_000);
  await page.route(
    (url) => url.pathname === '/v1/calls/turn',
    async (route) => {
      clearTimeout(timer);
      const response = await route.fetch();
      try {
        assert.equal(response.status(), 200, 'the server hands out TURN credentials');
        const body = (await response.json()) as { username?: unknown };
        assert.equal(typeof body.username, 'string');
        resolve(body.username as string);
      } catch (e) {
        reject(e);
      }
      await route.fulfill({ response });
      await page.unroute((url) => url.pathname === '/v1/calls/turn');
    },
    { times: 1 },
  );
  return { username };
}

/** Alice calls Bob, Bob accepts; returns the TURN usernames each page was given. */
async function relayedCall(alice: WebUser, bob: WebUser): Promise<{ alice: string; bob: string }> {
  const aliceCreds = await turnUsername(alice.page);
  const bobCreds = await turnUsername(bob.page);
  await alice.page.getByRole('button', { name: 'Call bob', exact: true }).click();
  await panel(bob).state('incoming').waitFor({ timeout: 20_000 });
  await panel(bob).button('Accept').click();
  await Promise.all([panel(alice).state('active').waitFor({ timeout: 30_000 }), panel(bob).state('active').waitFor({ timeout: 30_000 })]);
  return { alice: await aliceCreds.username, bob: await bobCreds.username };
}

async function hangUp(alice: WebUser, bob: WebUser): Promise<void> {
  await panel(alice).button('Hang up').click();
  await panel(alice).state('ended').waitFor();
  await panel(bob).state('ended').waitFor({ timeout: 10_000 });
  await panel(alice).button('Close').click();
  await panel(bob).button('Close').click();
}

function assertRelayed(who: string, s: CallMediaStats): void {
  const pair = s.selectedPair;
  assert.ok(pair !== undefined, `${who}: a selected candidate pair`);
  assert.equal(pair.local.candidateType, 'relay', `${who}: the local end is a TURN relay: ${JSON.stringify(pair)}`);
  assert.equal(pair.remote.candidateType, 'relay', `${who}: the remote end is a TURN relay: ${JSON.stringify(pair)}`);
  assert.equal(pair.local.address, '127.0.0.1', `${who}: coturn's relay address`);
}

test('a relay-only web call through a real coturn: heard both ways, relay ↔ relay, SFrame end to end', async (t) => {
  const coturn = await startCoturn();
  t.after(() => coturn.stop());
  const { alice, bob } = await twoCallers(t, { prefix: 'sotto-web-relay-', aliceHz: ALICE_HZ, bobHz: BOB_HZ, message: 'Calling you through the relay', turn: { url: coturn.url, secret: coturn.secret }, media: RELAY });

  const describeCoturn = (): string => `\n--- coturn (${coturn.command.join(' ')}) ---\n${coturn.log().slice(-6000)}`;

  await t.test('relay only: each hears the other, frames decrypt, the selected pair is relay ↔ relay', async () => {
    const users = await relayedCall(alice, bob);
    const [sa, sb] = await Promise.all([
      waitStats(alice.page, 'alice decrypting over the relay', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50, RELAY_MS),
      waitStats(bob.page, 'bob decrypting over the relay', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50, RELAY_MS),
    ]).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}${describeCoturn()}`, { cause: e });
    });
    const [aliceHears, bobHears] = await Promise.all([dominantFrequency(alice.page, 'audio.call__audio'), dominantFrequency(bob.page, 'audio.call__audio')]);
    assert.ok(isTone(aliceHears, BOB_HZ), `Alice hears Bob's ${BOB_HZ} Hz, got ${JSON.stringify(aliceHears)}`);
    assert.ok(isTone(bobHears, ALICE_HZ), `Bob hears Alice's ${ALICE_HZ} Hz, got ${JSON.stringify(bobHears)}`);
    const [sa2, sb2] = await Promise.all([lastCallStats(alice.page), lastCallStats(bob.page)]);
    for (const [who, before, after] of [['alice', sa, sa2], ['bob', sb, sb2]] as const) {
      assertRelayed(who, after);
      assert.ok(after.frames.decrypted > before.frames.decrypted, `${who}: decrypted keeps growing`);
      assert.equal(after.frames.failed, 0, `${who}: no frame failed`);
      assert.ok(after.frames.encrypted > 50, `${who}: sent SFrame ciphertext`);
    }
    // What each side offered: relay candidates only (the policy filters host and srflx candidates out).
    const sdps = [...(await sentSdps(alice.page)), ...(await sentSdps(bob.page))];
    assert.equal(sdps.length, 2, 'one offer and one answer');
    for (const sdp of sdps) {
      const candidates = sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
      assert.ok(candidates.length > 0, 'the SDP carries candidates (no trickle)');
      for (const c of candidates) assert.match(c, / typ relay /, `only relay candidates are sent: ${c}`);
    }

    // coturn relayed this call: an allocation for each minted username. Those name no account
    // (docs/protocol/11 §11.7) and coturn saw no call key (SFrame keys never leave the endpoints).
    const log = coturn.log();
    for (const [who, username] of [['alice', users.alice], ['bob', users.bob]] as const) {
      assert.match(username, /^\d+:[A-Za-z0-9_-]{22}$/, `${who}'s TURN username is <expiry>:<random>`);
      const lines = log.split('\n').filter((l) => l.includes(username));
      assert.ok(lines.some((l) => /ALLOCATE processed, success/.test(l)), `coturn allocated a relay for ${who}'s minted username ${username}${describeCoturn()}`);
    }
    assert.ok(!/\b(alice|bob)\b/.test(log), 'coturn never learns an account name');
    await shot(alice.page, 'call-relay-active');
    await hangUp(alice, bob);
  });

  await t.test('through the relay, a receiver without the call key gets packets but no frame opens', async () => {
    await setCallHookMedia(bob.page, { ...RELAY, testWrongReceiveKey: true });
    await relayedCall(alice, bob);
    // Alice's keys are right: she decrypts Bob over the relay, so the call is up both ways.
    await waitStats(alice.page, 'alice decrypting', (s) => s.connectionState === 'connected' && s.frames.decrypted > 50, RELAY_MS);
    const sb = await waitStats(bob.page, 'bob receiving relayed frames that fail', (s) => s.packetsReceived > 50 && s.frames.failed > 50, RELAY_MS);
    assertRelayed('bob', sb);
    assert.equal(sb.frames.decrypted, 0, 'no relayed frame authenticated without the call key');
    const heard = await dominantFrequency(bob.page, 'audio.call__audio');
    assert.equal(heard.hz, undefined, `silence, not noise: ${JSON.stringify(heard)}`);
    const after = await lastCallStats(bob.page);
    assert.equal(after.frames.decrypted, 0);
    assert.ok(after.frames.failed > sb.frames.failed, 'failures keep being counted');
    await hangUp(alice, bob);
    await setCallHookMedia(bob.page, RELAY);
  });

  alice.assertClean();
  bob.assertClean();
});
