// Attack: passive capture of Sotto calls — all signalling through the server and all media through the relay
// (STYLE.md §14). Nothing said is read; the control shows the frame-decryption code works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoCallsPassiveCapture } from '../src/scenarios/sotto-calls/passive-capture.ts';

test('calls, passive capture: the recording of two calls holds sealed signalling and SFrame ciphertext; an insider reads 0 frames', async () => {
  const e = await runSottoCallsPassiveCapture();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.equal(e.calls, 2);
  assert.ok(e.envelopes >= 8 && e.mediaDatagrams >= e.framesSpoken && e.framesSpoken >= 6, `the recording is not empty (${e.envelopes} envelopes, ${e.mediaDatagrams} datagrams)`);
  assert.equal(e.transcriptsInClear, 0, 'no transcript in the recording, raw or decoded');
  assert.equal(e.insiderEnvelopesOpened, 0, "no signalling envelope opens with another user's keys");
  assert.ok(e.insiderCandidates > 0, 'the insider had candidate keys to try');
  assert.equal(e.framesRead, 0, 'no frame decrypted');
  assert.equal(e.controlFramesRead, e.framesSpoken, "control: the endpoints' real keys read every frame with the same code");
});
