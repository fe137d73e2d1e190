// THE ESCROW PROPERTY of MIKEY-SAKKE (RFC 6509 with RFC 6507 / RFC 6508), as named regression tests for the
// scorecard: whoever holds the KMS master secrets (two integers: ECCSI KSAK and SAKKE z_T) reads every recorded
// call and can impersonate any user, without any user's key, cooperation, or a trace the users could see.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRng } from '@sotto/test-support';
import { eccsiKmsKeys } from '../src/eccsi.ts';
import { EscrowError, type EscrowErrorCode } from '../src/errors.ts';
import { initiateCall, respondToCall } from '../src/mikey/call.ts';
import { decodeIMessage, encodeIMessage, type MikeySakkeIMessage } from '../src/mikey/i-message.ts';
import { installUserKeys, kmsProvisionUser, kmsRecoverCall, mikeySakkeCommunityKeys, mikeySakkeGenerateKms, type MikeySakkeKms } from '../src/mikey/kms.ts';
import { sakkeKmsKeys } from '../src/sakke.ts';

const ALICE = 'tel:+447700900123';
const BOB = 'tel:+447700900456';
const NOW = Date.UTC(2026, 10, 22, 11, 0, 0);
const PERIOD = '2026-11';

const rng = seededRng('mikey-escrow');
const kms = mikeySakkeGenerateKms(rng);
const community = mikeySakkeCommunityKeys(kms);
const alice = installUserKeys(community, kmsProvisionUser(kms, ALICE, PERIOD, rng));
const bob = installUserKeys(community, kmsProvisionUser(kms, BOB, PERIOD, rng));

function assertEscrowError(fn: () => unknown, code: EscrowErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EscrowError && e.code === code, `${what}: expected ${code}`);
}

/** The KMS rebuilt from nothing but its two master-secret integers: all kmsRecoverCall gets besides the recording. */
function kmsFromMasterSecrets(ksak: bigint, z: bigint): MikeySakkeKms {
  return { eccsi: eccsiKmsKeys(ksak), sakke: sakkeKmsKeys(z) };
}

test('escrow: the KMS master secrets plus a recorded I_MESSAGE give the SSV and every SRTP key of the call', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  const accepted = respondToCall({ keys: [bob], iMessage: call.iMessage, nowMs: NOW });
  const recording = call.iMessage.slice(); // all a wiretap sees
  const recovered = kmsRecoverCall(kmsFromMasterSecrets(kms.eccsi.ksak, kms.sakke.z), recording);
  assert.equal(recovered.period, PERIOD, 'period from T');
  assert.equal(recovered.responderUri, BOB, 'Responder from IDRr');
  assert.equal(recovered.initiatorUri, ALICE, 'Initiator from IDRi');
  assert.equal(recovered.csbId, call.csbId, 'CSB ID');
  assert.deepEqual(recovered.ssv, call.ssv, 'SSV as alice chose it');
  assert.deepEqual(recovered.ssv, accepted.ssv, 'SSV as bob decapsulated it');
  assert.equal(recovered.srtp.length, 1, 'one crypto session');
  assert.deepEqual(recovered.srtp[0]?.masterKey, accepted.srtp[0]?.masterKey, 'SRTP master key');
  assert.deepEqual(recovered.srtp[0]?.masterSalt, accepted.srtp[0]?.masterSalt, 'SRTP master salt');
});

test('escrow: without IDRr the KMS just names (or tries) the subscriber; the wrong one does not decapsulate', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  const { message } = decodeIMessage(call.iMessage);
  const withoutIdrr = Object.fromEntries(Object.entries(message).filter(([key]) => key !== 'idrr')) as unknown as MikeySakkeIMessage;
  assert.equal('idrr' in withoutIdrr, false, 'fixture: IDRr removed');
  const recording = encodeIMessage(withoutIdrr); // the signature no longer verifies; the KMS does not care
  assertEscrowError(() => kmsRecoverCall(kms, recording), 'ERR_ESCROW_ARGUMENT', 'no Responder known');
  assertEscrowError(() => kmsRecoverCall(kms, recording, ALICE), 'ERR_ESCROW_INVALID_ENCAPSULATION', 'wrong subscriber guessed');
  const recovered = kmsRecoverCall(kms, recording, BOB);
  assert.deepEqual(recovered.ssv, call.ssv, 'SSV recovered with the right subscriber');
  assert.deepEqual(recovered.srtp[0]?.masterKey, call.srtp[0]?.masterKey, 'SRTP master key');
  assertEscrowError(() => kmsRecoverCall(kms, call.iMessage, ALICE), 'ERR_ESCROW_IDENTIFIER_MISMATCH', 'IDRr contradicts the given Responder');
});

test('escrow: it is the master secret that reads the call — another KMS\'s secrets do not', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  const otherKms = mikeySakkeGenerateKms(seededRng('another-kms'));
  assertEscrowError(() => kmsRecoverCall(otherKms, call.iMessage), 'ERR_ESCROW_INVALID_ENCAPSULATION', 'other KMS');
  assertEscrowError(() => kmsRecoverCall(kms, call.iMessage.subarray(1)), 'ERR_ESCROW_UNSUPPORTED_MESSAGE', 'garbled recording');
});

test('escrow: the KMS impersonates alice — bob accepts a call it signed as alice, and the KMS reads it too', () => {
  const forgedAlice = installUserKeys(community, kmsProvisionUser(kms, ALICE, PERIOD, seededRng('kms-mints-again')));
  assert.notDeepEqual(forgedAlice.signing.pvt, alice.signing.pvt, 'a different (SSK, PVT) pair than alice holds');
  const fake = initiateCall({ initiator: forgedAlice, responderUri: BOB, nowMs: NOW, rng });
  const accepted = respondToCall({ keys: [bob], iMessage: fake.iMessage, nowMs: NOW });
  assert.equal(accepted.initiatorUri, ALICE, 'bob believes alice is calling');
  assert.deepEqual(accepted.srtp[0]?.masterKey, fake.srtp[0]?.masterKey, 'and shares SRTP keys with the KMS');
});
