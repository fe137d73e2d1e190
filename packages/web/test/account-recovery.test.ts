// Lock, and what happens when the browser loses the keystore's device key (site data partly cleared,
// docs/protocol/10 §10.6): the unlock screen says so in plain words and offers to remove the damaged
// account from this browser, after which a new account can be created here — with no trace of the old
// history. A second tab of an open account is refused plainly too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withChromium } from '@sotto/test-support/browser';
import { BROWSER_REPORTS, requireBuiltClient, scratch, shot, SLOW_MS, startServe, WebUser } from './support/harness.ts';

test('lock, a second tab, and an account whose device key is gone', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-recovery-');
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const browser = await withChromium(t);

  const dora = await WebUser.open(browser, server.url, 'dora', 'dora forgets nothing');
  await dora.register();
  await dora.page.getByLabel('New conversation with (username)').fill('dora');
  await dora.page.getByLabel('New conversation with (username)').press('Enter');
  await dora.page.getByRole('alert').filter({ hasText: 'That is your own username.' }).waitFor();

  // A second tab of the same browser profile cannot open the account while the first has it open.
  const second = await dora.context.newPage();
  await second.goto(server.url);
  await second.getByLabel('Passphrase').fill(dora.passphrase);
  await second.getByRole('button', { name: 'Unlock' }).click();
  await second.getByRole('alert').filter({ hasText: 'Sotto is already open in another tab or window of this browser.' }).waitFor({ timeout: SLOW_MS });
  await second.close();

  // Lock: back to the unlock screen, and the account unlocks again.
  await dora.page.getByRole('button', { name: 'Lock' }).click();
  await dora.unlock();
  await dora.page.getByRole('button', { name: 'Lock' }).click();
  await dora.page.getByRole('heading', { name: 'Unlock Sotto' }).waitFor();

  // The browser loses the device key (only the key record goes; the sealed state stays).
  const databases = await dora.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
  const keystoreDb = databases.find((n) => n.startsWith('sotto-keystore/'));
  assert.ok(keystoreDb !== undefined, `a keystore database exists: ${databases.join(', ')}`);
  assert.ok(databases.includes('sotto-web-history'), 'the history database exists');
  await dora.page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => {
          reject(new Error('open failed'));
        };
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('records', 'readwrite');
          tx.objectStore('records').delete('device');
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => {
            reject(new Error('delete failed'));
          };
        };
      }),
    keystoreDb,
  );
  await dora.page.getByLabel('Passphrase').fill(dora.passphrase);
  await dora.page.getByRole('button', { name: 'Unlock' }).click();
  await dora.page.getByRole('alert').filter({ hasText: 'This browser has lost the device key that protects your account' }).waitFor({ timeout: SLOW_MS });
  const remove = dora.page.getByRole('button', { name: 'Remove the damaged account from this browser' });
  assert.ok(await remove.evaluate((el) => el === document.activeElement), 'the way out has the focus');
  await shot(dora.page, 'device-key-missing');
  await remove.click();
  await dora.page.getByRole('heading', { name: 'Create your Sotto account' }).waitFor();
  const left = await dora.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
  assert.ok(!left.includes('sotto-web-history'), `the unreadable history is gone too: ${left.join(', ')}`);

  // The name stays taken on the server (its key is gone with the device): a new name works.
  await dora.page.getByLabel('Username').fill('dora');
  await dora.page.getByLabel('Passphrase', { exact: true }).fill('a new start');
  await dora.page.getByLabel('Repeat the passphrase').fill('a new start, typo');
  await dora.page.getByRole('button', { name: 'Create account' }).click();
  await dora.page.getByRole('alert').filter({ hasText: 'The two passphrases are not the same.' }).waitFor();
  await dora.page.getByLabel('Passphrase', { exact: true }).fill('a new start');
  await dora.page.getByLabel('Repeat the passphrase').fill('a new start');
  await dora.page.getByRole('button', { name: 'Create account' }).click();
  await dora.page.getByRole('alert').filter({ hasText: 'That username is already taken on this server.' }).waitFor({ timeout: SLOW_MS });
  await dora.page.getByLabel('Username').fill('dora_again');
  await dora.page.getByLabel('Passphrase', { exact: true }).fill('a new start');
  await dora.page.getByLabel('Repeat the passphrase').fill('a new start');
  await dora.page.getByRole('button', { name: 'Create account' }).click();
  await dora.page.getByText('Signed in as dora_again').waitFor({ timeout: SLOW_MS });
  assert.equal(await dora.page.getByRole('navigation', { name: 'Conversations' }).locator('button.conv').count(), 0, 'a fresh start');

  dora.assertClean([BROWSER_REPORTS.taken]); // registering the name that is still taken
});
