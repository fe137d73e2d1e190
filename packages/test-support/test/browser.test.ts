// The Chromium helper itself (src/browser.ts): flags of ../shared/notes/browser-calls.md, a bundled
// page served from 127.0.0.1 and run in real Chromium as a secure context, one context per user with
// separate storage, screenshots into artifacts/, and a static server that serves nothing outside its
// directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS_DIR, CHROMIUM_FLAGS, chromiumArgs, newUser, screenshot, serveDirectory, servePage, withChromium } from '@sotto/test-support/browser';

test('chromiumArgs: the notes flags, then fake media files, then extra flags', () => {
  for (const f of ['--headless', '--no-sandbox', '--disable-quic', '--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream']) assert.ok(CHROMIUM_FLAGS.includes(f), f);
  const args = chromiumArgs({ fakeAudioFile: '/t/a.wav', fakeVideoFile: '/t/v.y4m', args: ['--x'] });
  assert.deepEqual(args.slice(CHROMIUM_FLAGS.length), ['--use-file-for-fake-audio-capture=/t/a.wav', '--use-file-for-fake-video-capture=/t/v.y4m', '--x']);
});

test('a bundled page runs in Chromium as a secure context; users do not share storage; screenshots land in artifacts/', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sotto-tsb-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const entry = join(dir, 'entry.ts');
  await writeFile(
    entry,
    "const g = globalThis as unknown as { isSecureContext: boolean; localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void }; probe: () => unknown };\n" +
      "const n: number = 41 + 1;\n" +
      "g.probe = () => ({ n, secure: g.isSecureContext, subtle: typeof crypto.subtle, seen: g.localStorage.getItem('k') });\n" +
      "g.localStorage.setItem('k', 'set');\n",
  );
  const url = await servePage(t, { entry });
  const browser = await withChromium(t);
  const a = await newUser(browser);
  await a.page.goto(url);
  await a.page.waitForFunction(() => 'probe' in globalThis);
  const probe = (p: typeof a.page): Promise<unknown> => p.evaluate(() => (globalThis as unknown as { probe: () => unknown }).probe());
  assert.deepEqual(await probe(a.page), { n: 42, secure: true, subtle: 'object', seen: 'set' });
  const b = await newUser(browser);
  await b.page.goto(url);
  await b.page.waitForFunction(() => 'probe' in globalThis);
  assert.deepEqual(await probe(b.page), { n: 42, secure: true, subtle: 'object', seen: 'set' }, 'b sees only its own write');
  await a.page.evaluate(() => {
    (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('k', 'a only');
  });
  assert.equal(await b.page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('k')), 'set');
  const path = await screenshot(a.page, 'test-support/helper-page');
  assert.equal(path, join(ARTIFACTS_DIR, 'test-support', 'helper-page.png'));
  const png = await readFile(path);
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  await assert.rejects(screenshot(a.page, '../escape'), /screenshot name/);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context.close();
  await b.context.close();
});

test('serveDirectory serves nothing outside its directory', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'sotto-tss-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'secret.txt'), 'outside');
  const site = join(root, 'site');
  await (await import('node:fs/promises')).mkdir(site);
  await writeFile(join(site, 'index.html'), 'inside');
  const server = await serveDirectory(site);
  t.after(() => server.close());
  assert.equal(await (await fetch(`${server.url}/`)).text(), 'inside');
  const { port } = new URL(server.url);
  for (const target of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt']) {
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let d = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => (d += c));
      s.on('end', () => {
        resolve(d);
      });
      s.on('error', reject);
    });
    assert.ok(!raw.includes('outside'), target);
    assert.match(raw, /^HTTP\/1\.1 404/, target);
  }
  assert.ok((await stat(site)).isDirectory());
});
