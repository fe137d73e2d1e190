// Attack: passive capture of everything between Sotto clients and the real server (STYLE.md §14).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoPassiveCapture } from '../src/scenarios/sotto/passive-capture.ts';

test('passive capture: the recording holds sealed envelopes and no plaintext; an insider\'s keys open none of them', async () => {
  const e = await runSottoPassiveCapture();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.requestsRecorded > 20 && e.envelopesRecorded >= 5, `the recording is not empty (${e.requestsRecorded} requests, ${e.envelopesRecorded} envelopes)`);
  assert.equal(e.plaintextsFound, 0, 'no written text or file content in the recording, raw or decoded');
  assert.equal(e.insiderOpened, 0, 'no envelope opens with another user\'s keys');
  assert.equal(e.insiderPlaintexts, 0, 'nothing decrypted');
  assert.ok(e.sealedSends > e.sendsWithSender, 'after first contact, sends are sealed (no sender named)');
});
