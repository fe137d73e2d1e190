// End to end, the parts of calls that are messages or trust (docs/protocol/11 §11.6–11.7): missed calls
// (an offer older than CALL_OFFER_MAX_AGE_MS by an injected clock; an offer while nothing can ring; an
// offer from a `changed` contact), voicemail to a callee who is offline, the trust rules on placeCall,
// and TURN credentials. Real clients, a real server on loopback, LoopbackMedia (calls-support.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { startServer } from '@sotto/server';
import { CALL_OFFER_MAX_AGE_MS, CALL_RING_TIMEOUT_MS, type ReceivedMessage } from '@sotto/client';
import { answering, callAccount, loopbackPair, states } from './calls-support.ts';
import { jsonResponse, newAccount, rejectsWith, tempDir, testServer, type Recorded, type Wire } from './support.ts';

const isPut = (r: Recorded): boolean => r.method === 'PUT' && r.path.startsWith('/v1/messages/');
type Missed = Extract<ReceivedMessage, { kind: 'missed-call' }>;
type Voicemail = Extract<ReceivedMessage, { kind: 'voicemail' }>;
const isMissed = (m: ReceivedMessage): m is Missed => m.kind === 'missed-call';

test('an offer older than CALL_OFFER_MAX_AGE_MS is a missed call, never rung; the caller times out', async (t) => {
  const server = await testServer(t);
  const alice = await callAccount(t, server, 'alice');
  const bob = await callAccount(t, server, 'bob');
  alice.listen();
  bob.listen();
  const bobRings = answering(bob);

  alice.skewMs = -(CALL_OFFER_MAX_AGE_MS + 1000); // alice's offer says it was sent 61 s ago by bob's clock
  const call = await alice.client.placeCall('bob', loopbackPair()[0]);
  const seen = states(call);
  const missed = await bob.message(isMissed);
  assert.equal(missed.from, 'alice');
  assert.equal(missed.call, call.id);
  assert.equal(missed.senderState, 'unverified');
  assert.match(missed.id, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(bobRings.rung.length, 0, 'it did not ring');
  assert.equal(bob.timers.armed(CALL_RING_TIMEOUT_MS), 0);

  alice.timers.fire(CALL_RING_TIMEOUT_MS);
  assert.deepEqual(await call.ended, { reason: 'timeout', by: 'local' });
  assert.deepEqual(seen, ['dialing', 'ended'], 'no ringing came back');

  // The same from the callee's side: bob's clock runs 61 s ahead of alice's.
  alice.skewMs = 0;
  bob.skewMs = CALL_OFFER_MAX_AGE_MS + 1000;
  const call2 = await alice.client.placeCall('bob', loopbackPair()[0]);
  const missed2 = await bob.message((m): m is Missed => isMissed(m) && m.call === call2.id);
  assert.equal(missed2.from, 'alice');
  assert.equal(bobRings.rung.length, 0);
  await call2.hangUp();
  // Missed calls get no delivery receipt (a call body is never acknowledged, §11.6).
  assert.equal(bob.wire.requests.filter(isPut).length, 0);
});

test('voicemail to a callee who is offline: the call times out, the voicemail waits, then downloads', async (t) => {
  const server = await testServer(t);
  const alice = await callAccount(t, server, 'alice');
  const bob = await callAccount(t, server, 'bob');
  alice.listen();
  await bob.client.close(); // bob is offline

  const call = await alice.client.placeCall('bob', loopbackPair()[0]);
  alice.timers.fire(CALL_RING_TIMEOUT_MS);
  assert.deepEqual(await call.ended, { reason: 'timeout', by: 'local' });
  const audio = new Uint8Array(randomBytes(7000));
  const sent = await alice.client.sendVoicemail('bob', { bytes: audio, mime: 'audio/ogg; codecs=opus', durationMs: 4200 }, call.id);
  assert.equal(sent.recipientState, 'unverified');

  // bob comes back, with no incoming-call handler: the offer (fresh by the clock) is a missed call,
  // the caller's call-end `timeout` names a call bob never had and is dropped, the voicemail is a message.
  await bob.reopen();
  const got = await bob.client.receive({ waitMs: 0 });
  assert.deepEqual(got.map((m) => m.kind), ['missed-call', 'voicemail']);
  const [missed, vm] = got as [Missed, Voicemail];
  assert.equal(missed.call, call.id);
  assert.equal(vm.call, call.id);
  assert.equal(vm.id, sent.id);
  assert.equal(vm.from, 'alice');
  assert.equal(vm.durationMs, 4200);
  assert.equal(vm.senderState, 'unverified');
  assert.equal(vm.file.mime, 'audio/ogg; codecs=opus');
  assert.equal(vm.file.name, 'voicemail.ogg');
  assert.equal(vm.file.size, audio.length);
  assert.deepEqual(await bob.client.downloadFile(vm.file), audio);

  // A voicemail is shown like a message, so it is acknowledged like one (a receipt); the missed call is not.
  const receipt = await alice.message((m): m is Extract<ReceivedMessage, { kind: 'delivered' }> => m.kind === 'delivered');
  assert.deepEqual(receipt.ids, [sent.id]);

  // Without a call id, the voicemail gets a fresh one.
  const lone = await alice.client.sendVoicemail('bob', { bytes: new Uint8Array(10), mime: 'audio/webm', durationMs: 0 });
  const [lvm] = (await bob.client.receive({ waitMs: 0 })) as [Voicemail];
  assert.equal(lvm.id, lone.id);
  assert.match(lvm.call, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(lvm.call, call.id);
  assert.equal(lvm.file.name, 'voicemail.webm');

  // What sendVoicemail refuses, before anything is uploaded.
  const before = alice.wire.requests.length;
  await rejectsWith(alice.client.sendVoicemail('bob', { bytes: audio, mime: 'video/mp4', durationMs: 1 }), 'ERR_ARGUMENT', 'not audio');
  await rejectsWith(alice.client.sendVoicemail('bob', { bytes: audio, mime: 'audio/ogg', durationMs: -1 }), 'ERR_ARGUMENT', 'negative duration');
  await rejectsWith(alice.client.sendVoicemail('bob', { bytes: audio, mime: 'audio/ogg', durationMs: 1.5 }), 'ERR_ARGUMENT', 'fractional duration');
  await rejectsWith(alice.client.sendVoicemail('bob', { bytes: audio, mime: 'audio/ogg', durationMs: 1 }, 'not-a-call-id'), 'ERR_ARGUMENT', 'bad call id');
  assert.equal(alice.wire.requests.length, before);
});

/** The server lies to this client: `victim`'s directory entry is `impostor`'s (as in client-trust.test.ts). */
function impersonate(w: Wire, victim: string, impostor: string): void {
  w.intercept = async (r, forward) => {
    if (r.method === 'GET' && r.path === `/v1/accounts/${victim}`) {
      const res = await forward(`/v1/accounts/${impostor}`);
      const text = new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()));
      return jsonResponse(res.status, text.replace(`"username":"${impostor}"`, `"username":"${victim}"`));
    }
    return undefined;
  };
}

test('trust (§10.4, §11.6): no call to a changed contact; an offer from one is a missed call marked changed', async (t) => {
  const server = await testServer(t);
  const alice = await callAccount(t, server, 'alice');
  const bob = await callAccount(t, server, 'bob');
  await newAccount(t, server, 'mallory');
  alice.listen();
  bob.listen();
  const bobRings = answering(bob);

  await bob.client.sendText('alice', 'hi'); // bob trusts alice's key on first use
  impersonate(bob.wire, 'alice', 'mallory'); // then the server shows bob another key for alice
  const [media] = loopbackPair();
  const puts = bob.wire.requests.filter(isPut).length;
  const refused = await rejectsWith(bob.client.placeCall('alice', media), 'ERR_TRUST_CHANGED', 'placeCall to a changed contact');
  assert.equal(refused.wasVerified, false);
  assert.ok(media.closed, 'the media is closed');
  assert.deepEqual(media.calls, ['close'], 'no offer was even made');
  assert.equal(bob.wire.requests.filter(isPut).length, puts, 'nothing was sent');
  assert.equal((await bob.client.contacts()).find((c) => c.username === 'alice')?.state, 'changed');

  // The real alice calls: the offer is authenticated, but from a contact bob has not resolved.
  const call = await alice.client.placeCall('bob', loopbackPair()[0]);
  const missed = await bob.message(isMissed);
  assert.equal(missed.call, call.id);
  assert.equal(missed.senderState, 'changed', 'shown with the change warning');
  assert.equal(bobRings.rung.length, 0, 'never rung');
  await call.hangUp();
});

test('placeCall refuses bad arguments; an unknown account is ERR_NOT_FOUND', async (t) => {
  const server = await testServer(t);
  const alice = await callAccount(t, server, 'alice');
  await rejectsWith(alice.client.placeCall('alice', loopbackPair()[0]), 'ERR_ARGUMENT', 'a call to oneself');
  await rejectsWith(alice.client.placeCall('bob', {} as never), 'ERR_ARGUMENT', 'not a CallMedia');
  await rejectsWith(alice.client.placeCall('no such name!', loopbackPair()[0]), 'ERR_USERNAME_INVALID', 'an invalid name');
  const [m] = loopbackPair();
  await rejectsWith(alice.client.placeCall('nobody', m), 'ERR_NOT_FOUND', 'no such account');
  assert.ok(m.closed);
  // Another call can be placed after a failed one (the device is not left busy).
  await rejectsWith(alice.client.placeCall('nobody', loopbackPair()[0]), 'ERR_NOT_FOUND', 'again');
  assert.throws(() => alice.client.onIncomingCall('x' as never), /ERR_ARGUMENT/);
});

test('turnServers: [] without TURN (404); with TURN, coturn REST credentials under the bearer token', async (t) => {
  const plain = await testServer(t);
  const alice = await callAccount(t, plain, 'alice');
  assert.deepEqual(await alice.client.turnServers(), []);

  const secret = 'turn-secret-for-the-call-tests-0123';
  const urls = ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'];
  const dataDir = await tempDir(t, 'turn-server');
  const running = await startServer({ host: '127.0.0.1', port: 0, dataDir, turn: { urls, secret } });
  t.after(() => running.close());
  const bob = await callAccount(t, { url: running.url } as Parameters<typeof callAccount>[1], 'bob');
  const [creds, ...more] = await bob.client.turnServers();
  assert.equal(more.length, 0);
  assert.ok(creds !== undefined);
  assert.deepEqual(creds.urls, urls);
  const m = /^(\d+):([A-Za-z0-9_-]{22})$/.exec(creds.username);
  assert.ok(m !== null, 'username = <expiry>:<16 random bytes base64url>, not the user name');
  assert.ok(Number(m[1]) > Math.floor(Date.now() / 1000) - 60, 'an expiry in the future');
  assert.equal(creds.credential, createHmac('sha1', secret).update(creds.username).digest('base64'), 'HMAC-SHA-1(secret, username), base64 (coturn use-auth-secret)');
  assert.deepEqual(Object.keys(creds).sort(), ['credential', 'urls', 'username'], 'RTCIceServer-shaped');
  const req = bob.wire.requests.find((r) => r.path === '/v1/calls/turn');
  assert.ok(req?.headers.authorization?.startsWith('Bearer '));
});
