// `sotto call --ring --voicemail` end to end (docs/protocol/11 §11.6): a real `sotto serve`; Bob is
// offline (he never runs `answer`); Alice calls with a 2 s ring and a 440 Hz WAV to leave. The call
// is not answered, so Alice's command leaves the WAV as an Ogg Opus voicemail and succeeds. Later Bob
// runs `receive --save-dir D`: a missed call from Alice and her voicemail (0:02), saved as
// voicemail.ogg; decoded with the strict demuxer and libopus, it is Alice's tone, of the WAV's length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dominantTone, stereo, tone } from '@sotto/test-support';
import { demuxOggOpus } from '../src/calls/ogg-opus.ts';
import { decodeOggOpus } from '../src/calls/voicemail.ts';
import { encodeWav } from '../src/calls/wav.ts';
import { expectOk, oneErrorLine, twoRegisteredUsers } from './helpers.ts';

test('call --ring 2 --voicemail: the unanswered call leaves an Ogg Opus voicemail that receive saves and that holds the tone', async (t) => {
  const { dir, alice, bob } = await twoRegisteredUsers(t, 'sotto-cli-voicemail-', { alice: 'alice leaves a message', bob: 'bob is not at home' });

  const wav = join(dir, 'tone-440.wav');
  // 44.1 kHz stereo: the voicemail goes through the same conversion as --play.
  writeFileSync(wav, encodeWav(stereo(tone(440, 2, 12_000, 44_100)), 44_100, 2));

  const calling = expectOk(await alice.run(['call', 'bob', '--ring', '2', '--voicemail', wav]), 'alice call');
  assert.match(calling.stderr, /sotto: call ended \(timeout, by us\)/, 'the SDK ended the ring with timeout (and told bob so)');
  assert.match(calling.stderr, /sotto: bob did not answer within 2 s; leaving a voicemail/);
  assert.equal(calling.stdout, 'left a voicemail for bob (0:02)\n');

  const saveDir = join(dir, 'bob-files');
  const received = expectOk(await bob.run(['receive', '--save-dir', saveDir]), 'bob receive');
  assert.match(received.stdout, /missed call from alice \(unverified\)/);
  assert.match(received.stdout, /alice \(unverified\) left a voicemail \(0:02\), saved as .*voicemail\.ogg/);
  assert.deepEqual(readdirSync(saveDir), ['voicemail.ogg']);
  const bytes = new Uint8Array(readFileSync(join(saveDir, 'voicemail.ogg')));
  const stream = demuxOggOpus(bytes);
  assert.equal(stream.head.channels, 1);
  assert.equal(stream.samples, 96_000, 'exactly 2 s at 48 kHz');
  const pcm = decodeOggOpus(bytes);
  assert.equal(pcm.length, 96_000);
  const verdict = dominantTone(pcm.subarray(4_800));
  assert.equal(verdict.dominant, 440, `the voicemail holds alice's 440 Hz tone, got ${verdict.dominant} Hz`);
  assert.ok(verdict.ratio > 100, `a clean tone, not noise (ratio ${verdict.ratio.toFixed(1)})`);

  // Without --voicemail, the same unanswered call is one error line.
  const plain = await alice.run(['call', 'bob', '--ring', '1']);
  assert.equal(plain.status, 1);
  assert.match(plain.stderr.trim().split('\n').at(-1) ?? '', /^sotto: bob did not answer within 1 s$/);
  // A --voicemail that cannot be used fails at once, before the passphrase: one line.
  writeFileSync(join(dir, 'empty.wav'), encodeWav(new Int16Array(0), 48_000, 1));
  const empty = await alice.run(['call', 'bob', '--voicemail', join(dir, 'empty.wav')]);
  assert.equal(empty.status, 1);
  assert.match(oneErrorLine(empty), /^sotto: --voicemail .*empty\.wav: the file holds no audio$/);
});
