// QR verification end to end (issue 4 "Tests"): the test reads the QR code off Bob's verification
// screen (the SVG his browser shows), draws it into a Y4M video, and gives that video to Alice's
// browser as its camera (`--use-file-for-fake-video-capture`, a launch flag: Alice gets her own
// browser). Alice scans: Bob becomes "Verified by QR code". The same code held up while verifying
// Carol is refused and changes nothing; Carol's own code — as the CLI draws it in a terminal —
// verifies her: the browser scans what the CLI shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withChromium } from '@sotto/test-support/browser';
import { CliUser, requireBuiltClient, scratch, shot, SLOW_MS, startServe, WebUser } from './support/harness.ts';
import { drawMatrix, matrixFromCliText, matrixFromSvg, type Matrix } from './support/qr-image.ts';
import { y4mVideo } from './support/y4m.ts';

const WIDTH = 640;
const HEIGHT = 480;

/** The camera's picture: the code as large as fits with a margin, on `background`. */
function cameraSees(m: Matrix, background: number): Uint8Array {
  const scale = Math.floor((HEIGHT - 40) / m.length);
  return y4mVideo(drawMatrix(m, scale, WIDTH, HEIGHT, background));
}

test('QR verification: Alice scans Bob’s screen with the camera and Bob becomes verified by QR code', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-qr-');
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  // Chromium reads the video file each time a capture starts: write a blank picture now, the code later.
  const camera = join(dir, 'camera.y4m');
  writeFileSync(camera, y4mVideo(drawMatrix([[false]], 1, WIDTH, HEIGHT, 255)));
  const aliceBrowser = await withChromium(t, { fakeVideoFile: camera });
  const bobBrowser = await withChromium(t);

  const alice = await WebUser.open(aliceBrowser, server.url, 'alice', 'alice scans codes');
  const bob = await WebUser.open(bobBrowser, server.url, 'bob', 'bob shows his code');
  const carol = new CliUser(join(dir, 'carol'), 'carol has a terminal');
  await Promise.all([alice.register(), bob.register(), carol.ok(['--server', server.url, 'register', 'carol'])]);
  await alice.startConversation('carol');
  await alice.startConversation('bob');
  await bob.startConversation('alice');

  // --- Bob's screen: the code the test films ---------------------------------------------------------
  await bob.openVerification('alice');
  const bobCode = matrixFromSvg(await bob.shownQrSvg());
  writeFileSync(camera, cameraSees(bobCode, 255));

  // --- Alice scans it on her verification screen for Bob ---------------------------------------------
  await alice.openVerification('bob');
  assert.equal(await alice.shownDigits(), await bob.shownDigits(), 'both screens show the same number');
  await shot(alice.page, 'verification');
  await alice.page.getByRole('button', { name: "Scan bob's code" }).click();
  await alice.page.getByRole('status').filter({ hasText: 'bob is now verified by QR code.' }).waitFor({ timeout: SLOW_MS });
  assert.equal(await alice.headerBadge().textContent(), 'Verified by QR code');
  assert.equal(await alice.badge('bob').textContent(), 'Verified by QR code');
  assert.equal(await alice.page.locator('video').evaluate((v) => (v as HTMLVideoElement).srcObject), null, 'the camera is released after the scan');
  await shot(alice.page, 'verification-done');
  assert.equal(await bob.badge('alice').textContent(), 'Unverified', 'verifying is one-sided: Bob has not scanned Alice');

  // --- The same code while verifying Carol: refused, nothing changes ---------------------------------
  await alice.openConversation('carol');
  await alice.openVerification('carol');
  await alice.page.getByRole('button', { name: "Scan carol's code" }).click();
  await alice.page.getByRole('alert').filter({ hasText: 'The scanned code does not match' }).waitFor({ timeout: SLOW_MS });
  assert.equal(await alice.badge('carol').textContent(), 'Unverified');

  // --- Carol's code as the CLI draws it (light blocks on a dark terminal) verifies her -------------
  const cliScreen = await carol.ok(['safety-number', 'alice']);
  const qrLines = cliScreen.split('\n').filter((l) => /^[█▀▄ ]+$/.test(l) && /[█▀▄]/.test(l));
  writeFileSync(camera, cameraSees(matrixFromCliText(qrLines.join('\n')), 0));
  await alice.page.getByRole('button', { name: "Scan carol's code" }).click();
  await alice.page.getByRole('status').filter({ hasText: 'carol is now verified by QR code.' }).waitFor({ timeout: SLOW_MS });
  assert.equal(await alice.badge('carol').textContent(), 'Verified by QR code');
  assert.equal(await alice.badge('bob').textContent(), 'Verified by QR code');

  // The list as Alice sees it now: both verified, and Bob's new message unread.
  await bob.page.getByRole('button', { name: 'Back to the conversation with alice' }).click();
  await bob.send('alice', 'Did the scan work?');
  await alice.conversation('bob').locator('.unread', { hasText: /^1 unread message$/ }).waitFor();
  await alice.page.getByRole('button', { name: 'Back to the conversation with carol' }).click();
  await shot(alice.page, 'conversation-list');

  alice.assertClean();
  bob.assertClean();
});
