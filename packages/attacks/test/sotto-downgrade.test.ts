// Attack: downgrade — other version bytes and weakened bundles from the server (STYLE.md §14).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoDowngrade } from '../src/scenarios/sotto/downgrade.ts';

test('downgrade: re-versioned envelopes and altered bundles are rejected, nothing weaker is ever sent or shown', async () => {
  const e = await runSottoDowngrade();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.envelopeAttempts.length >= 2 && e.bundleAttempts.length >= 4, 'every variant ran');
  for (const a of e.envelopeAttempts) assert.match(a.result, /^ERR_MESSAGE_REJECTED ← ERR_WIRE_UNKNOWN_VERSION/, `${a.what}: rejected, not shown`);
  for (const a of e.bundleAttempts) {
    assert.notEqual(a.result, 'sent', `${a.what}: the send failed`);
    assert.match(a.result, /ERR_(WIRE_[A-Z_]+|SIGNATURE_INVALID|BUNDLE_INVALID|KEY_INVALID)/, `${a.what}: failed on the bundle check`);
    assert.equal(a.sendsReachingServer, 0, `${a.what}: nothing was sent`);
  }
  assert.equal(e.conversationsStillWork, true, 'both conversations work afterwards');
});
