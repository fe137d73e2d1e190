// What the web call tests share (browser-call*.test.ts, browser-cli-call.test.ts): the app's call test
// hooks (src/calls/controller.ts CallTestHooks) — every call's media kept for its stats, the SDPs the media
// produced (what the SDK sent) — polling those stats, the call panel as a person sees it, and the world of
// two people in two real Chromium instances (each with its own tone as the microphone) who already talk.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { CallMediaStats } from '../../src/calls/media.ts';
import { requireBuiltClient, scratch, SLOW_MS, startServe, WebUser, type RunningServer } from './harness.ts';
import { chromiumWithTone } from './tones.ts';

/** Options the hooks hand to every call's media (CallTestHooks.media), e.g. relay-only ICE. */
export type CallHookMedia = Readonly<Record<string, unknown>>;

interface HookState {
  media?: CallHookMedia;
  ringMs?: number;
  calls: { stats(): Promise<CallMediaStats> }[];
  sdps: string[];
}

/** Defines the app's call test hooks in `page`: each call's media is kept, and the SDPs it produces
 *  (createOffer, acceptOffer) are recorded; `media`, when given, applies to every call of this page. */
export async function installCallHooks(page: Page, media?: CallHookMedia): Promise<void> {
  await page.evaluate((media) => {
    type Media = Record<string, (...a: unknown[]) => Promise<unknown>>;
    const hooks = {
      ...(media === undefined ? {} : { media }),
      calls: [] as unknown[],
      sdps: [] as string[],
      created(m: Media) {
        hooks.calls.push(m);
        for (const name of ['createOffer', 'acceptOffer']) {
          const f = m[name]?.bind(m);
          if (f === undefined) continue;
          m[name] = async (...a: unknown[]) => {
            const sdp = (await f(...a)) as string;
            hooks.sdps.push(sdp);
            return sdp;
          };
        }
      },
    };
    (globalThis as unknown as { __sottoCallTestHooks: unknown }).__sottoCallTestHooks = hooks;
  }, media);
}

/** Replaces the media options the hooks give the page's next calls. */
export function setCallHookMedia(page: Page, media: CallHookMedia): Promise<void> {
  return page.evaluate((media) => {
    (globalThis as unknown as { __sottoCallTestHooks: HookState }).__sottoCallTestHooks.media = media;
  }, media);
}

/** How long the page's next outgoing calls ring before they time out (CallTestHooks.ringMs: the SDK's
 *  placeCall ringMs, 1000–45000 ms), so an unanswered call need not ring for 45 s. */
export function setCallHookRingMs(page: Page, ringMs: number): Promise<void> {
  return page.evaluate((ringMs) => {
    (globalThis as unknown as { __sottoCallTestHooks: HookState }).__sottoCallTestHooks.ringMs = ringMs;
  }, ringMs);
}

/** The stats of the page's latest call. */
export function lastCallStats(page: Page): Promise<CallMediaStats> {
  return page.evaluate(() => {
    const hooks = (globalThis as unknown as { __sottoCallTestHooks: HookState }).__sottoCallTestHooks;
    const media = hooks.calls[hooks.calls.length - 1];
    if (media === undefined) throw new Error('expected a call');
    return media.stats();
  });
}

/** Every SDP the page's calls produced, in order. */
export function sentSdps(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __sottoCallTestHooks: HookState }).__sottoCallTestHooks.sdps);
}

/** Polls `read()` until `ok(stats)` holds, or fails after `ms` with the last stats. Not a timing
 *  assertion: a bound on how long a stuck call may hold the test. */
export async function pollStats(read: () => Promise<CallMediaStats>, what: string, ok: (s: CallMediaStats) => boolean, ms = 15_000): Promise<CallMediaStats> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await read();
    if (ok(s)) return s;
    if (Date.now() > end) assert.fail(`${what}: not reached; last stats ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** pollStats on the page's latest call. */
export function waitStats(page: Page, what: string, ok: (s: CallMediaStats) => boolean, ms?: number): Promise<CallMediaStats> {
  return pollStats(() => lastCallStats(page), what, ok, ms);
}

/** The call panel of `page`. */
export function callPanel(page: Page) {
  const region = page.locator('section.call');
  return {
    region,
    state: (state: string) => page.locator(`section.call[data-state="${state}"]`),
    words: () => region.locator('.sas__words').textContent(),
    code: () => region.locator('.sas__base32').textContent(),
    button: (name: string) => region.getByRole('button', { name, exact: true }),
  };
}

/** `from` calls `to` through the UI and `to` accepts; resolves when both screens show the active call. */
export async function callAndAccept(from: WebUser, to: WebUser): Promise<void> {
  await from.page.getByRole('button', { name: `Call ${to.name}`, exact: true }).click();
  const incoming = callPanel(to.page);
  await incoming.state('incoming').waitFor({ timeout: 20_000 });
  assert.equal(await incoming.region.getByRole('heading', { level: 2 }).textContent(), `${from.name} is calling you`);
  await incoming.button('Accept').click();
  await Promise.all([callPanel(from.page).state('active').waitFor({ timeout: 20_000 }), incoming.state('active').waitFor({ timeout: 20_000 })]);
}

export interface TwoCallers {
  readonly dir: string;
  readonly server: RunningServer;
  readonly alice: WebUser;
  readonly bob: WebUser;
}

/** The real `sotto serve` (with `turn`: that TURN server) and Alice and Bob, each in their own Chromium
 *  whose microphone plays their tone, registered, with the call hooks installed (`media` for every call);
 *  Alice has written `message` to Bob, and Bob, who has her conversation open, got it. */
export async function twoCallers(
  t: Parameters<typeof chromiumWithTone>[0] & Parameters<typeof scratch>[0],
  o: { prefix: string; aliceHz: number; bobHz: number; message: string; bobViewport?: { width: number; height: number }; turn?: { readonly url: string; readonly secret: string }; media?: CallHookMedia },
): Promise<TwoCallers> {
  requireBuiltClient();
  const dir = scratch(t, o.prefix);
  const server = await startServe(join(dir, 'data'), 0, o.turn === undefined ? {} : { turn: o.turn });
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const [browserA, browserB] = await Promise.all([chromiumWithTone(t, dir, 'alice', o.aliceHz), chromiumWithTone(t, dir, 'bob', o.bobHz)]);
  const alice = await WebUser.open(browserA, server.url, 'alice', 'correct horse battery alice');
  const bob = await WebUser.open(browserB, server.url, 'bob', 'bob likes long passphrases', o.bobViewport);
  await Promise.all([alice.register(), bob.register()]);
  await Promise.all([installCallHooks(alice.page, o.media), installCallHooks(bob.page, o.media)]);
  await alice.startConversation('bob');
  await alice.send('bob', o.message);
  await bob.conversation('alice').waitFor({ timeout: SLOW_MS });
  await bob.openConversation('alice');
  await alice.waitStatus('bob', o.message, 'Delivered');
  return { dir, server, alice, bob };
}
