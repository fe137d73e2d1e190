// End to end: calls (docs/protocol/11) between real SDK clients against a real server on loopback,
// each with a live listen() loop. The media is LoopbackMedia (calls-support.ts): everything the SDK
// does — the hybrid key agreement with its hash commitment, the SAS, the SFrame keys, the sealed
// session messages that carry the signalling — is the real code. Time-outs use injected timers.
import { test } from 'node:test';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { CALL_RING_TIMEOUT_MS, type Call, type ReceivedMessage } from '@sotto/client';
import { sdpFingerprint } from '@sotto/protocol';
import { fingerprintOf } from '@sotto/test-support';
import { answering, callAccount, loopbackPair, reached, states, type CallClient } from './calls-support.ts';
import { rejectsWith, testServer, type Recorded } from './support.ts';

const isPut = (r: Recorded): boolean => r.method === 'PUT' && r.path.startsWith('/v1/messages/');
/** Read through a function: an assertion on `call.sas` must not narrow later reads. */
const sasOf = (c: Call): Call['sas'] => c.sas;
const eq = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));

async function pair(t: Parameters<typeof callAccount>[0], names: [string, string]): Promise<[CallClient, CallClient]> {
  const server = await testServer(t);
  const a = await callAccount(t, server, names[0]);
  const b = await callAccount(t, server, names[1]);
  a.listen();
  b.listen();
  return [a, b];
}

test('a call: offer, ringing (the callee’s values), confirm, answer; both sides hold the same keys and SAS; SAS match verifies; hang-up ends both', async (t) => {
  const [alice, bob] = await pair(t, ['alice', 'bob']);
  const bobRings = answering(bob);
  const [aliceMedia, bobMedia] = loopbackPair();

  const call = await alice.client.placeCall('Bob', aliceMedia);
  const aliceStates = states(call);
  assert.equal(call.role, 'caller');
  assert.equal(call.peer, 'bob');
  assert.match(call.id, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(call.sas, undefined);
  assert.match(inspect(call), /redacted/);
  assert.match(JSON.stringify(call), /redacted/);

  const incoming = await bobRings.next();
  assert.equal(incoming.id, call.id);
  assert.equal(incoming.from, 'alice');
  assert.equal(incoming.senderState, 'unverified', 'first contact: trust on first use');
  await reached(call, 'ringing'); // bob's call-ringing arrived

  const bobCall = await incoming.accept(bobMedia);
  assert.equal(bobCall.role, 'callee');
  assert.equal(bobCall.peer, 'alice');
  assert.equal(bobCall.id, call.id);
  const bobStates = states(bobCall);
  await Promise.all([reached(call, 'active'), reached(bobCall, 'active')]);
  assert.deepEqual(aliceStates, ['dialing', 'ringing', 'connecting', 'active']);
  assert.deepEqual(bobStates, ['connecting', 'active']);

  // The SDPs went through unchanged, and each side's remote fingerprint is the other's certificate.
  assert.equal(bobMedia.remoteSdp, aliceMedia.offerSdp);
  assert.equal(aliceMedia.remoteSdp, bobMedia.answerSdp);
  assert.equal(sdpFingerprint(aliceMedia.remoteSdp ?? ''), fingerprintOf(bobMedia.fingerprint));
  assert.equal(aliceMedia.dtlsMismatch || bobMedia.dtlsMismatch, false);
  assert.deepEqual(aliceMedia.calls, ['createOffer', 'acceptAnswer', 'setKeys']);
  assert.deepEqual(bobMedia.calls, ['acceptOffer', 'setKeys']);

  // §11.5: the caller sends under KID 0, the callee under KID 1; each one's send key is the other's receive key.
  const ak = aliceMedia.keys;
  const bk = bobMedia.keys;
  assert.ok(ak !== undefined && bk !== undefined);
  assert.equal(ak.send.kid, 0);
  assert.equal(ak.receive.kid, 1);
  assert.equal(bk.send.kid, 1);
  assert.equal(bk.receive.kid, 0);
  assert.ok(eq(ak.send.baseKey, bk.receive.baseKey), 'caller.send = callee.receive');
  assert.ok(eq(ak.receive.baseKey, bk.send.baseKey), 'caller.receive = callee.send');
  assert.ok(!eq(ak.send.baseKey, ak.receive.baseKey), 'two directions, two keys');
  assert.equal(ak.send.baseKey.length, 32);

  // §11.4: the same SAS on both sides.
  const sas = sasOf(call);
  assert.ok(sas !== undefined);
  assert.deepEqual(sas, sasOf(bobCall));
  assert.equal(sas.words.length, 2);
  assert.match(sas.base32, /^[ybndrfg8ejkmcpqxot1uwisza345h769]{4}$/);

  // "The words match" → verified by sas, on the side that confirmed.
  await call.confirmSas(true);
  const bobContact = (await alice.client.contacts()).find((c) => c.username === 'bob');
  assert.equal(bobContact?.state, 'verified');
  assert.equal(bobContact.method, 'sas');
  assert.equal(call.state, 'active', 'confirming does not end the call');
  assert.equal((await bob.client.contacts()).find((c) => c.username === 'alice')?.state, 'unverified', "bob's side is bob's to confirm");

  await call.hangUp();
  assert.deepEqual(await call.ended, { reason: 'hangup', by: 'local' });
  assert.deepEqual(await bobCall.ended, { reason: 'hangup', by: 'remote' });
  assert.equal(call.state, 'ended');
  assert.equal(sasOf(call)?.words.length, 2, 'the SAS stays readable after the end (the keys do not)');
  assert.ok(aliceMedia.closed && bobMedia.closed);
  await rejectsWith(call.confirmSas(true), 'ERR_CALL_STATE', 'confirmSas after the end');
  await call.hangUp(); // nothing: it has ended

  // §11.6: call bodies are not messages — nothing reached either inbox, no receipts, nothing in the outbox.
  assert.deepEqual(alice.messages, []);
  assert.deepEqual(bob.messages, []);
  assert.equal(await alice.client.flushOutbox(), 0);
  assert.equal(await bob.client.flushOutbox(), 0);
  // alice: offer, confirm, hangup; bob: ringing, answer — and no delivery receipt.
  assert.equal(alice.wire.requests.filter(isPut).length, 3);
  assert.equal(bob.wire.requests.filter(isPut).length, 2);
  assert.deepEqual([...alice.errors, ...bob.errors], []);

  // A second call, the other way round, on the same sessions: fresh keys, a fresh SAS value.
  const aliceRings = answering(alice);
  const [bm2, am2] = loopbackPair();
  const back = await bob.client.placeCall('alice', bm2);
  const aliceCall = await (await aliceRings.next()).accept(am2);
  await Promise.all([reached(back, 'active'), reached(aliceCall, 'active')]);
  assert.deepEqual(back.sas, aliceCall.sas);
  assert.ok(eq(bm2.keys?.send.baseKey, am2.keys?.receive.baseKey));
  assert.ok(!eq(bm2.keys?.receive.baseKey, ak.send.baseKey), 'no key of the first call is reused');
  assert.equal(bm2.keys?.send.kid, 0, 'bob is the caller now');
  await aliceCall.hangUp();
  assert.deepEqual(await back.ended, { reason: 'hangup', by: 'remote' });
  assert.deepEqual([...alice.errors, ...bob.errors, ...alice.messages, ...bob.messages], []);
});

test('decline; caller hang-up before the answer cancels the ring; accept after that is refused', async (t) => {
  const [alice, bob] = await pair(t, ['alice', 'bob']);
  const bobRings = answering(bob);

  const [am, bm] = loopbackPair();
  const call = await alice.client.placeCall('bob', am);
  const incoming = await bobRings.next();
  await incoming.decline();
  assert.deepEqual(await call.ended, { reason: 'decline', by: 'remote' });
  assert.ok(am.closed);
  await rejectsWith(incoming.accept(bm), 'ERR_CALL_STATE', 'accept after decline');
  await rejectsWith(incoming.decline(), 'ERR_CALL_STATE', 'decline twice');

  const [am2, bm2] = loopbackPair();
  const call2 = await alice.client.placeCall('bob', am2);
  const incoming2 = await bobRings.next();
  await reached(call2, 'ringing');
  await call2.hangUp();
  assert.equal(await incoming2.cancelled, 'hangup');
  assert.deepEqual(await call2.ended, { reason: 'hangup', by: 'local' });
  await rejectsWith(incoming2.accept(bm2), 'ERR_CALL_STATE', 'accept after the caller hung up');
  assert.equal(bm2.calls.length, 0, 'the media was never touched');
  assert.deepEqual([...alice.messages, ...bob.messages], []);
});

test('busy: a third client calling a callee in a call gets call-end busy; the call goes on', async (t) => {
  const server = await testServer(t);
  const alice = await callAccount(t, server, 'alice');
  const bob = await callAccount(t, server, 'bob');
  const carol = await callAccount(t, server, 'carol');
  for (const c of [alice, bob, carol]) c.listen();
  const bobRings = answering(bob);

  const [am, bm] = loopbackPair();
  const call = await alice.client.placeCall('bob', am);
  const bobCall = await (await bobRings.next()).accept(bm);
  await Promise.all([reached(call, 'active'), reached(bobCall, 'active')]);

  const [cm] = loopbackPair();
  const carolCall = await carol.client.placeCall('bob', cm);
  assert.deepEqual(await carolCall.ended, { reason: 'busy', by: 'remote' });
  assert.ok(cm.closed);
  assert.equal(bobRings.rung.length, 1, 'carol never rang at bob');
  assert.equal(call.state, 'active');
  assert.equal(bobCall.state, 'active');

  // The busy device refuses to place a second call itself.
  await rejectsWith(bob.client.placeCall('carol', loopbackPair()[0]), 'ERR_CALL_BUSY', 'placeCall during a call');

  await bobCall.hangUp();
  assert.deepEqual(await call.ended, { reason: 'hangup', by: 'remote' });
  const noise: ReceivedMessage[] = [...alice.messages, ...bob.messages, ...carol.messages];
  assert.deepEqual(noise, []);
});

test('SAS mismatch ends both sides with sas-mismatch and changes no trust', async (t) => {
  const [alice, bob] = await pair(t, ['alice', 'bob']);
  const bobRings = answering(bob);
  const [am, bm] = loopbackPair();
  const call = await alice.client.placeCall('bob', am);
  const bobCall = await (await bobRings.next()).accept(bm);
  await Promise.all([reached(call, 'active'), reached(bobCall, 'active')]);

  await bobCall.confirmSas(false);
  assert.deepEqual(await bobCall.ended, { reason: 'sas-mismatch', by: 'local' });
  assert.deepEqual(await call.ended, { reason: 'sas-mismatch', by: 'remote' });
  assert.ok(am.closed && bm.closed);
  assert.equal((await alice.client.contacts()).find((c) => c.username === 'bob')?.state, 'unverified');
  assert.equal((await bob.client.contacts()).find((c) => c.username === 'alice')?.state, 'unverified');
});

test('ring time-out (injected timers): the caller ends with timeout, the callee stops ringing', async (t) => {
  const [alice, bob] = await pair(t, ['alice', 'bob']);
  const bobRings = answering(bob);
  const [am] = loopbackPair();
  const call = await alice.client.placeCall('bob', am);
  const incoming = await bobRings.next();
  await reached(call, 'ringing');
  assert.equal(alice.timers.armed(CALL_RING_TIMEOUT_MS), 1, "the caller's ring time-out");
  assert.equal(bob.timers.armed(CALL_RING_TIMEOUT_MS), 1, "the callee's own ring time-out");

  assert.equal(alice.timers.fire(CALL_RING_TIMEOUT_MS), 1);
  assert.deepEqual(await call.ended, { reason: 'timeout', by: 'local' });
  assert.equal(await incoming.cancelled, 'timeout', "the caller's call-end timeout reached bob");
  assert.ok(am.closed);
  assert.equal(bob.timers.armed(CALL_RING_TIMEOUT_MS), 0, 'the cancelled ring disarmed its own timer');

  // The callee's own timer, when the caller's device vanished without a word.
  const [am2] = loopbackPair();
  const call2 = await alice.client.placeCall('bob', am2);
  const incoming2 = await bobRings.next();
  await alice.stop(); // alice hears nothing more
  assert.equal(bob.timers.fire(CALL_RING_TIMEOUT_MS), 1);
  assert.equal(await incoming2.cancelled, 'timeout');
  assert.equal(call2.state, 'dialing', "alice's call is still waiting (her listen loop is gone)");
  await call2.hangUp();
});

test('placeCall ringMs: a shorter ring ends with timeout and tells the callee; out-of-range values are refused', async (t) => {
  const [alice, bob] = await pair(t, ['alice', 'bob']);
  const bobRings = answering(bob);
  const [bad] = loopbackPair();
  for (const ringMs of [999, CALL_RING_TIMEOUT_MS + 1, 1500.5, Number.NaN]) {
    await rejectsWith(alice.client.placeCall('bob', bad, { ringMs }), 'ERR_ARGUMENT', `ringMs ${ringMs}`);
  }
  assert.equal(bad.closed, false, 'a refused placeCall never touched the media');
  const [am] = loopbackPair();
  const call = await alice.client.placeCall('bob', am, { ringMs: 2000 });
  const incoming = await bobRings.next();
  assert.equal(alice.timers.armed(2000), 1, "the caller's ring time-out is the one asked for");
  assert.equal(alice.timers.armed(CALL_RING_TIMEOUT_MS), 0);
  assert.equal(alice.timers.fire(2000), 1);
  assert.deepEqual(await call.ended, { reason: 'timeout', by: 'local' });
  assert.equal(await incoming.cancelled, 'timeout');
});

test('the key agreement times out too when the confirm never comes', async (t) => {
  const [alice, bob] = await pair(t, ['alice', 'bob']);
  const bobRings = answering(bob);
  const [am, bm] = loopbackPair();
  await alice.client.placeCall('bob', am);
  const incoming = await bobRings.next();
  await alice.stop(); // the answer will never be read, so no confirm comes
  const bobCall = await incoming.accept(bm);
  assert.equal(bobCall.state, 'connecting');
  assert.equal(bob.timers.fire(CALL_RING_TIMEOUT_MS), 1);
  assert.deepEqual(await bobCall.ended, { reason: 'timeout', by: 'local' });
  assert.ok(bm.closed);
  assert.equal(bm.keys, undefined, 'no keys were ever handed to the media');
});
