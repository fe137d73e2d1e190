// Attack: replayed call signalling and replayed media (STYLE.md §14): bob's phone never rings again, a late offer
// is a missed call, replayed frames are dropped and the call carries on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoCallsReplay } from '../src/scenarios/sotto-calls/replay.ts';

test('calls, replay: no replayed offer rings, a late one is a missed call, replayed frames are never played', async () => {
  const e = await runSottoCallsReplay();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.equal(e.replayedSends, 3, 'offer, confirm and hang-up were replayed');
  assert.ok(e.serverAnswers.every((a) => a.startsWith('200')), 'the server took the byte-for-byte replays (it keeps no ids after acknowledgement)');
  assert.equal(e.rejections.length, e.injectedFreshIds, 'every fresh-id copy was reported as rejected');
  for (const r of e.rejections) assert.match(r, /^ERR_MESSAGE_REJECTED ← ERR_DUPLICATE_MESSAGE/, 'rejected as a replay by the ratchet');
  assert.equal(e.rungByReplay, 0, 'no replay rang');
  assert.equal(e.missedCallsByReplay, 0, 'nor showed a missed call');
  assert.ok(e.framesReplayed >= 4, 'frames of this call and of the previous one were replayed');
  assert.equal(e.framesPlayedFromReplay, 0, 'no replayed frame was played');
  assert.ok((e.framesDropped.ERR_SFRAME_REPLAY ?? 0) > 0, 'this call\'s frames: ERR_SFRAME_REPLAY');
  assert.ok((e.framesDropped.ERR_SFRAME_AUTH ?? 0) > 0, 'the previous call\'s frames (other keys): ERR_SFRAME_AUTH');
  assert.equal(e.callSurvived, true, 'a genuine frame afterwards was heard');
  assert.ok(e.lateOfferAgeMs > 60_000);
  assert.equal(e.lateOfferMissedCall, true, 'an offer delivered after 60 s is a missed call');
  assert.equal(e.lateOfferRung, false, 'never rung');
});
