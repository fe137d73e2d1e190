// Attack: full provider compromise — the server's database files plus every byte it relayed (STYLE.md §14).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSottoProviderCompromise } from '../src/scenarios/sotto/provider-compromise.ts';

test('provider compromise: the database and the recording decrypt nothing, hold no private key, and do not name senders', async () => {
  const e = await runSottoProviderCompromise();
  assert.equal(e.outcome, 'resisted', e.detail);
  assert.ok(e.tablesDumped > 0 && e.rowsDumped > 0, 'the database was really dumped');
  assert.ok(e.envelopesAttacked > 0 && e.candidateSecrets > 0, 'there was something to attack with');
  assert.equal(e.secretsRecovered, 0, 'no text or file content recovered');
  assert.equal(e.envelopesOpened, 0, 'no envelope opened with anything the server holds');
  assert.equal(e.attachmentsOpened, 0, 'no attachment decrypted');
  assert.equal(e.privateKeysHeld, 0, 'the server holds no user private key');
  assert.ok(e.queueRows > 0, 'a message was still queued when the provider fell');
  assert.equal(e.queueRowsNamingSender, 0, 'queued messages do not name their sender');
  assert.ok(e.controlPlaintexts > 0, 'control: the recipient\'s own keys read the queued message with the same code');
});
