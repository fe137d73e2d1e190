// Attack: a device's keystore and passphrase stolen after a conversation (STYLE.md §14): earlier messages must
// stay secret (forward secrecy), while the control — a message still in flight — shows the attack code works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoDeviceKeyTheft } from '../src/scenarios/sotto/device-key-theft.ts';

test('device key theft: the stolen keystore opens the envelopes sealed to it but reads no earlier message', async () => {
  const e = await runSottoDeviceKeyTheft();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.entriesStolen > 0 && e.sessionsStolen > 0 && e.prekeysStolen > 0, 'the thief really had the identity, a session and prekeys');
  assert.ok(e.earlierOpened > 0, 'the stolen identity opens the outer layer of envelopes sent to alice');
  assert.equal(e.earlierRecovered, 0, 'but no earlier message is readable');
  assert.equal(e.earlierInKeystore, 0, 'and none is kept in the keystore in clear');
  assert.equal(e.inFlightRecovered, 1, 'control: a message still in flight at the theft is readable with the same code');
});
