// End to end: two SDK clients (alice, bob) against a real server on 127.0.0.1 with SQLite in a temp
// directory — registration, text both ways (first message with the bearer token, replies sealed with
// access keys), delivery receipts, offline catch-up, live delivery, files, de-duplication, and retries
// across an unreachable server (docs/protocol/09, docs/protocol/10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ClientError, createAccount, type ReceivedMessage } from '@sotto/client';
import { KEYSTORE_FILE, nodeWebSocket, softwareKeystore } from '@sotto/client/node';
import { PASS, WEAK_KDF, newAccount, rejectsWith, reopen, tempDir, testServer, type Recorded } from './support.ts';

function texts(ms: readonly ReceivedMessage[]): string[] {
  return ms.flatMap((m) => (m.kind === 'text' ? [`${m.from}: ${m.text}`] : []));
}

const isPut = (r: Recorded): boolean => r.method === 'PUT' && r.path.startsWith('/v1/messages/');

test('text both ways: first message with the bearer token, the reply sealed, receipts back, trust on first use', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'Alice');
  const bob = await newAccount(t, server, 'bob');
  assert.equal(alice.client.username, 'alice', 'the folded name');
  assert.equal(alice.client.serverUrl, server.url);
  for (const shown of [String(alice.client), JSON.stringify(alice.client), inspect(alice.client, { depth: 5 })]) {
    assert.match(shown, /^"?\[SottoClient: redacted\]"?$/, 'the client never prints its state');
  }

  const sent = await alice.client.sendText('BOB', 'hello bob');
  assert.equal(sent.duplicate, false);
  assert.equal(sent.recipientState, 'unverified');
  assert.match(sent.id, /^[A-Za-z0-9_-]{22}$/);
  const firstPut = alice.wire.requests.filter(isPut);
  assert.equal(firstPut.length, 1);
  assert.ok(firstPut[0]?.headers.authorization?.startsWith('Bearer '), 'no profile key yet: the bearer token authorises the send');
  assert.equal(firstPut[0]?.headers['sotto-access-key'], undefined);

  const got = await bob.client.receive({ waitMs: 0 });
  assert.equal(got.length, 1);
  const m = got[0];
  assert.ok(m?.kind === 'text');
  assert.equal(m.text, 'hello bob');
  assert.equal(m.from, 'alice');
  assert.equal(m.id, sent.id);
  assert.equal(m.sentAt, sent.sentAt);
  assert.equal(m.senderState, 'unverified');
  const bobContacts = await bob.client.contacts();
  assert.deepEqual(bobContacts.map((c) => [c.username, c.state]), [['alice', 'unverified']]);

  const reply = await bob.client.sendText('alice', 'hi alice');
  const bobPuts = bob.wire.requests.filter(isPut);
  assert.equal(bobPuts.length, 2, 'a receipt, then the reply');
  for (const p of bobPuts) {
    assert.match(p.headers['sotto-access-key'] ?? '', /^[A-Za-z0-9_-]{22}$/, 'sealed: the access key from alice\'s profile key');
    assert.equal(p.headers.authorization, undefined, 'and nothing that names bob');
  }

  const back = await alice.client.receive({ waitMs: 0 });
  assert.equal(back.length, 2);
  const receipt = back[0];
  assert.ok(receipt?.kind === 'delivered');
  assert.equal(receipt.from, 'bob');
  assert.deepEqual(receipt.ids, [sent.id]);
  assert.deepEqual(texts(back), ['bob: hi alice']);
  assert.equal(back[1]?.kind === 'text' ? back[1].id : '', reply.id);

  // Alice's second message is sealed too (she has bob's profile key now); bob's receipt of it comes back.
  await alice.client.sendText('bob', 'second');
  const lastAlicePut = alice.wire.requests.filter(isPut).at(-1);
  assert.ok(lastAlicePut?.headers['sotto-access-key'] !== undefined && lastAlicePut.headers.authorization === undefined);
  // The directory lookup just before that sealed send names no one either (docs/protocol/09 §9.6):
  // with a bearer token it would tell the server who is about to send to bob.
  const lookups = alice.wire.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/accounts/bob'));
  assert.equal(lookups.length, 2, 'one lookup per send');
  assert.ok(lookups[0]?.headers.authorization?.startsWith('Bearer '), 'first contact: no profile key yet, so the bearer token');
  assert.ok(lookups[1]?.headers['sotto-access-key'] !== undefined && lookups[1].headers.authorization === undefined, 'then the access key');
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), ['alice: second']);
  const receipts = await alice.client.receive({ waitMs: 0 });
  assert.deepEqual(receipts.map((r) => r.kind), ['delivered'], 'a receipt is never answered with a receipt');
  assert.deepEqual(await bob.client.receive({ waitMs: 0 }), []);
});

test('errors: unknown recipient, invalid and taken usernames (the keystore is removed again), an existing keystore', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  await rejectsWith(alice.client.sendText('nobody', 'hi'), 'ERR_NOT_FOUND', 'unknown user');
  await rejectsWith(alice.client.sendText('no way', 'hi'), 'ERR_USERNAME_INVALID', 'invalid name');
  await rejectsWith(alice.client.sendText('bob', ''), 'ERR_ARGUMENT', 'empty text');

  const home = await tempDir(t, 'taken');
  const taken = await rejectsWith(createAccount({ keystore: softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: nodeWebSocket, passphrase: PASS, serverUrl: server.url, username: 'ALICE' }), 'ERR_USERNAME_TAKEN', 'taken');
  assert.equal(taken.serverCode, 'ERR_API_CONFLICT');
  assert.equal(taken.status, 409);
  assert.ok(!(await readdir(home)).includes(KEYSTORE_FILE), 'the keystore made for the refused name is gone');
  const carol = await createAccount({ keystore: softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: nodeWebSocket, passphrase: PASS, serverUrl: server.url, username: 'carol' });
  t.after(() => carol.close());
  assert.equal(carol.username, 'carol', 'the same home works for another name');
  await rejectsWith(createAccount({ keystore: softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: nodeWebSocket, passphrase: PASS, serverUrl: server.url, username: 'dave' }), 'ERR_KEYSTORE_EXISTS', 'existing keystore');
  await rejectsWith(createAccount({ keystore: softwareKeystore(await tempDir(t, 'bad'), { testOnlyWeakKdf: WEAK_KDF }), passphrase: PASS, serverUrl: server.url, username: '1abc' }), 'ERR_USERNAME_INVALID', 'invalid');
  await rejectsWith(createAccount({ keystore: softwareKeystore(await tempDir(t, 'nonet'), { testOnlyWeakKdf: WEAK_KDF }), passphrase: PASS, serverUrl: 'ftp://x', username: 'erin' }), 'ERR_ARGUMENT', 'bad URL');
});

test('receiver offline: messages wait on the server and arrive in order after reopening', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  await bob.client.close();
  for (const x of ['one', 'two', 'three']) await alice.client.sendText('bob', x);
  await rejectsWith(bob.client.receive({ waitMs: 0 }), 'ERR_CLIENT_CLOSED', 'closed client');
  const bob2 = await reopen(t, bob);
  assert.equal(bob2.client.username, 'bob');
  assert.deepEqual(texts(await bob2.client.receive({ waitMs: 0 })), ['alice: one', 'alice: two', 'alice: three']);
  assert.deepEqual(await bob2.client.receive({ waitMs: 0 }), [], 'acknowledged: gone from the server');
  await rejectsWith(reopen(t, { ...bob2, home: await tempDir(t, 'empty') }), 'ERR_KEYSTORE_NOT_FOUND', 'no keystore');
});

test('live: listen() delivers as messages arrive, and receive({waitMs}) takes live messages too', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  await alice.client.sendText('bob', 'backlog');
  const seen: string[] = [];
  const errors: unknown[] = [];
  let arrived: (v?: unknown) => void = () => undefined;
  const twoArrived = new Promise((resolve) => {
    arrived = resolve;
  });
  const stop = bob.client.listen((m) => {
    if (m.kind === 'text') seen.push(m.text);
    if (seen.length === 2) arrived();
  }, (e) => errors.push(e));
  await alice.client.sendText('bob', 'live');
  await twoArrived;
  await stop();
  assert.deepEqual(seen, ['backlog', 'live']);
  assert.deepEqual(errors, []);

  // receive() with a wait: the message sent while it waits is in the result.
  const pending = bob.client.receive({ waitMs: 3000 });
  await alice.client.sendText('bob', 'while waiting');
  assert.deepEqual(texts(await pending), ['alice: while waiting']);
  // Alice got bob's receipts for all three.
  const receipts = (await alice.client.receive({ waitMs: 0 })).flatMap((m) => (m.kind === 'delivered' ? m.ids : []));
  assert.equal(receipts.length, 3);
});

test('files: encrypted upload, download and check; a wrong digest is ERR_ATTACHMENT_CORRUPT', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  const bytes = new Uint8Array(randomBytes(150_000));
  const sent = await alice.client.sendFile('bob', { name: 'photo.jpg', mime: 'image/jpeg', bytes });
  const upload = alice.wire.requests.find((r) => r.method === 'POST' && r.path === '/v1/attachments');
  assert.ok(upload?.body instanceof Uint8Array);
  assert.ok(upload.body.length >= bytes.length + 28, 'the blob is padded and sealed');
  assert.ok(Buffer.from(upload.body).indexOf(Buffer.from(bytes.subarray(0, 64))) < 0, 'the server never sees the plaintext');

  const [m] = await bob.client.receive({ waitMs: 0 });
  assert.ok(m?.kind === 'file');
  assert.equal(m.id, sent.id);
  assert.equal(m.file.name, 'photo.jpg');
  assert.equal(m.file.mime, 'image/jpeg');
  assert.equal(m.file.size, bytes.length);
  assert.deepEqual(await bob.client.downloadFile(m.file), bytes);
  const wrong = { ...m.file, digest: m.file.digest.startsWith('A') ? `B${m.file.digest.slice(1)}` : `A${m.file.digest.slice(1)}` };
  await rejectsWith(bob.client.downloadFile(wrong), 'ERR_ATTACHMENT_CORRUPT', 'wrong digest');
  await rejectsWith(bob.client.downloadFile({ ...m.file, size: m.file.size - 1 }), 'ERR_ATTACHMENT_CORRUPT', 'wrong size');
  await rejectsWith(bob.client.downloadFile({ ...m.file, attachment: 'AAAAAAAAAAAAAAAAAAAAAA' }), 'ERR_NOT_FOUND', 'unknown attachment');
  await rejectsWith(bob.client.downloadFile({ ...m.file, key: 'not base64!' }), 'ERR_ARGUMENT', 'malformed reference');
  await rejectsWith(alice.client.sendFile('bob', { name: '../etc/passwd', mime: 'text/plain', bytes }), 'ERR_ARGUMENT', 'a path as a name');
});

test('de-duplication: a message delivered twice (the acknowledgement lost) reaches the application once', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  await alice.client.sendText('bob', 'exactly once');
  // Bob processes and persists the message, but his acknowledgement never reaches the server (the
  // client tries an acknowledgement twice; both are lost).
  let dropAcks = 2;
  bob.wire.intercept = (r) => {
    if (dropAcks > 0 && r.method === 'POST' && r.path === '/v1/messages/ack') {
      dropAcks--;
      return Promise.reject(new TypeError('fetch failed (injected)'));
    }
    return Promise.resolve(undefined);
  };
  await rejectsWith(bob.client.receive({ waitMs: 0 }), 'ERR_NETWORK', 'the ack was lost');
  // Now the server delivers it again; the message persisted before the ack is handed over once,
  // and the second copy is dropped by its id before any decryption is tried (no rejection).
  const errors: unknown[] = [];
  const got = await bob.client.receive({ waitMs: 0, onError: (e) => errors.push(e) });
  assert.deepEqual(texts(got), ['alice: exactly once']);
  assert.deepEqual(errors, []);
  assert.deepEqual(await bob.client.receive({ waitMs: 0 }), []);
  // Across a restart of bob's client too.
  const bob2 = await reopen(t, bob);
  assert.deepEqual(await bob2.client.receive({ waitMs: 0 }), []);
});

test('de-duplication: a sender retry after a lost answer is one delivery (same id, same envelope)', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  let lose = 2;
  alice.wire.intercept = async (r, forward) => {
    if (isPut(r) && lose > 0) {
      lose--;
      await forward(); // stored by the server...
      throw new TypeError('socket hang up (injected)'); // ...but the answer is lost
    }
    return undefined;
  };
  const sent = await alice.client.sendText('bob', 'once, despite retries');
  assert.equal(sent.duplicate, true, 'the server already had it');
  const puts = alice.wire.requests.filter(isPut);
  assert.equal(puts.length, 3);
  assert.ok(puts.every((p) => p.body === puts[0]?.body), 'the same id and envelope every time');
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), ['alice: once, despite retries']);
});

test('retries: the server stops and restarts on the same port and data directory while a send waits', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  await alice.client.sendText('bob', 'before');
  let restarted: Promise<void> | undefined;
  alice.wire.intercept = async (r) => {
    if (isPut(r) && restarted === undefined) {
      await server.stop(); // the server goes away just before the message is sent
      restarted = new Promise((resolve) => setTimeout(resolve, 300)).then(() => server.restart());
    }
    return undefined;
  };
  const sent = await alice.client.sendText('bob', 'across a restart');
  assert.equal(sent.duplicate, false);
  assert.ok(alice.wire.requests.filter(isPut).length >= 3, 'refused, then retried after the restart');
  assert.ok(alice.wire.requests.some((r) => r.path === '/v1/auth/token' && alice.wire.requests.indexOf(r) > alice.wire.requests.findIndex(isPut)), 'the restart logged alice out; she authenticated again');
  await restarted;
  assert.deepEqual(texts(await bob.client.receive({ waitMs: 0 })), ['alice: before', 'alice: across a restart']);
});

test('outbox: a message sealed while the server is down survives closing the client and is sent by flushOutbox', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  let stopped = false;
  alice.wire.intercept = async (r) => {
    if (isPut(r) && !stopped) {
      stopped = true;
      await server.stop();
    }
    return undefined;
  };
  const sending = alice.client.sendText('bob', 'from the outbox');
  // Wait until the first attempt failed and the send is backing off, then close the client (a crash).
  while (alice.wire.requests.filter(isPut).length < 1) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
  await alice.client.close();
  const e = await sending.then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof ClientError && (e.code === 'ERR_CLIENT_CLOSED' || e.code === 'ERR_NETWORK'), String(e));
  assert.ok(e.queuedId !== undefined, 'the error says the message is still queued, so the caller must not send a copy');

  await server.restart();
  const alice2 = await reopen(t, alice);
  alice.wire.intercept = undefined;
  assert.equal(await alice2.client.flushOutbox(), 1);
  assert.equal(await alice2.client.flushOutbox(), 0, 'nothing left');
  const got = await bob.client.receive({ waitMs: 0 });
  assert.deepEqual(texts(got), ['alice: from the outbox']);
  assert.equal(got[0]?.kind === 'text' ? got[0].id : undefined, e.queuedId, 'the queued id is the id that arrives');
});

test('listen: reconnects with back-off after the server restarts, authenticating again', async (t) => {
  const server = await testServer(t);
  const alice = await newAccount(t, server, 'alice');
  const bob = await newAccount(t, server, 'bob');
  const seen: string[] = [];
  const errors: unknown[] = [];
  let arrived: () => void = () => undefined;
  const got = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let connected: () => void = () => undefined;
  const firstConnection = new Promise<void>((resolve) => {
    connected = resolve;
  });
  // Know when bob's first connection is up: his first prekey-status check follows it.
  bob.wire.intercept = (r) => {
    if (r.method === 'GET' && r.path === '/v1/keys') connected();
    return Promise.resolve(undefined);
  };
  const stop = bob.client.listen((m) => {
    if (m.kind === 'text') seen.push(m.text);
    arrived();
  }, (e) => errors.push(e));
  await firstConnection;
  const tokensBefore = bob.wire.requests.filter((r) => r.path === '/v1/auth/token').length;
  await server.restart();
  await alice.client.sendText('bob', 'after the restart');
  await got;
  await stop();
  assert.deepEqual(seen, ['after the restart']);
  assert.ok(errors.length >= 1 && errors.every((e) => e instanceof ClientError), 'the lost connection was reported');
  assert.ok(bob.wire.requests.filter((r) => r.path === '/v1/auth/token').length > tokensBefore, 'bob authenticated again');
});
