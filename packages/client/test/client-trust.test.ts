// End to end: trust (docs/protocol/10 §10.4) and safety numbers (docs/protocol/07) with real clients
// and a real server. A lying server is played by an injected fetch on alice's side that answers for
// "bob" with mallory's account, bundle and queue — the key substitution the trust states and safety
// numbers exist to catch. Also: prekey refill when the server reports low water (docs/protocol/09 §9.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePrekeyBundle } from '@sotto/protocol';
import type { ReceivedMessage } from '@sotto/client';
import { jsonResponse, newAccount, rejectsWith, testServer, type Recorded, type Wire } from './support.ts';

function texts(ms: readonly ReceivedMessage[]): string[] {
  return ms.flatMap((m) => (m.kind === 'text' ? [`${m.from}: ${m.text}`] : []));
}

const isPut = (r: Recorded): boolean => r.method === 'PUT' && r.path.startsWith('/v1/messages/');

/** The server lies to this client: `victim`'s directory entry, bundle and queue are `impostor`'s. */
function impersonate(w: Wire, victim: string, impostor: string): void {
  w.intercept = async (r, forward) => {
    if (r.method === 'GET' && r.path === `/v1/accounts/${victim}`) {
      const res = await forward(`/v1/accounts/${impostor}`);
      const text = new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()));
      return jsonResponse(res.status, text.replace(`"username":"${impostor}"`, `"username":"${victim}"`));
    }
    if (r.method === 'GET' && r.path === `/v1/keys/${victim}/1`) return forward(`/v1/keys/${impostor}/1`);
    if (r.method === 'PUT' && r.path === `/v1/messages/${victim}/1`) return forward(`/v1/messages/${impostor}/1`);
    return undefined;
  };
}

function spaced(digits: string): string {
  return digits.replace(/(\d{5})/g, '$1 ').trim();
}

test('safety numbers, verify and accept; a key change of a verified contact refuses sends until resolved', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  const mallory = await newAccount(t, server, 'mallory');
  await alice.client.sendText('bob', 'hi');
  await bob.client.receive({ waitMs: 0 });
  await bob.client.sendText('alice', 'hi back');
  await alice.client.receive({ waitMs: 0 });

  // Safety numbers: 60 digits, the same on both sides; the scannable payloads cross-check.
  const a = await alice.client.safetyNumber('bob');
  const b = await bob.client.safetyNumber('Alice');
  assert.match(a.digits, /^\d{60}$/);
  assert.equal(a.digits, b.digits);
  assert.equal(a.contact.state, 'unverified');
  const bobKey = a.contact.identityKey;

  // verify with wrong digits changes nothing
  const wrong = a.digits.slice(0, 59) + String((Number(a.digits[59]) + 1) % 10);
  await rejectsWith(alice.client.verify('bob', wrong), 'ERR_SAFETY_NUMBER_MISMATCH', 'one digit off');
  await rejectsWith(alice.client.verify('bob', ''), 'ERR_SAFETY_NUMBER_MISMATCH', 'empty');
  const still = (await alice.client.contacts()).find((c) => c.username === 'bob');
  assert.equal(still?.state, 'unverified');
  assert.equal(still.since, a.contact.since, 'not even the time changed');
  await rejectsWith(alice.client.acceptNewKey('bob'), 'ERR_TRUST_STATE', 'nothing to accept');

  // the right digits (spaces ignored) verify
  const verified = await alice.client.verify('bob', spaced(a.digits));
  assert.equal(verified.state, 'verified');
  assert.equal(verified.method, 'safety-number');
  assert.deepEqual(verified.identityKey, bobKey);
  // bob verifies by scanning alice's QR payload; his own payload does not match
  await rejectsWith(bob.client.verifyScanned('alice', b.scannable), 'ERR_SAFETY_NUMBER_MISMATCH', 'own payload');
  await rejectsWith(bob.client.verifyScanned('alice', new Uint8Array([1, 2, 3])), 'ERR_SAFETY_NUMBER_MISMATCH', 'garbage');
  const scanned = await bob.client.verifyScanned('alice', a.scannable);
  assert.equal(scanned.state, 'verified');
  assert.equal(scanned.method, 'qr');

  // The server substitutes mallory's key for bob's: alice's send is refused, nothing is sent.
  const malloryKey = (await alice.client.safetyNumber('mallory')).contact.identityKey;
  impersonate(alice.wire, 'bob', 'mallory');
  const putsBefore = alice.wire.requests.filter(isPut).length;
  const refused = await rejectsWith(alice.client.sendText('bob', 'are you there?'), 'ERR_TRUST_CHANGED', 'verified contact, new key');
  assert.match(refused.message, /was verified and its identity key changed: verify the new key or accept it/);
  assert.equal(refused.wasVerified, true, 'the error says which advice applies');
  assert.equal(alice.wire.requests.filter(isPut).length, putsBefore, 'nothing was sent');
  assert.equal(await alice.client.flushOutbox(), 0, 'nothing waits in the outbox either');
  assert.deepEqual(texts(await mallory.client.receive({ waitMs: 0 })), [], 'the impostor received nothing');
  const changed = (await alice.client.contacts()).find((c) => c.username === 'bob');
  assert.equal(changed?.state, 'changed');
  assert.equal(changed.wasVerified, true);
  assert.deepEqual(changed.identityKey, bobKey, 'the trusted key is kept');
  assert.deepEqual(changed.newIdentityKey, malloryKey, 'the key that appeared');
  await rejectsWith(alice.client.sendText('bob', 'again?'), 'ERR_TRUST_CHANGED', 'still refused');

  // The old digits do not verify the new key, and the new key's number differs from bob's own view:
  // comparing numbers with bob exposes the substitution.
  await rejectsWith(alice.client.verify('bob', a.digits), 'ERR_SAFETY_NUMBER_MISMATCH', 'old digits, new key');
  const substituted = await alice.client.safetyNumber('bob');
  assert.notEqual(substituted.digits, b.digits);
  assert.equal(substituted.contact.state, 'changed');

  // Accepting the new key makes it unverified and lets sends go — to mallory, which is what
  // accepting without checking means. Bob receives nothing.
  const accepted = await alice.client.acceptNewKey('bob');
  assert.equal(accepted.state, 'unverified');
  assert.deepEqual(accepted.identityKey, changed.newIdentityKey);
  const sent = await alice.client.sendText('bob', 'for bob (mallory reads it)');
  assert.equal(sent.recipientState, 'unverified');
  assert.deepEqual(texts(await mallory.client.receive({ waitMs: 0 })), ['alice: for bob (mallory reads it)']);
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), [], "only alice's earlier receipt; nothing for bob");

  // The server stops lying: the real key appears as a change of the (now unverified) contact, and that
  // is refused too until the user confirms (docs/protocol/10 §10.4), with the first-use advice.
  alice.wire.intercept = undefined;
  const putsBeforeReal = alice.wire.requests.filter(isPut).length;
  const refusedAgain = await rejectsWith(alice.client.sendText('bob', 'the real bob?'), 'ERR_TRUST_CHANGED', 'unverified contact, key changed back');
  assert.match(refusedAgain.message, /changed since first use: compare safety numbers, or accept the new key/);
  assert.equal(refusedAgain.wasVerified, false);
  assert.equal(alice.wire.requests.filter(isPut).length, putsBeforeReal, 'nothing was sent');
  const backAgain = (await alice.client.contacts()).find((c) => c.username === 'bob');
  assert.equal(backAgain?.state, 'changed');
  assert.equal(backAgain.wasVerified, false);
  assert.deepEqual(backAgain.newIdentityKey, bobKey);
  // Verifying the current key (bob's real one) with the original digits ends the change.
  const reverified = await alice.client.verify('bob', a.digits, 'sas');
  assert.equal(reverified.state, 'verified');
  assert.equal(reverified.method, 'sas');
  assert.deepEqual(reverified.identityKey, bobKey);
  assert.equal((await alice.client.sendText('bob', 'verified again')).recipientState, 'verified');
  const back = await bob.client.receive({ waitMs: 0 });
  assert.deepEqual(texts(back), ['alice: verified again'], 'bob reads only what was sent after verifying');
  assert.equal(back[0]?.kind === 'text' ? back[0].senderState : '', 'verified', 'for bob, alice is still verified');
  assert.deepEqual(texts(await mallory.client.receive({ waitMs: 0 })), [], 'mallory got nothing more');
});

test('a key change of an unverified contact refuses sends too: nothing reaches the impostor until the user accepts or verifies', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  const mallory = await newAccount(t, server, 'mallory');
  const first = await alice.client.sendText('bob', 'hi');
  assert.equal(first.recipientState, 'unverified', 'first contact: trust on first use');
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), ['alice: hi']);
  const bobView = await bob.client.safetyNumber('alice');
  const malloryKey = (await alice.client.safetyNumber('mallory')).contact.identityKey;

  // The server substitutes mallory's key for bob's, who was never verified.
  impersonate(alice.wire, 'bob', 'mallory');
  const putsBefore = alice.wire.requests.filter(isPut).length;
  const bundlesBefore = alice.wire.requests.filter((r) => r.path.startsWith('/v1/keys/')).length;
  const refused = await rejectsWith(alice.client.sendText('bob', 'secret plans'), 'ERR_TRUST_CHANGED', 'unverified contact, new key');
  assert.match(refused.message, /changed since first use: compare safety numbers, or accept the new key/);
  assert.equal(refused.wasVerified, false);
  await rejectsWith(alice.client.sendFile('bob', { name: 'plans.txt', mime: 'text/plain', bytes: new Uint8Array([1, 2, 3]) }), 'ERR_TRUST_CHANGED', 'a file too');
  assert.equal(alice.wire.requests.filter(isPut).length, putsBefore, 'nothing was sent (no message, no attachment)');
  assert.equal(alice.wire.requests.filter((r) => r.path.startsWith('/v1/keys/')).length, bundlesBefore, "no bundle fetched: nothing was even encrypted to the new key");
  assert.equal(await alice.client.flushOutbox(), 0, 'nothing waits in the outbox');
  assert.deepEqual(texts(await mallory.client.receive({ waitMs: 0 })), [], 'the impostor received nothing');
  const changed = (await alice.client.contacts()).find((c) => c.username === 'bob');
  assert.equal(changed?.state, 'changed');
  assert.equal(changed.wasVerified, false);
  assert.deepEqual(changed.newIdentityKey, malloryKey);

  // Comparing safety numbers exposes it: the new key does not give bob's number, so it does not verify.
  const shown = await alice.client.safetyNumber('bob');
  assert.notEqual(shown.digits, bobView.digits);
  await rejectsWith(alice.client.verify('bob', bobView.digits), 'ERR_SAFETY_NUMBER_MISMATCH', "bob's digits do not verify mallory's key");
  await rejectsWith(alice.client.sendText('bob', 'still?'), 'ERR_TRUST_CHANGED', 'still refused');

  // Verifying the key that is shown (here: the user really compared with whoever holds it) unblocks.
  const verified = await alice.client.verify('bob', shown.digits);
  assert.equal(verified.state, 'verified');
  assert.deepEqual(verified.identityKey, malloryKey);
  assert.equal((await alice.client.sendText('bob', 'after verifying')).recipientState, 'verified');
  assert.deepEqual(texts(await mallory.client.receive({ waitMs: 0 })), ['alice: after verifying'], 'the one message sent after the user confirmed');

  // The server stops lying: bob's real key is a change again, refused again; accepting it unblocks.
  alice.wire.intercept = undefined;
  await rejectsWith(alice.client.sendText('bob', 'real bob?'), 'ERR_TRUST_CHANGED', 'changed back');
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), [], 'bob got nothing while refused');
  const accepted = await alice.client.acceptNewKey('bob');
  assert.equal(accepted.state, 'unverified');
  assert.equal((await alice.client.sendText('bob', 'after accepting')).recipientState, 'unverified');
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), ['alice: after accepting']);
});

test('safety number of a contact never seen: the key is fetched and trusted on first use', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  assert.deepEqual(await alice.client.contacts(), []);
  const a = await alice.client.safetyNumber('bob');
  assert.equal(a.contact.state, 'unverified');
  assert.equal(a.digits, (await bob.client.safetyNumber('alice')).digits);
  assert.deepEqual((await alice.client.contacts()).map((c) => c.username), ['bob']);
  await rejectsWith(alice.client.safetyNumber('nobody'), 'ERR_NOT_FOUND', 'unknown user');
  await rejectsWith(alice.client.verify('nobody', a.digits), 'ERR_NOT_FOUND', 'unknown user');
});

test('prekeys: when the server reports low water, the client tops its one-time prekeys back up to 100', async (t) => {
  const server = await testServer(t);
  const bob = await newAccount(t, server, 'bob');
  const mallory = await newAccount(t, server, 'mallory');
  await mallory.client.sendText('bob', 'hello'); // mallory authenticates; her token drains bob's bundles below
  const auth = mallory.wire.requests.find((r) => r.headers.authorization !== undefined)?.headers.authorization;
  assert.ok(auth !== undefined);
  const fetchBundle = async (): Promise<ReturnType<typeof decodePrekeyBundle>> => {
    const res = await fetch(`${server.url}/v1/keys/bob/1`, { headers: { authorization: auth } });
    assert.equal(res.status, 200);
    return decodePrekeyBundle(new Uint8Array(await res.arrayBuffer()));
  };
  // 100 were uploaded; mallory's message used one; 80 more leave 19, under the low-water mark of 20.
  for (let i = 0; i < 80; i++) await fetchBundle();
  await bob.client.receive({ waitMs: 0 });
  const uploads = bob.wire.requests.filter((r) => r.method === 'PUT' && r.path === '/v1/keys');
  assert.equal(uploads.length, 2, 'the first upload at registration, then the refill');
  // Exactly 100 one-time keys of each kind are there now.
  for (let i = 0; i < 100; i++) {
    const b = await fetchBundle();
    assert.ok(b.oneTimePrekey !== undefined, `bundle ${i} has a one-time X25519 prekey`);
    assert.equal(b.kemPrekey.lastResort, false, `bundle ${i} has a one-time KEM prekey`);
  }
  const last = await fetchBundle();
  assert.equal(last.oneTimePrekey, undefined);
  assert.equal(last.kemPrekey.lastResort, true, 'then the last-resort key');
});
