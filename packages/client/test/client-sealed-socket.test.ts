// The SDK's sealed-send socket (docs/protocol/09 §9.7.1): while a client listens, its sealed sends
// go over the anonymous /v1/ws/sealed socket — never over its authenticated /v1/ws, and with nothing
// on the sealed socket that names the sender — and when that socket cannot be opened they go over
// HTTP as before. Real server on 127.0.0.1 (SQLite in a temporary directory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientFrame, decodeSealedSendFrame, SEALED_WEBSOCKET_PATH } from '@sotto/protocol';
import { nodeWebSocket } from '@sotto/client/node';
import type { ReceivedMessage, WebSocketFactory, WebSocketLike } from '@sotto/client';
import { createAccount } from '@sotto/client';
import { softwareKeystore } from '@sotto/client/node';
import { PASS, WEAK_KDF, tempDir, testServer, wire, type TestServer, type Wire } from './support.ts';

type After = Parameters<typeof tempDir>[0];

/** nodeWebSocket, recording every frame the client sends per socket path; `refuseSealed` makes the
 *  sealed-send socket fail to open (as against a server without the endpoint). */
function recordingSockets(opts: { refuseSealed?: boolean } = {}): { factory: WebSocketFactory; sent: Map<string, string[]>; opened: string[] } {
  const sent = new Map<string, string[]>();
  const opened: string[] = [];
  const factory: WebSocketFactory = (url) => {
    const path = new URL(url).pathname;
    opened.push(path);
    if (opts.refuseSealed === true && path === SEALED_WEBSOCKET_PATH) throw new Error('refused by the test');
    const ws: WebSocketLike = nodeWebSocket(url);
    const send = ws.send.bind(ws);
    ws.send = (data: string) => {
      sent.set(path, [...(sent.get(path) ?? []), data]);
      send(data);
    };
    return ws;
  };
  return { factory, sent, opened };
}

async function account(t: After, server: TestServer, username: string, factory: WebSocketFactory): Promise<{ client: Awaited<ReturnType<typeof createAccount>>; wire: Wire }> {
  const home = await tempDir(t, `home-${username}`);
  const w = wire();
  const client = await createAccount({ keystore: softwareKeystore(home, { testOnlyWeakKdf: WEAK_KDF }), webSocket: factory, passphrase: PASS, serverUrl: server.url, username, fetch: w.fetch });
  t.after(() => client.close());
  return { client, wire: w };
}

/** Starts listen() and resolves with a function that waits for the next text. */
function listening(client: Awaited<ReturnType<typeof createAccount>>): { next: () => Promise<string>; stop: () => Promise<void> } {
  const texts: string[] = [];
  const waiters: (() => void)[] = [];
  const stop = client.listen((m: ReceivedMessage) => {
    if (m.kind !== 'text') return;
    texts.push(m.text);
    for (const w of waiters.splice(0)) w();
  });
  return {
    stop,
    async next() {
      while (texts.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
      return texts.shift() as string;
    },
  };
}

const isPut = (r: { method: string; path: string }): boolean => r.method === 'PUT' && r.path.startsWith('/v1/messages/');

test('listening: sealed sends go over the anonymous sealed socket, never over /v1/ws, and name nobody', async (t) => {
  const server = await testServer(t);
  const a = recordingSockets();
  const b = recordingSockets();
  const alice = await account(t, server, 'alice', a.factory);
  const bob = await account(t, server, 'bob', b.factory);
  const bobIn = listening(bob.client);
  const aliceIn = listening(alice.client);
  t.after(async () => {
    await bobIn.stop();
    await aliceIn.stop();
  });

  // First contact: no profile key yet, so a bearer PUT over HTTP.
  await alice.client.sendText('bob', 'first');
  assert.equal(await bobIn.next(), 'first');
  // Bob's reply (and his receipt) are sealed: he has alice's profile key, and he is listening.
  await bob.client.sendText('alice', 'reply');
  assert.equal(await aliceIn.next(), 'reply');
  assert.equal(bob.wire.requests.filter(isPut).length, 0, 'no PUT: the sealed socket carried them');
  // Now alice has bob's profile key too.
  const putsBefore = alice.wire.requests.filter(isPut).length;
  await alice.client.sendText('bob', 'sealed over the socket');
  assert.equal(await bobIn.next(), 'sealed over the socket');
  assert.equal(alice.wire.requests.filter(isPut).length, putsBefore, 'no new PUT');

  for (const [who, rec] of [['alice', a], ['bob', b]] as const) {
    const sealedFrames = rec.sent.get(SEALED_WEBSOCKET_PATH) ?? [];
    assert.ok(sealedFrames.length >= 1, `${who} sent over the sealed socket`);
    for (const f of sealedFrames) {
      const frame = decodeSealedSendFrame(f); // only send frames: no auth frame, no token
      assert.notEqual(frame.username, who, 'addressed to the peer');
    }
    for (const f of rec.sent.get('/v1/ws') ?? []) {
      assert.ok(['auth', 'ack'].includes(decodeClientFrame(f).type), 'the device socket carries auth and acks only');
    }
  }
});

test('the sealed socket cannot be opened: sealed sends go over HTTP, and arrive', async (t) => {
  const server = await testServer(t);
  const a = recordingSockets({ refuseSealed: true });
  const alice = await account(t, server, 'alice', a.factory);
  const bob = await account(t, server, 'bob', recordingSockets().factory);
  await alice.client.sendText('bob', 'hello');
  await bob.client.receive({ waitMs: 0 });
  await bob.client.sendText('alice', 'profile key');
  await alice.client.receive({ waitMs: 0 }); // alice now has bob's profile key
  const bobIn = listening(bob.client);
  const aliceIn = listening(alice.client);
  t.after(async () => {
    await bobIn.stop();
    await aliceIn.stop();
  });
  await new Promise((r) => setTimeout(r, 200)); // both receiving sockets are up
  const putsBefore = alice.wire.requests.filter(isPut).length;
  await alice.client.sendText('bob', 'over http');
  assert.equal(await bobIn.next(), 'over http');
  const puts = alice.wire.requests.filter(isPut).slice(putsBefore);
  assert.equal(puts.length, 1, 'one PUT after the socket failed');
  assert.match(puts[0]?.headers['sotto-access-key'] ?? '', /^[A-Za-z0-9_-]{22}$/, 'still sealed');
  assert.ok(a.opened.includes(SEALED_WEBSOCKET_PATH), 'the socket was tried');
  // Not tried again for every send.
  const tries = a.opened.filter((p) => p === SEALED_WEBSOCKET_PATH).length;
  await alice.client.sendText('bob', 'again');
  assert.equal(await bobIn.next(), 'again');
  assert.equal(a.opened.filter((p) => p === SEALED_WEBSOCKET_PATH).length, tries);
});
