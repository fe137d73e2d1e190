// A key change interrupts the conversation (issue 4 "Tests", docs/protocol/10 §10.4). Alice (browser)
// has verified Bob (CLI). Then the server turns malicious, as packages/cli/test/scenario.ts plays it:
// the operator stops it, deletes Bob's account from the SQLite file, starts it again on the same
// address and registers "bob" with a new identity (Mallory's). Alice's next message is refused before
// anything is encrypted to the new key; the conversation is interrupted with a plain explanation and
// the choices; every badge says "Key changed". Only after "Accept the new key" do messages go out — to
// the new key, as she chose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_FILE } from '@sotto/server';
import { withChromium } from '@sotto/test-support/browser';
import { BROWSER_REPORTS, CliUser, requireBuiltClient, scratch, shot, SLOW_MS, startServe, WebUser, type RunningServer } from './support/harness.ts';

function deleteAccount(dataDir: string, username: string): number {
  const db = new Database(join(dataDir, SQLITE_FILE));
  try {
    db.pragma('foreign_keys = ON'); // devices, prekeys and queue go with the account
    return db.prepare('DELETE FROM accounts WHERE username = ?').run(username).changes;
  } finally {
    db.close();
  }
}

test('a key change shows the interruption and the changed badge, and nothing is sent until Alice decides', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-keychange-');
  const dataDir = join(dir, 'data');
  let server: RunningServer = await startServe(dataDir);
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const browser = await withChromium(t);

  const alice = await WebUser.open(browser, server.url, 'alice', 'alice verifies her contacts');
  const bob = new CliUser(join(dir, 'bob'), 'the real bob');
  await Promise.all([alice.register(), bob.ok(['--server', server.url, 'register', 'bob'])]);

  // --- a conversation, and Alice verifies Bob by the number his terminal shows ----------------------
  await alice.startConversation('bob');
  await alice.send('bob', 'Hi Bob');
  assert.deepEqual((await bob.receive()).map((m) => m['text']), ['Hi Bob']);
  const bobScreen = await bob.ok(['safety-number', 'alice']);
  const digits = bobScreen
    .split('\n')
    .filter((l) => /^ {4}(\d{5} ){3}\d{5}$/.test(l))
    .join(' ');
  await alice.openVerification('bob');
  await alice.page.getByLabel("bob's safety number").fill(digits);
  await alice.page.getByLabel("bob's safety number").press('Enter');
  await alice.page.getByRole('status').filter({ hasText: 'bob is now verified by safety number.' }).waitFor();
  await alice.page.getByRole('button', { name: 'Back to the conversation with bob' }).click();
  assert.equal(await alice.badge('bob').textContent(), 'Verified by safety number');

  // --- the malicious operator swaps Bob's key (same address, so Alice's page stays on its origin) ----
  assert.equal((await server.proc.stop('SIGTERM')).status, 0);
  assert.equal(deleteAccount(dataDir, 'bob'), 1);
  server = await startServe(dataDir, server.port);
  const mallory = new CliUser(join(dir, 'mallory'), 'mallory runs the server');
  await mallory.ok(['--server', server.url, 'register', 'bob']);

  // --- Alice writes: refused, interrupted, explained -----------------------------------------------
  await alice.send('bob', 'Are you still Bob?');
  await alice.waitStatus('bob', 'Are you still Bob?', 'Not sent');
  const dialog = alice.page.getByRole('alertdialog', { name: "bob's safety number has changed" });
  await dialog.waitFor({ timeout: SLOW_MS });
  assert.match((await dialog.textContent()) ?? '', /You had verified bob, and now the server shows a different key/);
  assert.match((await dialog.textContent()) ?? '', /Nothing will be sent to bob until you decide/);
  assert.equal(await dialog.getByRole('button', { name: 'Verify now' }).evaluate((el) => el === document.activeElement), true, 'the dialog takes the focus');
  assert.equal(await alice.badge('bob').textContent(), 'Key changed');
  assert.equal(await alice.headerBadge().textContent(), 'Key changed');
  assert.match((await alice.message('bob', 'Are you still Bob?').locator('.status').textContent()) ?? '', /key changed since you verified it/);
  await shot(alice.page, 'key-change');

  // Escape closes the dialog; the conversation stays interrupted: no composer, the same two choices.
  await alice.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await alice.page.getByLabel('Message to bob').isVisible(), false, 'no composer while the key is changed');
  const panel = alice.page.getByRole('region', { name: "bob's safety number has changed" });
  await panel.getByRole('button', { name: 'Accept the new key' }).waitFor();
  await shot(alice.page, 'key-change-conversation');
  assert.deepEqual(await mallory.receive(), [], 'the refused message was never sent');

  // "Verify now" shows the NEW key's number, and says so.
  await panel.getByRole('button', { name: 'Verify now' }).click();
  await alice.page.getByRole('heading', { name: 'Verify bob' }).waitFor();
  await alice.page.getByText('This number belongs to the NEW key').waitFor();
  assert.equal(await alice.headerBadge().textContent(), 'Key changed');
  await alice.page.getByRole('button', { name: 'Back to the conversation with bob' }).click();

  // --- Accepting the new key lets messages through again, to the new key ----------------------------
  await panel.getByRole('button', { name: 'Accept the new key' }).click();
  await alice.page.getByLabel('Message to bob').waitFor();
  assert.equal(await alice.badge('bob').textContent(), 'Unverified');
  assert.equal(await alice.headerBadge().textContent(), 'Unverified');
  await alice.send('bob', 'Sent after accepting the new key');
  await alice.waitStatus('bob', 'Sent after accepting the new key', 'Sent');
  assert.deepEqual((await mallory.receive()).map((m) => [m['from'], m['text']]), [['alice', 'Sent after accepting the new key']]);

  alice.assertClean([BROWSER_REPORTS.restart]);
});
