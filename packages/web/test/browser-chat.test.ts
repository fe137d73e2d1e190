// Two people in two browsers (issue 4 "Tests"): they register, write to each other both ways with the
// delivery state shown, one closes the tab, the other keeps writing, and the first catches up after
// reopening and unlocking — with the earlier history still there (it is kept encrypted in the browser).
// Bob then works with the keyboard alone and at phone width. Screenshots of each screen go to
// artifacts/web/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withChromium } from '@sotto/test-support/browser';
import { BROWSER_REPORTS, requireBuiltClient, scratch, shot, SLOW_MS, startServe, WebUser } from './support/harness.ts';

test('two browser users chat both ways; one closes the page and catches up on return', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-chat-');
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const browser = await withChromium(t);

  const alice = await WebUser.open(browser, server.url, 'alice', 'correct horse battery alice');
  const bob = await WebUser.open(browser, server.url, 'bob', 'bob likes long passphrases', { width: 360, height: 740 });
  await shot(alice.page, 'create-account');
  await Promise.all([alice.register(), bob.register()]);

  // --- a name that is not there, or cannot be one, is said plainly -----------------------------------
  const newConversation = alice.page.getByLabel('New conversation with (username)');
  await newConversation.fill('nobody_here');
  await newConversation.press('Enter');
  await alice.page.getByRole('alert').filter({ hasText: 'There is no account named nobody_here on this server.' }).waitFor();
  await newConversation.fill('x!');
  await newConversation.press('Enter');
  await alice.page.getByRole('alert').filter({ hasText: 'A username has 3 to 32 characters' }).waitFor();

  // --- Alice writes first; Bob sees an unread conversation, opens it; Alice sees "Delivered" ---------
  await alice.startConversation('bob');
  assert.equal(await alice.headerBadge().textContent(), 'Unverified', 'first use: unverified (TOFU)');
  await alice.send('bob', 'Hello Bob, this is Alice.');
  await bob.conversation('alice').locator('.unread').waitFor();
  assert.match((await bob.conversation('alice').textContent()) ?? '', /alice\s*1 unread message/);
  assert.equal(await bob.badge('alice').textContent(), 'Unverified');
  await shot(bob.page, 'phone-conversation-list');
  await bob.openConversation('alice');
  await bob.message('alice', 'Hello Bob, this is Alice.').waitFor();
  await alice.waitStatus('bob', 'Hello Bob, this is Alice.', 'Delivered');

  // --- Bob answers (two lines); Alice has the conversation open, so it is not unread ----------------
  await bob.page.getByLabel('Message to alice').fill('Hi Alice!');
  await bob.page.getByLabel('Message to alice').press('Shift+Enter');
  await bob.page.keyboard.type('Second line.');
  await bob.page.getByLabel('Message to alice').press('Enter');
  await alice.message('bob', 'Second line.').waitFor();
  assert.equal(await alice.message('bob', 'Second line.').locator('p.text').textContent(), 'Hi Alice!\nSecond line.');
  await bob.waitStatus('alice', 'Second line.', 'Delivered');
  assert.equal(await alice.conversation('bob').locator('.unread').count(), 0);
  await shot(alice.page, 'chat');
  await shot(bob.page, 'phone-chat');

  // --- Bob closes the tab; Alice writes twice; the messages wait on the server -----------------------
  await bob.closePage();
  await alice.send('bob', 'While you were away, 1');
  await alice.send('bob', 'While you were away, 2');
  await alice.waitStatus('bob', 'While you were away, 2', 'Sent');
  assert.equal(await alice.message('bob', 'While you were away, 1').locator('.status').textContent(), 'Sent', 'not delivered while Bob is away');

  // --- Bob comes back: unlock, catch up, history kept; Alice sees both delivered ----------------------
  await bob.reopen();
  await shot(bob.page, 'unlock');
  await bob.page.getByLabel('Passphrase').fill('not bob passphrase');
  await bob.page.getByRole('button', { name: 'Unlock' }).click();
  await bob.page.getByRole('alert').filter({ hasText: 'That passphrase is not right.' }).waitFor({ timeout: SLOW_MS });
  await bob.unlock();
  await bob.conversation('alice').locator('.unread', { hasText: /^2 unread messages$/ }).waitFor();
  await alice.waitStatus('bob', 'While you were away, 1', 'Delivered');
  await alice.waitStatus('bob', 'While you were away, 2', 'Delivered');

  // Keyboard only: Tab from the new-conversation field to Alice's conversation, Enter opens it with the
  // composer focused, Enter sends.
  await bob.page.getByLabel('New conversation with (username)').focus();
  for (let i = 0; i < 5 && !(await bob.conversation('alice').evaluate((el) => el === document.activeElement)); i++) await bob.page.keyboard.press('Tab');
  assert.ok(await bob.conversation('alice').evaluate((el) => el === document.activeElement), 'Tab reaches the conversation');
  await bob.page.keyboard.press('Enter');
  await bob.page.getByRole('heading', { name: 'alice', level: 2 }).waitFor();
  assert.ok(await bob.page.getByLabel('Message to alice').evaluate((el) => el === document.activeElement), 'opening a conversation focuses the composer');
  const texts = await bob.log('alice').locator('p.text').allTextContents();
  assert.deepEqual(texts, ['Hello Bob, this is Alice.', 'Hi Alice!\nSecond line.', 'While you were away, 1', 'While you were away, 2'], 'history from before the reload, then what arrived meanwhile, in order');
  await bob.page.keyboard.type('Back now, got both.');
  await bob.page.keyboard.press('Enter');
  await alice.message('bob', 'Back now, got both.').waitFor();
  await bob.waitStatus('alice', 'Back now, got both.', 'Delivered');
  assert.equal(await bob.conversation('alice').locator('.unread').count(), 0, 'read once opened');

  // Phone width: nothing overflows sideways.
  const overflow = await bob.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 360 px screen`);
  await bob.page.getByRole('button', { name: 'Back to conversations' }).click();
  await bob.conversation('alice').waitFor();
  assert.ok(await bob.conversation('alice').evaluate((el) => el === document.activeElement), 'Back returns focus to the conversation');

  alice.assertClean([BROWSER_REPORTS.notFound]); // the lookup of nobody_here
  bob.assertClean();
});
