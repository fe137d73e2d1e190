// The browser keystore (src/keystore/browser.ts, docs/protocol/10 §10.6) in real Chromium: the page
// test/browser/keystore-page.ts is bundled with esbuild, served from 127.0.0.1 and driven through
// playwright-core. Checks: round trip across a page reload, a wrong passphrase changes nothing, the
// device key in IndexedDB is a non-extractable CryptoKey that cannot be exported, nothing readable is
// stored, a missing / foreign / extractable device key is refused, one open per name, passphrase
// change, and the production Argon2id parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { newUser, servePage, withChromium } from '@sotto/test-support/browser';
import type { KeystorePageApi } from './browser/keystore-page.ts';

const PASS = 'correct horse battery staple';
const MARKER = 'identity seed marker 5f3c9a';

type Api = KeystorePageApi;
type Fn = keyof Api;

/** Calls keystoreApi[fn](...args) in the page. */
function call<F extends Fn>(page: Page, fn: F, ...args: Parameters<Api[F]>): Promise<Awaited<ReturnType<Api[F]>>> {
  return page.evaluate(
    async ([f, a]) => {
      const api = (globalThis as unknown as { keystoreApi: Record<string, (...x: unknown[]) => Promise<unknown>> }).keystoreApi;
      const method = api[f];
      if (method === undefined) throw new Error(`no page function ${f}`);
      return method(...a);
    },
    [fn, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<Api[F]>>>;
}

const hexOf = (s: string): string => Array.from(new TextEncoder().encode(s), (x) => x.toString(16).padStart(2, '0')).join('');

test('browser keystore in Chromium', async (t) => {
  const browser = await withChromium(t);
  const url = await servePage(t, { entry: fileURLToPath(new URL('./browser/keystore-page.ts', import.meta.url)) });
  const { page, errors, context } = await newUser(browser);
  t.after(() => context.close());
  await page.goto(url);
  await page.waitForFunction(() => 'keystoreApi' in globalThis);

  await t.test('create, write, reload the page, reopen with the passphrase', async () => {
    assert.equal(await call(page, 'exists', 'alice'), false);
    const written = await call(page, 'create', 'alice', PASS, MARKER);
    assert.deepEqual(written, { identity: hexOf(MARKER), 'session/1': '010203' });
    assert.equal(await call(page, 'exists', 'alice'), true);
    await page.reload();
    await page.waitForFunction(() => 'keystoreApi' in globalThis);
    assert.deepEqual(await call(page, 'open', 'alice', PASS), written);
    // the same passphrase in another Unicode normalization form opens it too (NFC)
    assert.deepEqual(await call(page, 'create2', 'nfc', 'caf\u00e9'), '[BrowserKeystore: redacted]');
    assert.deepEqual(await call(page, 'open', 'nfc', 'cafe\u0301'), {});
  });

  await t.test('creating over an existing keystore is refused and changes nothing', async () => {
    const before = await call(page, 'sealed', 'alice');
    assert.deepEqual(await call(page, 'create2', 'alice', 'another passphrase'), { error: 'ERR_KEYSTORE_EXISTS' });
    assert.equal(await call(page, 'sealed', 'alice'), before);
    assert.deepEqual(await call(page, 'open', 'alice', PASS), { identity: hexOf(MARKER), 'session/1': '010203' });
  });

  await t.test('a wrong passphrase: ERR_KEYSTORE_WRONG_PASSPHRASE, nothing changed', async () => {
    const before = await call(page, 'sealed', 'alice');
    assert.deepEqual(await call(page, 'open', 'alice', 'Correct horse battery staple'), { error: 'ERR_KEYSTORE_WRONG_PASSPHRASE' });
    assert.deepEqual(await call(page, 'open', 'alice', 'x'), { error: 'ERR_KEYSTORE_WRONG_PASSPHRASE' });
    assert.equal(await call(page, 'sealed', 'alice'), before);
    assert.deepEqual(await call(page, 'open', 'nobody', PASS), { error: 'ERR_KEYSTORE_NOT_FOUND' });
    // test-only weak parameters are refused without the test-only flag
    assert.deepEqual(await call(page, 'openStrict', 'alice', PASS), { error: 'ERR_KEYSTORE_CORRUPT' });
  });

  await t.test('the device key is a non-extractable AES-GCM-256 CryptoKey that cannot be exported', async () => {
    const key = await call(page, 'deviceKey', 'alice');
    assert.deepEqual(key, {
      present: true,
      type: 'secret',
      extractable: false,
      algorithm: 'AES-GCM',
      length: 256,
      usages: ['decrypt', 'encrypt'],
      exportRaw: 'rejected: InvalidAccessError',
      exportJwk: 'rejected: InvalidAccessError',
    });
  });

  await t.test('nothing readable is stored: no value, no entry name', async () => {
    const sealed = await call(page, 'sealed', 'alice');
    assert.ok(sealed.length > 0);
    assert.ok(sealed.startsWith(hexOf('SOTTO-BK')), 'the record starts with its magic');
    for (const plain of [MARKER, 'identity', 'session/1']) assert.ok(!sealed.includes(hexOf(plain)), `expected no ${plain} in the clear`);
    // every write re-seals with fresh randomness: the same contents never give the same bytes
    await call(page, 'create', 'alice-twin', PASS, MARKER);
    assert.notEqual((await call(page, 'sealed', 'alice-twin')).slice(74), sealed.slice(74));
  });

  await t.test("another keystore's sealed state under this device key: ERR_KEYSTORE_CORRUPT", async () => {
    const own = await call(page, 'sealed', 'alice');
    const foreign = await call(page, 'sealed', 'alice-twin');
    await call(page, 'setSealed', 'alice', foreign);
    assert.deepEqual(await call(page, 'open', 'alice', PASS), { error: 'ERR_KEYSTORE_CORRUPT' });
    // one flipped bit anywhere in the sealed record is refused too
    const flipped = own.slice(0, 120) + ((parseInt(own.slice(120, 122), 16) ^ 1).toString(16).padStart(2, '0')) + own.slice(122);
    await call(page, 'setSealed', 'alice', flipped);
    assert.deepEqual(await call(page, 'open', 'alice', PASS), { error: 'ERR_KEYSTORE_CORRUPT' });
    await call(page, 'setSealed', 'alice', own);
    assert.deepEqual(await call(page, 'open', 'alice', PASS), { identity: hexOf(MARKER), 'session/1': '010203' });
  });

  await t.test('one open per keystore name: a second open is ERR_KEYSTORE_IN_USE until the first closes', async () => {
    assert.deepEqual(await call(page, 'lock', 'alice', PASS), { second: 'ERR_KEYSTORE_IN_USE', afterClose: 'opened' });
  });

  await t.test('changePassphrase: the wrong current one changes nothing; the new one opens, the old does not', async () => {
    const before = await call(page, 'sealed', 'alice');
    assert.deepEqual(await call(page, 'changePassphrase', 'alice', PASS, 'not it', 'new passphrase'), { error: 'ERR_KEYSTORE_WRONG_PASSPHRASE' });
    assert.equal(await call(page, 'sealed', 'alice'), before);
    assert.equal(await call(page, 'changePassphrase', 'alice', PASS, PASS, 'new passphrase'), 'changed');
    assert.deepEqual(await call(page, 'open', 'alice', PASS), { error: 'ERR_KEYSTORE_WRONG_PASSPHRASE' });
    assert.deepEqual(await call(page, 'open', 'alice', 'new passphrase'), { identity: hexOf(MARKER), 'session/1': '010203' });
  });

  await t.test('a missing device key: ERR_KEYSTORE_DEVICE_KEY_MISSING, even with the right passphrase', async () => {
    await call(page, 'deleteDeviceKey', 'alice-twin');
    assert.deepEqual(await call(page, 'deviceKey', 'alice-twin'), { present: false });
    assert.deepEqual(await call(page, 'open', 'alice-twin', PASS), { error: 'ERR_KEYSTORE_DEVICE_KEY_MISSING' });
    assert.equal(await call(page, 'exists', 'alice-twin'), true);
    assert.deepEqual(await call(page, 'create2', 'alice-twin', PASS), { error: 'ERR_KEYSTORE_EXISTS' });
    assert.deepEqual(await call(page, 'remove', 'alice-twin'), false);
  });

  await t.test('an extractable key in place of the device key is refused', async () => {
    await call(page, 'create2', 'swapped', PASS);
    await call(page, 'replaceDeviceKeyExtractable', 'swapped');
    assert.deepEqual(await call(page, 'open', 'swapped', PASS), { error: 'ERR_KEYSTORE_CORRUPT' });
  });

  await t.test('another user (browser context) sees none of it', async () => {
    const other = await newUser(browser);
    t.after(() => other.context.close());
    await other.page.goto(url);
    await other.page.waitForFunction(() => 'keystoreApi' in globalThis);
    assert.equal(await call(other.page, 'exists', 'alice'), false);
    assert.deepEqual(await call(other.page, 'open', 'alice', 'new passphrase'), { error: 'ERR_KEYSTORE_NOT_FOUND' });
  });

  await t.test('the production Argon2id parameters work in the browser', async () => {
    const r = await call(page, 'production', 'prod', PASS);
    assert.ok(!('error' in r), `expected success, got ${JSON.stringify(r)}`);
    const [got, expected] = r.params.split(' expected ');
    assert.equal(got, expected);
    assert.equal(r.value, 'production');
  });

  assert.deepEqual(errors, []);
});
