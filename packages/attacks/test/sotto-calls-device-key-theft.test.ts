// Attack: a device's keystore and passphrase stolen after two calls (STYLE.md §14): no earlier frame is readable,
// because call secrets are ephemeral and never stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoCallsDeviceKeyTheft } from '../src/scenarios/sotto-calls/device-key-theft.ts';

test('calls, device key theft: the stolen keystore holds no call key and decrypts no earlier frame', async () => {
  const e = await runSottoCallsDeviceKeyTheft();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.entriesStolen > 0 && e.sessionsStolen > 0 && e.prekeysStolen > 0 && e.candidateKeys > 0, 'the thief really had the identity, a session, prekeys');
  assert.ok(e.envelopesOpened > 0, 'the stolen identity opens the outer layer of signalling sealed to alice');
  assert.equal(e.signallingRead, 0, 'but reads no earlier call signalling');
  assert.equal(e.framesRead, 0, 'and no earlier frame');
  assert.equal(e.callSecrets, 4);
  assert.equal(e.callSecretsInKeystore, 0, 'no call key is kept in the keystore');
  assert.equal(e.transcriptsInKeystore, 0, 'nor anything said');
  assert.equal(e.controlFramesRead, e.framesSpoken, "control: the calls' real keys read every frame with the same code");
});
