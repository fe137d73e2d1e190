// Attack: replaying recorded envelopes into bob's queue (STYLE.md §14): the SDK shows nothing again, reports
// the rejections, and the session survives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoReplay } from '../src/scenarios/sotto/replay.ts';

test('replay: byte-for-byte and fresh-id replays are dropped, nothing is shown twice, the session carries on', async () => {
  const e = await runSottoReplay();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.replayedRequests > 0 && e.injectedFrames > 0, 'replays were really sent');
  assert.ok(e.redelivered > 0, 'the server delivered byte-for-byte replays to bob again (so the client had to catch them)');
  assert.equal(e.shownDuringReplay, 0, 'bob was shown no message again');
  assert.equal(e.rejections.length, e.injectedFrames, 'every fresh-id copy was reported as rejected');
  for (const r of e.rejections) assert.match(r, /^ERR_MESSAGE_REJECTED ← ERR_(DUPLICATE_MESSAGE|PREKEY_REUSED)/, 'rejected as a replay by the ratchet');
  assert.equal(e.sessionSurvived, true, 'a genuine message still arrives afterwards');
});
