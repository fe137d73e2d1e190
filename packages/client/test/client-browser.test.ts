// The SDK in real Chromium against the real server: the platform-neutral main entry and the browser
// keystore bundled for the browser, served by startServer itself (webDir, docs/protocol/09 §9.11) so
// the page runs under the server's Content-Security-Policy. A browser user and a Node user exchange
// messages both ways (the browser's live receive uses the platform WebSocket); the browser user
// reloads, unlocks with the passphrase and catches up; a wrong passphrase is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startServer } from '@sotto/server';
import { bundleForBrowser, newUser, screenshot, withChromium } from '@sotto/test-support/browser';
import type { ClientPageApi } from './browser/client-page.ts';
import { newAccount, tempDir } from './support.ts';

type Fn = keyof ClientPageApi;

function call<F extends Fn>(page: Page, fn: F, ...args: Parameters<ClientPageApi[F]>): Promise<Awaited<ReturnType<ClientPageApi[F]>>> {
  return page.evaluate(
    async ([f, a]) => {
      const api = (globalThis as unknown as { clientApi: Record<string, (...x: unknown[]) => Promise<unknown>> }).clientApi;
      const method = api[f];
      if (method === undefined) throw new Error(`no page function ${f}`);
      return method(...a);
    },
    [fn, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<ClientPageApi[F]>>>;
}

const RATE_LIMITS = { perAddress: { capacity: 100_000, refillPerSecond: 100_000 }, perAccount: { capacity: 100_000, refillPerSecond: 100_000 } };

test('a browser user and a Node user chat through the real server; the browser reloads and catches up', async (t) => {
  const bundle = await bundleForBrowser({ entry: fileURLToPath(new URL('./browser/client-page.ts', import.meta.url)) });
  t.after(() => bundle.remove());
  const running = await startServer({ host: '127.0.0.1', port: 0, dataDir: await tempDir(t, 'browser-server'), rateLimits: RATE_LIMITS, webDir: bundle.dir });
  t.after(() => running.close());
  const server = { url: running.url, dataDir: '', port: 0, running, stop: () => running.close(), restart: () => Promise.resolve() };

  const browser = await withChromium(t);
  const alice = await newUser(browser);
  t.after(() => alice.context.close());
  const ready = (): Promise<unknown> => alice.page.waitForFunction(() => 'clientApi' in globalThis);
  await alice.page.goto(`${running.url}/`);
  await ready();

  assert.equal(await call(alice.page, 'register', 'alice', 'alice passphrase'), 'alice');
  const bob = await newAccount(t, server, 'bob');

  assert.equal(await call(alice.page, 'send', 'bob', 'hello from the browser'), 'unverified');
  const atBob = await bob.client.receive({ waitMs: 0 });
  assert.deepEqual(
    atBob.flatMap((m) => (m.kind === 'text' ? [[m.from, m.text]] : [])),
    [['alice', 'hello from the browser']],
  );

  // Bob answers while the browser listens live over its own WebSocket.
  const progress = { settled: false };
  const live = call(alice.page, 'receive', 1500).finally(() => (progress.settled = true));
  // Bob sends once the browser's WebSocket is up (the server's gauge says so; Bob never opens one).
  while (!progress.settled && !/^sotto_websocket_connections 1$/m.test(await (await fetch(`${running.url}/metrics`)).text())) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await bob.client.sendText('alice', 'hello from node');
  const got = await live;
  assert.ok(Array.isArray(got), `expected messages, got ${JSON.stringify(got)}`);
  assert.ok(got.includes('bob: hello from node'), `expected bob's text, got ${JSON.stringify(got)}`);
  await screenshot(alice.page, 'client/browser-sdk-page');

  // The page goes away; Bob writes meanwhile; the page comes back and unlocks.
  assert.equal(await call(alice.page, 'close'), 'closed');
  await bob.client.sendText('alice', 'while you were away');
  await alice.page.reload();
  await ready();
  assert.deepEqual(await call(alice.page, 'unlock', 'not the passphrase'), { error: 'ERR_KEYSTORE_WRONG_PASSPHRASE' });
  assert.equal(await call(alice.page, 'unlock', 'alice passphrase'), 'alice');
  const caughtUp = await call(alice.page, 'receive', 0);
  assert.ok(Array.isArray(caughtUp) && caughtUp.includes('bob: while you were away'), `expected the message sent while away, got ${JSON.stringify(caughtUp)}`);
  assert.equal(await call(alice.page, 'send', 'bob', 'back again'), 'unverified');
  const later = await bob.client.receive({ waitMs: 0 });
  assert.ok(later.some((m) => m.kind === 'text' && m.text === 'back again'));
  await call(alice.page, 'close');

  assert.deepEqual(alice.errors, []);
});
