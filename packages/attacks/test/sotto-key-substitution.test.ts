// Attack: the provider substitutes bob's identity key and bundle (STYLE.md §14). Every victim's SDK must show
// it: the send of an existing contact — verified or not — is refused before anything is encrypted to mallory
// (docs/protocol/10 §10.4), and a first contact is caught by the safety-number comparison. The controls show
// that mallory's decryption works (the first contact's message, and the unverified contact's message once the
// user accepted the new key unchecked), so its zero reads from the refused sends are real.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoKeySubstitution } from '../src/scenarios/sotto/key-substitution.ts';

test('key substitution: detected by the trust state and the safety number, and no existing contact gets anything through', async () => {
  const e = await runSottoKeySubstitution();
  assert.equal(e.outcome, 'detected', e.detail);
  assert.ok(e.rewrites >= 3, 'mallory really rewrote the lookups and bundles');
  const by = (who: string) => e.victims.find((v) => v.who === who);

  const verified = by('verified contact');
  assert.ok(verified !== undefined, 'verified contact ran');
  assert.equal(verified.send, 'ERR_TRUST_CHANGED', 'the send to a verified contact whose key changed is refused');
  assert.equal(verified.stateShown, 'changed', 'and bob is shown as changed');
  assert.equal(verified.wasVerified, true, 'with the note that the old key had been verified');
  assert.equal(verified.trustedKeyKept, true, 'the verified key is kept as the trusted one');
  assert.equal(verified.newKeyIsMallorys, true, 'the warning shows mallory\'s key as the new one');
  assert.equal(verified.readByMallory, 0, 'mallory got nothing from the verified contact');

  const unverified = by('unverified contact');
  assert.ok(unverified !== undefined, 'unverified contact ran');
  assert.equal(unverified.stateShown, 'changed', 'an unverified contact whose key changed is shown as changed');
  assert.equal(unverified.wasVerified, false, 'not previously verified');
  assert.equal(unverified.send, 'ERR_TRUST_CHANGED', 'and the send to it is refused too');
  assert.equal(unverified.readByMallory, 0, 'mallory got nothing from the unverified contact');
  assert.equal(unverified.trustedKeyKept, true, 'the previously seen key is kept for display');
  assert.equal(unverified.newKeyIsMallorys, true, 'the warning shows mallory\'s key as the new one');
  // Control: the refusal is what held the message back. Once the user accepts the new key without checking,
  // the next send goes to mallory's key, and mallory reads it with the same code that read 0 above.
  assert.deepEqual(unverified.afterAccepting, { send: 'sent', readByMallory: 1 }, 'accepting unchecked hands mallory what follows');

  const first = by('first contact');
  assert.ok(first !== undefined, 'first contact ran');
  assert.equal(first.stateShown, 'unverified', 'first contact is trust on first use');
  assert.equal(first.send, 'sent');
  assert.equal(first.readByMallory, 1, 'control: mallory reads a first contact\'s message sent before verifying (documented TOFU limit)');
  assert.equal(first.comparison, 'ERR_SAFETY_NUMBER_MISMATCH', 'comparing safety numbers with the real bob exposes the substitution');
  assert.equal(first.afterAccepting, undefined);

  assert.match(e.detail, /Unverified contact: bob shown as changed, send refused \(ERR_TRUST_CHANGED\), mallory read 0 /);
  assert.match(e.detail, /Verified contact: bob shown as changed, send refused \(ERR_TRUST_CHANGED\), mallory read 0\. /);
});
