// Attack: downgrade of a Sotto call (STYLE.md §14): altered signalling is rejected before it rings; altered
// frames (KID, CTR, header, ciphertext, tag) are dropped with their ERR_SFRAME_* code and never played.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoCallsDowngrade } from '../src/scenarios/sotto-calls/downgrade.ts';

test('calls, downgrade: nothing negotiable; altered envelopes and frames are refused and the call carries on', async () => {
  const e = await runSottoCallsDowngrade();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.equal(e.signallingAttempts.length, 3);
  for (const a of e.signallingAttempts) {
    assert.equal(a.rung, false, `${a.what}: never rung`);
    assert.match(a.result, /^ERR_MESSAGE_REJECTED ← ERR_(WIRE_UNKNOWN_VERSION|WIRE_UNKNOWN_TYPE|SEALED_DECRYPT_FAILED)$/, `${a.what}: rejected`);
  }
  const media = new Map(e.mediaAttempts.map((a) => [a.what, a.result]));
  assert.equal(media.size, 6);
  for (const [what, result] of media) assert.match(result, /^ERR_SFRAME_(UNKNOWN_KID|AUTH|MALFORMED|REPLAY)$/, `${what}: dropped, not played`);
  assert.equal(media.get('KID 0 → 7'), 'ERR_SFRAME_UNKNOWN_KID');
  assert.equal(media.get('CTR rewritten'), 'ERR_SFRAME_AUTH');
  assert.equal(media.get('header re-encoded non-minimally (1-byte CTR field)'), 'ERR_SFRAME_MALFORMED');
  assert.equal(media.get('tag cut from 16 to 8 bytes'), 'ERR_SFRAME_AUTH');
  assert.deepEqual(e.tagBytes, [16], 'the fixed suite: a full 128-bit tag on every frame');
  assert.equal(e.callStillWorks, true, 'the call works afterwards');
});
