// Calls between the web client and the CLI (docs/protocol/11): the real `sotto serve` serving the built
// client; Wendy in real Chromium (her fake microphone plays 660 Hz), driven through the UI as
// browser-call.test.ts does; Carl on the command line (`sotto call` / `sotto answer`, werift + libopus
// in Node, playing a 440 Hz WAV and recording what he hears). (a) Carl calls, Wendy accepts; (b) Wendy
// calls, `sotto answer` picks up. Each time: the two words and the code on Wendy's screen are the ones
// in Carl's SAS line; Wendy's <audio> plays Carl's 440 Hz (AnalyserNode); Carl's --record holds Wendy's
// 660 Hz far above every other frequency; the browser's SFrame worker failed no frame. Then Chromium's
// own demuxer and decoder (decodeAudioData) play an Ogg Opus voicemail the CLI encoder wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dominantTone, fromFloat, loudestWindow, tone, type StartedProcess } from '@sotto/test-support';
import { CliUser } from '../../cli/test/helpers.ts';
import { parseWav } from '../../cli/src/calls/wav.ts';
import { encodeVoicemail } from '../../cli/src/calls/voicemail.ts';
import { OGG_OPUS_MIME } from '../../cli/src/calls/ogg-opus.ts';
import { BROWSER_REPORTS, requireBuiltClient, scratch, SLOW_MS, startServe, WebUser } from './support/harness.ts';
import { callPanel, installCallHooks, lastCallStats, waitStats } from './support/calls.ts';
import { chromiumWithTone, dominantFrequency, isTone, writeToneWav } from './support/tones.ts';

const WENDY_HZ = 660;
const CARL_HZ = 440;
const SAS_LINE = /^SAS: ([A-Za-z-]+) ([A-Za-z-]+) \(([ybndrfg8ejkmcpqxot1uwisza345h769]{4})\) — read it aloud and compare$/m;

/** The checks both directions share, once the call is active on both sides. */
async function checkActiveCall(wendy: WebUser, carl: StartedProcess): Promise<void> {
  const m = await carl.waitFor(SAS_LINE);
  assert.equal(await callPanel(wendy.page).words(), `${m[1] ?? ''} ${m[2] ?? ''}`, "Wendy's screen shows the words of Carl's SAS line");
  assert.equal(await callPanel(wendy.page).code(), m[3], "and the same code");
  await waitStats(wendy.page, "the browser decrypting Carl's audio", (s) => s.connectionState === 'connected' && s.frames.decrypted > 50);
  const heard = await dominantFrequency(wendy.page, 'audio.call__audio');
  assert.ok(isTone(heard, CARL_HZ), `Wendy hears Carl's ${CARL_HZ} Hz, got ${JSON.stringify(heard)}`);
  const stats = await lastCallStats(wendy.page);
  assert.equal(stats.frames.failed, 0, "no frame failed in the browser's SFrame worker");
  assert.ok(stats.frames.decrypted > 50);
}

function checkRecording(path: string, stderr: string): void {
  const rec = parseWav(new Uint8Array(readFileSync(path)));
  assert.ok(rec.samples.length >= 48_000, `Carl recorded at least 1 s (${rec.samples.length} samples)\n${stderr}`);
  const verdict = dominantTone(loudestWindow(rec.samples, 1));
  assert.equal(verdict.dominant, WENDY_HZ, `Carl's recording holds Wendy's ${WENDY_HZ} Hz, got ${verdict.dominant} Hz`);
  assert.ok(verdict.ratio > 100, `a clean tone, not noise (ratio ${verdict.ratio.toFixed(1)})`);
  assert.match(stderr, /dropped 0\b/, 'no frame failed SFrame on the CLI side');
}

test('browser ↔ CLI calls: same SAS on the screen and the terminal, each side hears the other, Chromium plays the CLI’s Ogg Opus', async (t) => {
  requireBuiltClient();
  const dir = scratch(t, 'sotto-web-cli-call-');
  const carlWav = join(dir, 'carl-440.wav');
  writeToneWav(carlWav, CARL_HZ, 30); // played once by the CLI, then silence: long enough for both calls
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop('SIGKILL').then(() => undefined));
  const started: StartedProcess[] = [];
  t.after(() => {
    for (const p of started) p.child.kill('SIGKILL');
  });
  const browser = await chromiumWithTone(t, dir, 'wendy', WENDY_HZ);
  const carl = new CliUser(join(dir, 'carl'), 'carl uses the terminal');
  const [wendy, registered] = await Promise.all([WebUser.open(browser, server.url, 'wendy', 'wendy uses the browser'), carl.run(['--server', server.url, 'register', 'carl'])]);
  assert.equal(registered.status, 0, registered.stderr);
  await wendy.register();
  await installCallHooks(wendy.page);
  await wendy.startConversation('carl');
  await wendy.send('carl', 'Call me?');

  await t.test('(a) the CLI calls, the browser accepts', async () => {
    const record = join(dir, 'carl-heard-a.wav');
    const calling = carl.startInteractive(['call', 'wendy', '--play', carlWav, '--record', record]);
    started.push(calling);
    await callPanel(wendy.page).state('incoming').waitFor({ timeout: SLOW_MS });
    assert.equal(await callPanel(wendy.page).region.getByRole('heading', { level: 2 }).textContent(), 'carl is calling you');
    await callPanel(wendy.page).button('Accept').click();
    await callPanel(wendy.page).state('active').waitFor({ timeout: 20_000 });
    await checkActiveCall(wendy, calling);
    await new Promise((r) => setTimeout(r, 1_200)); // Wendy's tone for Carl's recording
    calling.child.kill('SIGINT'); // Ctrl-C: Carl hangs up
    const exit = await calling.exited;
    assert.equal(exit.status, 0, `carl's call exits 0 after Ctrl-C\n${calling.stderr()}`);
    await callPanel(wendy.page).state('ended').getByText('carl ended the call.').waitFor({ timeout: 10_000 });
    checkRecording(record, calling.stderr());
    await callPanel(wendy.page).button('Close').click();
  });

  await t.test('(b) the browser calls, `sotto answer` picks up', async () => {
    const record = join(dir, 'carl-heard-b.wav');
    const answering = carl.startInteractive(['answer', '--wait', '60', '--play', carlWav, '--record', record]);
    started.push(answering);
    await answering.waitFor(/sotto: waiting for a call/, { stream: 'stderr' });
    await wendy.page.getByRole('button', { name: 'Call carl', exact: true }).click();
    await callPanel(wendy.page).state('active').waitFor({ timeout: 20_000 });
    await checkActiveCall(wendy, answering);
    await new Promise((r) => setTimeout(r, 1_200));
    await callPanel(wendy.page).button('Hang up').click();
    const exit = await answering.exited;
    assert.equal(exit.status, 0, `carl's answer exits 0 on the remote hang-up\n${answering.stderr()}`);
    assert.match(answering.stderr(), /sotto: incoming call from wendy \(unverified\); answering/);
    assert.match(answering.stderr(), /call ended \(hangup, by wendy\)/);
    checkRecording(record, answering.stderr());
    await callPanel(wendy.page).button('Close').click();
  });

  await t.test("Chromium decodes the CLI's voicemail file (Ogg Opus): the tone, the length", async () => {
    const { bytes, durationMs } = encodeVoicemail(tone(CARL_HZ, 1.5));
    const got = await wendy.page.evaluate(
      async ({ b64, mime }) => {
        const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const canPlay = document.createElement('audio').canPlayType(mime);
        const ctx = new OfflineAudioContext(1, 48_000, 48_000);
        const audio = await ctx.decodeAudioData(data.buffer);
        const s = audio.getChannelData(0);
        // The middle second, judged in Node like every other recording.
        const mid = s.subarray(Math.floor(audio.length / 2) - 24_000, Math.floor(audio.length / 2) + 24_000);
        return { canPlay, seconds: audio.duration, rate: audio.sampleRate, mid: Array.from(mid) };
      },
      { b64: Buffer.from(bytes).toString('base64'), mime: OGG_OPUS_MIME },
    );
    assert.notEqual(got.canPlay, '', `Chromium's <audio> plays ${OGG_OPUS_MIME}`);
    assert.equal(durationMs, 1500);
    assert.ok(Math.abs(got.seconds - 1.5) < 0.01, `Chromium reads the end-trimmed length, 1.5 s (got ${got.seconds} s)`);
    const dominant = dominantTone(fromFloat(got.mid)).dominant;
    assert.equal(dominant, CARL_HZ, `and hears the ${CARL_HZ} Hz tone, got ${dominant} Hz`);
  });

  // No TURN server: GET /v1/calls/turn answers 404, which Chromium reports on the console.
  wendy.assertClean([BROWSER_REPORTS.notFound]);
});
