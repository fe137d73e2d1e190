// MIKEY-SAKKE call set-up end to end (RFC 6509 §2): the KMS provisions alice and bob for a month, alice sends bob
// an I_MESSAGE (SAKKE-encapsulated random SSV, ECCSI signature), bob verifies and decapsulates, and both derive
// the same SRTP master key and salt (RFC 3830 §4.1.3 with TGK = SSV, RFC 6509 §3.1). Then every check the
// Responder makes is shown to reject, with its typed code, what it exists to reject.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { seededRng } from '@sotto/test-support';
import { decodeEccsiSignature, ECCSI_Q, eccsiSign, encodeEccsiSignature } from '../src/eccsi.ts';
import { EscrowError, type EscrowErrorCode } from '../src/errors.ts';
import { initiateCall, MIKEY_MAX_CLOCK_SKEW_MS, receivableKeyPeriods, respondToCall } from '../src/mikey/call.ts';
import { decodeIMessage, encodeIMessage, encodeIMessageSignedPart } from '../src/mikey/i-message.ts';
import { installUserKeys, kmsProvisionUser, mikeySakkeCommunityKeys, mikeySakkeGenerateKms, type MikeySakkeUserKeys } from '../src/mikey/kms.ts';

const ALICE = 'tel:+447700900123';
const BOB = 'tel:+447700900456';
const EVE = 'tel:+447700900789'; // same length as ALICE, so her URI can be swapped in place
const NOW = Date.UTC(2026, 10, 22, 11, 0, 0); // 2026-11-22T11:00:00Z
const PERIOD = '2026-11';

const rng = seededRng('mikey-call');
const kms = mikeySakkeGenerateKms(rng);
const community = mikeySakkeCommunityKeys(kms);
const alice = installUserKeys(community, kmsProvisionUser(kms, ALICE, PERIOD, rng));
const bob = installUserKeys(community, kmsProvisionUser(kms, BOB, PERIOD, rng));
const eve = installUserKeys(community, kmsProvisionUser(kms, EVE, PERIOD, rng));

function assertEscrowError(fn: () => unknown, code: EscrowErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EscrowError && e.code === code, `${what}: expected ${code}`);
}

/** RFC 3830 §4.1.2 with PRF-HMAC-SHA-256 (RFC 6043 §6.1) for a 16-octet TGK (one inkey block), via node:crypto. */
function referenceKey(tgk: Uint8Array, constant: number, csId: number, csbId: number, rand: Uint8Array, outBytes: number): Buffer {
  const label = Buffer.concat([Buffer.from([constant >>> 24, (constant >>> 16) & 255, (constant >>> 8) & 255, constant & 255, csId]), Buffer.from([csbId >>> 24, (csbId >>> 16) & 255, (csbId >>> 8) & 255, csbId & 255]), Buffer.from(rand)]);
  const a1 = createHmac('sha256', tgk).update(label).digest();
  return createHmac('sha256', tgk).update(Buffer.concat([a1, label])).digest().subarray(0, outBytes);
}

test('alice calls bob: bob verifies, decapsulates, and both hold the same SSV and SRTP master key and salt', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  const accepted = respondToCall({ keys: [bob], iMessage: call.iMessage, nowMs: NOW + 1_000 });
  assert.equal(accepted.initiatorUri, ALICE, 'initiator from IDRi');
  assert.equal(accepted.period, PERIOD, 'key period from T');
  assert.equal(accepted.csbId, call.csbId, 'CSB ID');
  assert.deepEqual(accepted.ssv, call.ssv, 'SSV (= TGK)');
  assert.equal(call.ssv.length, 16, 'SSV is n = 128 bits (RFC 6509 Appendix A)');
  assert.equal(accepted.srtp.length, 1, 'one crypto session');
  const [mine, theirs] = [call.srtp[0], accepted.srtp[0]];
  assert.ok(mine !== undefined && theirs !== undefined, 'keys present');
  assert.deepEqual(theirs.masterKey, mine.masterKey, 'SRTP master key');
  assert.deepEqual(theirs.masterSalt, mine.masterSalt, 'SRTP master salt');
  // Independently: TEK / salting key = PRF(SSV, constant || cs_id || csb_id || RAND) (RFC 3830 §4.1.3)
  const { message } = decodeIMessage(call.iMessage);
  assert.equal(message.prfFunc, 1, 'PRF-HMAC-SHA-256');
  assert.deepEqual(Buffer.from(mine.masterKey), referenceKey(call.ssv, 0x2ad01c64, 1, call.csbId, message.rand, 16), 'master key, independent');
  assert.deepEqual(Buffer.from(mine.masterSalt), referenceKey(call.ssv, 0x39a2c14b, 1, call.csbId, message.rand, 14), 'master salt, independent');
  // The message is what RFC 6509 Figure 1 describes
  assert.equal(new TextDecoder().decode(message.idri?.data), ALICE, 'IDRi carries the Initiator URI');
  assert.equal(new TextDecoder().decode(message.idrr?.data), BOB, 'IDRr carries the Responder URI');
  assert.equal(message.timestamp.type, 0, 'TS type NTP-UTC');
  assert.equal(message.rand.length, 16, 'RAND 128 bits');
  // A second call gets a fresh SSV, CSB ID and keys
  const again = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  assert.notDeepEqual(again.ssv, call.ssv, 'fresh SSV');
  assert.notDeepEqual(again.srtp[0]?.masterKey, mine.masterKey, 'fresh SRTP key');
});

test('tampering with any signed field fails the ECCSI check (ERR_ESCROW_INVALID_SIGNATURE)', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  const { message } = decodeIMessage(call.iMessage);
  const flip = (m: typeof message): Uint8Array => encodeIMessage(m);
  const rand = message.rand.slice();
  rand[0] = (rand[0] ?? 0) ^ 1;
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: flip({ ...message, rand }), nowMs: NOW }), 'ERR_ESCROW_INVALID_SIGNATURE', 'RAND changed');
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: flip({ ...message, csbId: (message.csbId ^ 1) >>> 0 }), nowMs: NOW }), 'ERR_ESCROW_INVALID_SIGNATURE', 'CSB ID changed');
  const sig = message.signature.slice();
  sig[40] = (sig[40] ?? 0) ^ 1;
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: flip({ ...message, signature: sig }), nowMs: NOW }), 'ERR_ESCROW_INVALID_SIGNATURE', 's changed');
  // eve signs her own message, then claims to be alice in IDRi: the signature no longer verifies for alice
  const evil = decodeIMessage(initiateCall({ initiator: eve, responderUri: BOB, nowMs: NOW, rng }).iMessage).message;
  const asAlice = flip({ ...evil, idri: { idType: 1, data: new TextEncoder().encode(ALICE) } });
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: asAlice, nowMs: NOW }), 'ERR_ESCROW_INVALID_SIGNATURE', 'eve posing as alice');
  // ... and if bob expects alice from signalling, eve's honest IDRi is refused before any crypto
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: encodeIMessage(evil), nowMs: NOW, initiatorUri: ALICE }), 'ERR_ESCROW_IDENTIFIER_MISMATCH', 'IDRi is not the expected caller');
});

test('a correctly signed message with bad SAKKE data is refused (ERR_ESCROW_INVALID_ENCAPSULATION)', () => {
  const { message } = decodeIMessage(initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng }).iMessage);
  const sakkeData = message.sakkeData.slice();
  sakkeData[sakkeData.length - 1] = (sakkeData[sakkeData.length - 1] ?? 0) ^ 1; // H changed: TEST != R
  const body = { ...message, sakkeData };
  const signature = eccsiSign(alice.community.kpak, alice.identifier, alice.signing.ssk, alice.signing.pvt, encodeIMessageSignedPart(body), rng);
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: encodeIMessage({ ...body, signature }), nowMs: NOW }), 'ERR_ESCROW_INVALID_ENCAPSULATION', 'H flipped');
});

test('the message must be for this Responder, this period, now, and not seen before', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  const iMessage = call.iMessage;
  assertEscrowError(() => respondToCall({ keys: [eve], iMessage, nowMs: NOW }), 'ERR_ESCROW_IDENTIFIER_MISMATCH', 'eve receives bob\'s call (IDRr)');
  const bobDecember: MikeySakkeUserKeys = { ...bob, period: '2026-12' };
  assertEscrowError(() => respondToCall({ keys: [bobDecember], iMessage, nowMs: NOW }), 'ERR_ESCROW_IDENTIFIER_MISMATCH', 'no key for the period');
  assertEscrowError(() => respondToCall({ keys: [], iMessage, nowMs: NOW }), 'ERR_ESCROW_IDENTIFIER_MISMATCH', 'no keys');
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage, nowMs: NOW + MIKEY_MAX_CLOCK_SKEW_MS + 1 }), 'ERR_ESCROW_REPLAY', 'timestamp too old');
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage, nowMs: NOW - MIKEY_MAX_CLOCK_SKEW_MS - 1 }), 'ERR_ESCROW_REPLAY', 'timestamp in the future');
  const first = respondToCall({ keys: [bob], iMessage, nowMs: NOW + MIKEY_MAX_CLOCK_SKEW_MS });
  const cache = new Set([first.replayCacheKey]);
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage, nowMs: NOW, replayCache: cache }), 'ERR_ESCROW_REPLAY', 'replayed');
  // ECCSI signatures are malleable: (r, q - s) verifies too. The replay cache must still catch the re-signed copy.
  const { message } = decodeIMessage(iMessage);
  const parts = decodeEccsiSignature(message.signature);
  const mauled = encodeIMessage({ ...message, signature: encodeEccsiSignature({ ...parts, s: ECCSI_Q - parts.s }) });
  assert.notDeepEqual(mauled, iMessage, 'fixture: a different octet string');
  assert.deepEqual(respondToCall({ keys: [bob], iMessage: mauled, nowMs: NOW }).ssv, first.ssv, 'the mauled signature verifies');
  assertEscrowError(() => respondToCall({ keys: [bob], iMessage: mauled, nowMs: NOW, replayCache: cache }), 'ERR_ESCROW_REPLAY', 'replayed with (r, q - s)');
  assertEscrowError(() => initiateCall({ initiator: { ...alice, period: '2026-10' }, responderUri: BOB, nowMs: NOW, rng }), 'ERR_ESCROW_IDENTIFIER_MISMATCH', 'initiator keys for another month');
  assertEscrowError(() => initiateCall({ initiator: alice, responderUri: 'tel:+44 7700', nowMs: NOW, rng }), 'ERR_ESCROW_ARGUMENT', 'bad responder URI');
});

test('key-period handover (RFC 6509 §3.3): a call made just before midnight on the 30th is received on the 1st', () => {
  assert.deepEqual(receivableKeyPeriods(Date.UTC(2026, 10, 28, 12)), ['2026-11'], '28 Nov');
  assert.deepEqual(receivableKeyPeriods(Date.UTC(2026, 10, 29, 0)), ['2026-11', '2026-12'], '29 Nov, second-to-last day');
  assert.deepEqual(receivableKeyPeriods(Date.UTC(2026, 11, 2, 23)), ['2026-12', '2026-11'], '2 Dec');
  assert.deepEqual(receivableKeyPeriods(Date.UTC(2026, 11, 3, 0)), ['2026-12'], '3 Dec: previous month no longer accepted');
  assert.deepEqual(receivableKeyPeriods(Date.UTC(2026, 11, 31, 0)), ['2026-12', '2027-01'], '31 Dec, year rollover');
  assert.deepEqual(receivableKeyPeriods(Date.UTC(2028, 1, 28, 0)), ['2028-02', '2028-03'], '28 Feb of a leap year');
  const lastMinute = Date.UTC(2026, 10, 30, 23, 59, 0);
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: lastMinute, rng });
  const bobDecember: MikeySakkeUserKeys = { ...bob, period: '2026-12' }; // stands in for next month's keys
  const accepted = respondToCall({ keys: [bobDecember, bob], iMessage: call.iMessage, nowMs: lastMinute + 2 * 60_000 });
  assert.equal(accepted.period, PERIOD, 'November keys used on 1 December');
  assert.deepEqual(accepted.srtp[0]?.masterKey, call.srtp[0]?.masterKey, 'same SRTP key across the boundary');
});

test('provisioning: the device refuses key material that fails RFC 6507 §5.1.2 or RFC 6508 §6.1.2', () => {
  const forAlice = kmsProvisionUser(kms, ALICE, PERIOD, rng);
  const forBob = kmsProvisionUser(kms, BOB, PERIOD, rng);
  assertEscrowError(() => installUserKeys(community, { ...forAlice, rsk: forBob.rsk }), 'ERR_ESCROW_INVALID_ENCAPSULATION', 'bob\'s RSK delivered as alice\'s');
  assertEscrowError(() => installUserKeys(community, { ...forAlice, ssk: forBob.ssk }), 'ERR_ESCROW_INVALID_SIGNATURE', 'bob\'s SSK delivered as alice\'s');
  const otherKms = mikeySakkeCommunityKeys(mikeySakkeGenerateKms(seededRng('other-kms')));
  assertEscrowError(() => installUserKeys({ ...community, kpak: otherKms.kpak }, forAlice), 'ERR_ESCROW_INVALID_SIGNATURE', 'another KMS\'s KPAK');
});

test('secret-holding objects print redacted markers', () => {
  const call = initiateCall({ initiator: alice, responderUri: BOB, nowMs: NOW, rng });
  assert.equal(inspect(kms), '[MikeySakkeKms: redacted]', 'KMS');
  assert.equal(inspect(alice), '[MikeySakkeUserKeys 2026-11: redacted]', 'user keys');
  assert.equal(inspect(kmsProvisionUser(kms, ALICE, PERIOD, rng)), '[MikeySakkeKeyDelivery 2026-11: redacted]', 'delivery');
  assert.equal(inspect(call), '[InitiatedCall 2026-11: redacted]', 'initiated call');
  assert.equal(JSON.stringify(call), '"[InitiatedCall 2026-11: redacted]"', 'JSON');
});
