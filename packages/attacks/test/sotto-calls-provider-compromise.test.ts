// Attack: the provider falls during a call — its database files plus every relayed byte (STYLE.md §14). The
// server holds no call key and nothing decrypts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoCallsProviderCompromise } from '../src/scenarios/sotto-calls/provider-compromise.ts';

test('calls, provider compromise: the database and both recordings hold no call key and decrypt no frame', async () => {
  const e = await runSottoCallsProviderCompromise();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.tablesDumped > 0 && e.rowsDumped > 0, 'the database was really dumped');
  assert.equal(e.duringLiveCall, true, 'the provider fell during a live call');
  assert.ok(e.framesRecorded >= e.framesSpoken && e.envelopes > 0, 'there was something to attack');
  assert.equal(e.callSecrets, 4, 'two calls, two SFrame base keys each');
  assert.equal(e.callSecretsFound, 0, 'no call key in the dump or the recording');
  assert.equal(e.transcriptsFound, 0, 'no transcript either');
  assert.equal(e.envelopesOpened, 0, 'no signalling envelope opened with anything the server holds');
  assert.equal(e.framesRead, 0, 'no frame decrypted');
  assert.equal(e.controlFramesRead, e.framesSpoken, "control: the endpoints' real keys read every frame with the same code");
});
