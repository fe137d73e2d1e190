// The receive pipeline (src/messaging/receive.ts, docs/protocol/10 §10.1, §10.4, §10.5) against real
// senders built from @sotto/protocol, with the server's directory as an injected function: new
// contacts, de-duplication, forged sender certificates, an unreachable directory, bad content, and a
// key change of a verified contact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastProvider as crypto } from '@sotto/crypto';
import { seededRng } from '@sotto/test-support';
import { IdentityKeyPair } from '@sotto/protocol';
import { ClientError, markVerified, type ContentBody } from '@sotto/client';
import { processBatch, type DirectoryEntry, type IncomingMessage, type ReceiveContext } from '../src/messaging/receive.ts';
import { ENTRY_PROFILES, ENTRY_SEEN, stateChanges, type ClientState } from '../src/messaging/state.ts';
import { bobState, NOW, Sender } from './receive-support.ts';

const rng = seededRng('client-receive-batch');

function context(bob: IdentityKeyPair, directory: Map<string, DirectoryEntry | Error>): ReceiveContext & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    crypto,
    rng,
    identity: bob,
    now: NOW,
    lookups,
    lookup(username) {
      lookups.push(username);
      const e = directory.get(username);
      if (e === undefined) return Promise.reject(new ClientError('ERR_NOT_FOUND', 'no such account'));
      if (e instanceof Error) return Promise.reject(e);
      return Promise.resolve(e);
    },
  };
}

const text = (t: string): ContentBody => ({ type: 'text', text: t });

test('a first message from a new contact: kept, trusted on first use after the directory agrees, prekeys consumed, receipt planned', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  const state = await bobState(rng, bob);
  const ctx = context(bob, new Map([['alice', { identityKey: alice.identity.publicKey, devices: [1] }]]));
  const m = await alice.envelope(bob, state, text('hello bob'));
  const r = await processBatch(state, [m], ctx);
  assert.deepEqual(r.rejected, []);
  assert.equal(r.messages.length, 1);
  const got = r.messages[0];
  assert.ok(got?.kind === 'text');
  assert.equal(got.text, 'hello bob');
  assert.equal(got.from, 'alice');
  assert.equal(got.senderState, 'unverified');
  assert.equal(got.sentAt, NOW - 5);
  assert.deepEqual(r.handled, [m.id]);
  assert.deepEqual(ctx.lookups, ['alice'], 'the directory was asked once, for the new binding');
  assert.equal(r.state.trust.get('alice')?.state, 'unverified');
  assert.equal(r.state.prekeys.oneTime.size, state.prekeys.oneTime.size - 1, 'the one-time X25519 prekey is used up');
  assert.equal(r.state.prekeys.kem.size, state.prekeys.kem.size - 1, 'the one-time KEM prekey is used up');
  assert.equal(r.state.sessions.size, 1);
  assert.deepEqual(r.state.profiles.get('alice'), alice.profileKey);
  assert.deepEqual(r.state.inbox, r.messages);
  assert.equal(r.receipts.length, 1);
  assert.deepEqual(r.receipts[0]?.ids, [m.id]);
  assert.equal(state.trust.size, 0, 'the input state is untouched');

  // The same queue entry again (at-least-once delivery): acknowledged and dropped, before decryption.
  const again = await processBatch(r.state, [m], ctx);
  assert.deepEqual(again.messages, []);
  assert.deepEqual(again.handled, [m.id]);
  assert.deepEqual(again.rejected, []);
  assert.equal(again.state, r.state, 'nothing changed');

  // A second message rides the session; no directory lookup for a known binding.
  const m2 = await alice.envelope(bob, r.state, text('second'));
  const r2 = await processBatch(r.state, [m2], ctx);
  assert.equal(r2.messages.length, 1);
  assert.deepEqual(ctx.lookups, ['alice']);
  // The same profile key again: the profiles entry is not rewritten (only what changed is written).
  const written = [...stateChanges(r.state, r2.state).keys()];
  assert.equal(r2.state.profiles, r.state.profiles, 'an unchanged profile key keeps the same map');
  assert.ok(!written.includes(ENTRY_PROFILES), `expected no profiles write, got ${written.join(', ')}`);
  assert.ok(written.includes(ENTRY_SEEN), 'the seen ids are written');
});

test('a sender certificate naming someone else is a forgery: dropped, acknowledged, nothing kept', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const alice = await IdentityKeyPair.generate(crypto, rng);
  const mallory = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  const state = await bobState(rng, bob);
  const ctx = context(bob, new Map([['alice', { identityKey: alice.publicKey, devices: [1] }]]));
  const m = await mallory.envelope(bob, state, text('I am alice'));
  const r = await processBatch(state, [m], ctx);
  assert.deepEqual(r.messages, []);
  assert.deepEqual(r.handled, [m.id]);
  assert.equal(r.rejected.length, 1);
  assert.equal(r.rejected[0]?.code, 'ERR_MESSAGE_REJECTED');
  assert.equal(r.state, state, 'no trust entry, no session, no prekey used');

  // A name the directory does not know at all: the same.
  const ghost = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'ghost');
  const g = await ghost.envelope(bob, state, text('boo'));
  const rg = await processBatch(state, [g], ctx);
  assert.deepEqual(rg.handled, [g.id]);
  assert.equal(rg.rejected[0]?.code, 'ERR_MESSAGE_REJECTED');
  assert.equal(rg.state, state);
});

test('the directory unreachable: the batch stops there and the rest stays unacknowledged', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  const state = await bobState(rng, bob);
  const garbage: IncomingMessage = { id: rng(16), envelope: rng(512), receivedAt: NOW };
  const m = await alice.envelope(bob, state, text('hi'));
  const later = await alice.envelope(bob, state, text('later'));
  const ctx = context(bob, new Map([['alice', new ClientError('ERR_NETWORK', 'down')]]));
  const r = await processBatch(state, [garbage, m, later], ctx);
  assert.deepEqual(r.handled, [garbage.id], 'the undecryptable one is dropped; the one that needs the directory and those after it are not acknowledged');
  assert.equal(r.rejected.length, 1);
  assert.equal(r.stoppedBy?.code, 'ERR_NETWORK');
  assert.deepEqual(r.messages, []);
  assert.equal(r.state.prekeys, state.prekeys, 'no prekey used');
});

test('bad content from an authenticated sender: dropped, but its session state is kept', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  const state = await bobState(rng, bob);
  const ctx = context(bob, new Map([['alice', { identityKey: alice.identity.publicKey, devices: [1] }]]));
  const wrongId = await alice.envelope(bob, state, text('id mismatch'), { id: rng(16), contentId: rng(16) });
  const r = await processBatch(state, [wrongId], ctx);
  assert.deepEqual(r.messages, []);
  assert.deepEqual(r.handled, [wrongId.id]);
  assert.equal(r.rejected[0]?.code, 'ERR_MESSAGE_REJECTED');
  assert.equal(r.state.sessions.size, 1, 'the session (and the prekey use) are kept');
  const next = await alice.envelope(bob, r.state, text('fine now'));
  const r2 = await processBatch(r.state, [next], ctx);
  assert.equal(r2.messages.length, 1);
});

test('a new key for a verified contact: kept with the change warning, trust moves to changed, no receipt', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  const state = await bobState(rng, bob);
  const directory = new Map<string, DirectoryEntry | Error>([['alice', { identityKey: alice.identity.publicKey, devices: [1] }]]);
  const ctx = context(bob, directory);
  const r = await processBatch(state, [await alice.envelope(bob, state, text('one'))], ctx);
  const verified: ClientState = { ...r.state, trust: markVerified(r.state.trust, 'alice', 'safety-number', NOW).store, inbox: [] };

  const alice2 = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  directory.set('alice', { identityKey: alice2.identity.publicKey, devices: [1] });
  const m = await alice2.envelope(bob, verified, text('new phone'));
  const r2 = await processBatch(verified, [m], ctx);
  assert.equal(r2.messages.length, 1);
  const got = r2.messages[0];
  assert.ok(got?.kind === 'text');
  assert.equal(got.senderState, 'changed');
  const c = r2.state.trust.get('alice');
  assert.equal(c?.state, 'changed');
  assert.equal(c.wasVerified, true);
  assert.deepEqual(c.identityKey, alice.identity.publicKey, 'the trusted key is kept');
  assert.deepEqual(c.newIdentityKey, alice2.identity.publicKey);
  assert.deepEqual(r2.receipts, [], 'no receipt to a key sends are refused to');
  assert.deepEqual(r2.state.profiles.get('alice'), alice.profileKey, "the new key's holder does not set the profile key");
});

test('a new key for an unverified contact: kept with the change warning, trust moves to changed, no receipt either', async () => {
  const bob = await IdentityKeyPair.generate(crypto, rng);
  const alice = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  const state = await bobState(rng, bob);
  const directory = new Map<string, DirectoryEntry | Error>([['alice', { identityKey: alice.identity.publicKey, devices: [1] }]]);
  const ctx = context(bob, directory);
  const r = await processBatch(state, [await alice.envelope(bob, state, text('one'))], ctx);
  assert.equal(r.state.trust.get('alice')?.state, 'unverified');
  assert.equal(r.receipts.length, 1, 'the first-use key gets its receipt');
  const first: ClientState = { ...r.state, inbox: [] };

  const alice2 = new Sender(rng, await IdentityKeyPair.generate(crypto, rng), 'alice');
  directory.set('alice', { identityKey: alice2.identity.publicKey, devices: [1] });
  const m = await alice2.envelope(bob, first, text('new phone'));
  const r2 = await processBatch(first, [m], ctx);
  const got = r2.messages[0];
  assert.ok(got?.kind === 'text');
  assert.equal(got.senderState, 'changed');
  const c = r2.state.trust.get('alice');
  assert.equal(c?.state, 'changed');
  assert.equal(c.wasVerified, false);
  assert.deepEqual(c.newIdentityKey, alice2.identity.publicKey);
  // docs/protocol/10 §10.4: nothing goes to a changed contact until the user confirms, not even a receipt.
  assert.deepEqual(r2.receipts, [], 'no receipt to the new key');
  assert.deepEqual(r2.state.profiles.get('alice'), alice.profileKey, "the new key's holder does not set the profile key");
});
