// Attack: the provider substitutes keys in Sotto calls (STYLE.md §14). A verified contact's call is refused; a
// first-contact call with mallory in the middle of session and call is caught by the SAS comparison (mallory reads
// what is said before it — trust on first use); altering the call's keys without the session breaks the call and
// nothing decrypts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoCallsKeySubstitution } from '../src/scenarios/sotto-calls/key-substitution.ts';

test('calls, key substitution: refused for a verified contact, caught by the SAS at first contact, impossible without the session', async () => {
  const e = await runSottoCallsKeySubstitution();
  assert.equal(e.outcome, 'detected', e.detail);

  const v = e.verified;
  assert.equal(v.placeCall, 'ERR_TRUST_CHANGED', 'the call to a verified contact whose key changed is refused');
  assert.equal(v.stateShown, 'changed');
  assert.equal(v.offersSent, 0, 'nothing was offered');
  assert.deepEqual(v.mediaCalls, ['close'], 'no SDP was even made');

  const f = e.firstContact;
  assert.ok(f.rewrites >= 4, 'mallory served impostors for both sides');
  assert.equal(f.aliceSawBobAs, 'unverified', 'first contact: trust on first use');
  assert.equal(f.bobSawAliceAs, 'unverified');
  assert.equal(f.conversationIntact, true, 'the two legs were bridged transparently');
  assert.equal(f.framesReadByMallory, f.framesSpoken, 'mallory read everything said before the comparison (documented TOFU limit)');
  // The SAS of the two legs are independent: they match with probability 2^-16 per call (docs/protocol/11 §11.2.3).
  assert.equal(f.sasDiffer, true, `the two phones show different SAS (${f.aliceSas} / ${f.bobSas})`);
  assert.deepEqual(f.aliceEnded, { reason: 'sas-mismatch', by: 'local' });
  assert.deepEqual(f.bobEnded, { reason: 'sas-mismatch', by: 'local' });
  assert.equal(f.bobStateAfter, 'unverified', 'a mismatch does not verify the contact');

  assert.deepEqual(e.callKeysOnly.map((s) => s.step), ['offer to bob', 'ringing to dave', 'confirm to bob']);
  for (const s of e.callKeysOnly) {
    assert.match(s.rejection, /^ERR_MESSAGE_REJECTED ← ERR_SEALED_DECRYPT_FAILED$/, `${s.step}: the altered envelope was rejected`);
    assert.ok(!(s.daveKeyed && s.bobKeyed), `${s.step}: the call never had keys on both sides`);
    assert.equal(s.bobKeyed, false, `${s.step}: bob never got keys`);
    assert.equal(s.framesPlayed, 0, `${s.step}: nothing was heard`);
  }
  const offer = e.callKeysOnly[0];
  assert.equal(offer?.rung, false, 'an altered offer never rings');
  const confirm = e.callKeysOnly[2];
  assert.ok(confirm !== undefined && confirm.framesSent > 0 && confirm.framesDroppedNoKeys === confirm.framesSent, 'with the confirm altered, dave\'s frames reach a bob without keys and are dropped');
});
