// `sotto call` and `sotto answer` end to end (docs/protocol/11): a real `sotto serve` on loopback, two
// real CLI processes — Bob runs `answer`, Alice runs `call bob` — each playing a generated tone of
// its own (Alice 440 Hz mono 48 kHz; Bob 660 Hz stereo 44.1 kHz, so the resampler is on the path)
// and recording what it hears. Both must print the same SAS line, and each recording's dominant
// frequency must be the OTHER side's tone, standing far above every other candidate (decrypted audio,
// not noise: ciphertext fed to Opus is broadband). Alice hangs up after --duration; Bob's `answer`
// ends on the remote hang-up. Then the one-line failures: no call within --wait, an unusable --play.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dominantTone, loudestWindow, stereo, tone } from '@sotto/test-support';
import { encodeWav, parseWav } from '../src/calls/wav.ts';
import { expectOk, lastLine, oneErrorLine, twoRegisteredUsers } from './helpers.ts';

const SAS_LINE = /^SAS: ([A-Za-z]+) ([A-Za-z]+) \(([ybndrfg8ejkmcpqxot1uwisza345h769]{4})\) — read it aloud and compare$/m;

test('sotto call / sotto answer over a real server: same SAS on both sides, each records the other side’s tone', async (t) => {
  const { dir, alice, bob } = await twoRegisteredUsers(t, 'sotto-cli-call-', { alice: 'alice calls bob today', bob: 'bob answers the phone' });

  const alicePlays = join(dir, 'alice-440.wav');
  const bobPlays = join(dir, 'bob-660.wav');
  writeFileSync(alicePlays, encodeWav(tone(440, 12), 48_000, 1));
  writeFileSync(bobPlays, encodeWav(stereo(tone(660, 12, 12_000, 44_100)), 44_100, 2));
  const aliceHears = join(dir, 'alice-heard.wav');
  const bobHears = join(dir, 'bob-heard.wav');

  const answering = bob.start(['answer', '--wait', '120', '--play', bobPlays, '--record', bobHears]);
  await answering.waitFor(/sotto: waiting for a call/, { stream: 'stderr' });
  const calling = await alice.run(['call', 'bob', '--play', alicePlays, '--record', aliceHears, '--duration', '3']);
  const answered = await answering.exited;

  expectOk(calling, 'alice call');
  assert.equal(answered.status, 0, `bob answer exited with ${String(answered.status)}\nstdout: ${answering.stdout()}\nstderr: ${answering.stderr()}`);
  const aliceSas = SAS_LINE.exec(calling.stdout);
  const bobSas = SAS_LINE.exec(answering.stdout());
  assert.ok(aliceSas !== null, `alice printed the SAS line:\n${calling.stdout}`);
  assert.ok(bobSas !== null, `bob printed the SAS line:\n${answering.stdout()}`);
  assert.equal(aliceSas[0], bobSas[0], 'both sides show the same SAS');
  assert.match(calling.stderr, /sotto: call: active/);
  assert.match(answering.stderr(), /sotto: incoming call from alice \(unverified\); answering/);
  assert.match(answering.stderr(), /sotto: call ended \(hangup, by alice\)/, 'bob ends on the remote hang-up');

  for (const [who, path, want] of [['alice', aliceHears, 660], ['bob', bobHears, 440]] as const) {
    const rec = parseWav(new Uint8Array(readFileSync(path)));
    assert.equal(rec.sampleRate, 48_000);
    assert.equal(rec.channels, 1);
    assert.ok(rec.samples.length >= 48_000, `${who} recorded at least 1 s (${rec.samples.length} samples)`);
    const verdict = dominantTone(loudestWindow(rec.samples, 1));
    assert.equal(verdict.dominant, want, `${who}'s recording holds the other side's ${want} Hz tone, got ${verdict.dominant} Hz`);
    assert.ok(verdict.ratio > 100, `${who}: the tone stands far above every other frequency, not noise (ratio ${verdict.ratio.toFixed(1)})`);
    assert.ok(verdict.rms > 2000, `${who}: audible (rms ${verdict.rms.toFixed(0)})`);
  }
  assert.match(calling.stderr, /dropped 0\b/, 'no frame failed SFrame on alice’s side');
  assert.match(answering.stderr(), /dropped 0\b/, 'no frame failed SFrame on bob’s side');

  // --- failures are one line each ------------------------------------------------------------
  const nobody = await bob.run(['answer', '--wait', '0.5']);
  assert.equal(nobody.status, 1);
  assert.equal(nobody.stdout, '');
  assert.match(lastLine(nobody.stderr), /^sotto: no call came in within 0\.5 s$/);
  writeFileSync(join(dir, 'not.wav'), 'RIFF....WAVEfmt nothing useful');
  const badPlay = await alice.run(['call', 'bob', '--play', join(dir, 'not.wav')]);
  assert.equal(badPlay.status, 1);
  assert.match(oneErrorLine(badPlay), /^sotto: --play .*not\.wav: /);
});
