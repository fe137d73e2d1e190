// The browser and the CLI talk to each other (issue 4): Alice in Chromium, Carol with the `sotto`
// command. Messages both ways with delivery receipts, files both ways (an image the browser shows
// inline, a binary it offers for download, a file it sends), and verification across the two clients:
// the safety numbers agree, a wrong number changes nothing, the right one verifies on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withChromium } from '@sotto/test-support/browser';
import { CliUser, requireBuiltClient, scratch, shot, startServe, WebUser } from './support/harness.ts';
import { png } from './support/png.ts';

test('a browser user and a CLI user exchange messages and files, and verify each other', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-cli-');
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const browser = await withChromium(t);

  const carol = new CliUser(join(dir, 'carol'), 'carol uses the terminal');
  const alice = await WebUser.open(browser, server.url, 'alice', 'alice in the browser, 2024');
  await Promise.all([carol.ok(['--server', server.url, 'register', 'carol']), alice.register()]);

  // --- browser → CLI, text; the CLI's receipt turns it "Delivered" ----------------------------------
  await alice.startConversation('carol');
  await alice.send('carol', 'Hello Carol, from the browser');
  await alice.waitStatus('carol', 'Hello Carol, from the browser', 'Sent');
  const got = await carol.receive();
  assert.deepEqual(
    got.map((m) => [m['kind'], m['from'], m['text'], m['senderState']]),
    [['text', 'alice', 'Hello Carol, from the browser', 'unverified']],
  );
  await alice.waitStatus('carol', 'Hello Carol, from the browser', 'Delivered');

  // --- CLI → browser: a text, an image (shown inline) and a binary file (downloadable) --------------
  await carol.ok(['send', 'alice', 'Hello Alice, from the terminal']);
  await alice.message('carol', 'Hello Alice, from the terminal').waitFor();
  const picture = png(64, 48, (x, y) => [x * 4, y * 5, 128]);
  writeFileSync(join(dir, 'picture.png'), picture);
  await carol.ok(['send-file', 'alice', join(dir, 'picture.png')]);
  const img = alice.log('carol').getByRole('img', { name: 'Image picture.png' });
  await img.waitFor();
  assert.match((await img.getAttribute('src')) ?? '', /^blob:/, 'decrypted in the page, shown from a blob: URL');
  assert.equal(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth), 64, 'the image decodes');
  const report = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) & 0xff);
  writeFileSync(join(dir, 'report.bin'), report);
  await carol.ok(['send-file', 'alice', join(dir, 'report.bin')]);
  const download = alice.log('carol').getByRole('button', { name: 'Download report.bin (70.0 kB)' });
  const [file] = await Promise.all([alice.page.waitForEvent('download'), download.click()]);
  assert.equal(file.suggestedFilename(), 'report.bin');
  const savedPath = await file.path();
  assert.deepEqual(new Uint8Array(readFileSync(savedPath)), report, 'the file arrives byte for byte');

  // --- browser → CLI, files: a text file and the image, through "Attach a file" --------------------
  const notes = new TextEncoder().encode('Notes for Carol\nline 2\n');
  for (const f of [
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(notes) },
    { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from(picture) },
  ]) {
    const [chooser] = await Promise.all([alice.page.waitForEvent('filechooser'), alice.page.getByRole('button', { name: 'Attach a file' }).click()]);
    await chooser.setFiles(f);
  }
  await alice.log('carol').getByRole('img', { name: 'Image photo.png' }).waitFor();
  const sentFile = alice.log('carol').locator('li.msg--out', { hasText: 'notes.txt' });
  await sentFile.locator('.status', { hasText: /^(Sent|Delivered)$/ }).waitFor();
  await alice.log('carol').locator('li.msg--out', { hasText: 'photo.png' }).locator('.status', { hasText: /^(Sent|Delivered)$/ }).waitFor();
  const saves = join(dir, 'carol-files');
  // Both sends ran at once: the server may hold them in either order.
  const files = (await carol.receive(['--save-dir', saves])).sort((a, b) => (JSON.stringify(a['file']) < JSON.stringify(b['file']) ? -1 : 1));
  assert.deepEqual(
    files.map((m) => [m['kind'], m['from'], m['file']]),
    [
      ['file', 'alice', { name: 'notes.txt', size: notes.length, mime: 'text/plain', savedAs: join(saves, 'notes.txt') }],
      ['file', 'alice', { name: 'photo.png', size: picture.length, mime: 'image/png', savedAs: join(saves, 'photo.png') }],
    ],
  );
  assert.deepEqual(new Uint8Array(readFileSync(join(saves, 'notes.txt'))), notes);
  assert.deepEqual(new Uint8Array(readFileSync(join(saves, 'photo.png'))), picture);
  await sentFile.locator('.status', { hasText: /^Delivered$/ }).waitFor();
  await shot(alice.page, 'chat-with-files');

  // --- verification across clients: the same 60 digits on both screens -----------------------------
  await alice.openVerification('carol');
  const shown = await alice.shownDigits();
  const cliScreen = await carol.ok(['safety-number', 'alice']);
  const cliDigits = cliScreen
    .split('\n')
    .filter((l) => /^ {4}(\d{5} ){3}\d{5}$/.test(l))
    .join('')
    .replace(/\s/g, '');
  assert.equal(cliDigits, shown, 'the CLI and the browser show the same safety number');
  // A wrong number changes nothing and says so.
  const wrong = `${shown.slice(0, 59)}${String((Number(shown[59]) + 1) % 10)}`;
  await alice.page.getByLabel("carol's safety number").fill(wrong);
  await alice.page.getByRole('button', { name: 'Verify', exact: true }).click();
  await alice.page.getByRole('alert').filter({ hasText: 'The numbers do not match' }).waitFor();
  assert.equal(await alice.headerBadge().textContent(), 'Unverified');
  // Typed as Carol would read it out: groups with spaces.
  await alice.page.getByLabel("carol's safety number").fill((cliDigits.match(/\d{5}/g) ?? []).join(' '));
  await alice.page.getByRole('button', { name: 'Verify', exact: true }).click();
  await alice.page.getByRole('status').filter({ hasText: 'carol is now verified by safety number.' }).waitFor();
  assert.equal(await alice.headerBadge().textContent(), 'Verified by safety number');
  assert.equal(await alice.badge('carol').textContent(), 'Verified by safety number');
  assert.equal((await carol.ok(['verify', 'alice', shown])).trim(), 'alice is now verified (safety number)');
  await shot(alice.page, 'verified-by-safety-number');

  alice.assertClean();
});
