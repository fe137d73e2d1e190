// The sealed-send WebSocket (docs/protocol/09 §9.7.1) end to end through the real `sotto serve`
// process: two SDK clients that listen exchange sealed messages over their anonymous sealed sockets;
// then hostile frames on fresh sealed sockets (not JSON, binary, an auth frame, a send with a bad
// field, one over the size bound) get their typed error or close, store nothing, and the process
// keeps serving: /health answers and the next sealed message still arrives exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { createAccount, type ReceivedMessage, type SottoClient } from '@sotto/client';
import { nodeWebSocket, softwareKeystore } from '@sotto/client/node';
import { SEALED_WEBSOCKET_PATH, WS_CLOSE_MALFORMED, decodeSealedServerFrame, encodeClientFrame, encodeSealedSendFrame, type SealedServerFrame } from '@sotto/protocol';
import { startServe } from './helpers.ts';

const WEAK_KDF = { m: 8, t: 1, p: 1 } as const;
const PASS = 'sealed socket e2e';

function inbox(client: SottoClient): { next: () => Promise<string>; all: string[]; stop: () => Promise<void> } {
  const all: string[] = [];
  let seen = 0;
  const waiters: (() => void)[] = [];
  const stop = client.listen((m: ReceivedMessage) => {
    if (m.kind !== 'text') return;
    all.push(m.text);
    for (const w of waiters.splice(0)) w();
  });
  return {
    all,
    stop,
    async next() {
      while (all.length <= seen) await new Promise<void>((resolve) => waiters.push(resolve));
      return all[seen++] as string;
    },
  };
}

/** Opens a raw sealed socket, sends `frame`, and returns the server's answers and the close code. */
async function hostile(url: string, frame: string | Buffer, binary = false): Promise<{ answers: SealedServerFrame[]; code: number | undefined }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${SEALED_WEBSOCKET_PATH}`);
  const answers: SealedServerFrame[] = [];
  let code: number | undefined;
  const closed = new Promise<void>((resolve) => {
    ws.once('close', (c) => {
      code = c;
      resolve();
    });
  });
  ws.on('message', (data: Buffer) => answers.push(decodeSealedServerFrame(new Uint8Array(data))));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve) => ws.once('open', () => { resolve(); }));
  ws.send(frame, { binary });
  // An answer that keeps the socket open, or the close.
  await Promise.race([closed, new Promise<void>((resolve) => ws.once('message', () => setTimeout(resolve, 100)))]);
  ws.terminate();
  return { answers, code };
}

test('sotto serve: sealed sends over the sealed socket between listening clients; hostile frames change nothing', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-sealed-e2e-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const server = await startServe(join(dir, 'data'));
  t.after(() => server.proc.stop());
  const open = (name: string): Promise<SottoClient> =>
    createAccount({ keystore: softwareKeystore(join(dir, name), { testOnlyWeakKdf: WEAK_KDF }), webSocket: nodeWebSocket, passphrase: PASS, serverUrl: server.url, username: name });
  const alice = await open('alice');
  const bob = await open('bob');
  t.after(() => alice.close());
  t.after(() => bob.close());
  const aliceIn = inbox(alice);
  const bobIn = inbox(bob);

  await alice.sendText('bob', 'first (bearer, HTTP)');
  assert.equal(await bobIn.next(), 'first (bearer, HTTP)');
  await bob.sendText('alice', 'reply (sealed socket)');
  assert.equal(await aliceIn.next(), 'reply (sealed socket)');
  await alice.sendText('bob', 'sealed socket both ways');
  assert.equal(await bobIn.next(), 'sealed socket both ways');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /sotto_http_requests_total\{route="SEND \/v1\/ws\/sealed",status="200"\} [1-9]/, 'sends went over the sealed socket');
  const enqueued = (text: string): number => Number(/^sotto_messages_enqueued_total (\d+)$/m.exec(text)?.[1]);
  // Receipts go out after each delivery: wait until the count is still for a moment.
  let before = enqueued(metrics);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = enqueued(await (await fetch(`${server.url}/metrics`)).text());
    if (now === before) break;
    before = now;
  }

  // Hostile frames against the real process.
  const good = JSON.parse(encodeSealedSendFrame({ type: 'send', rid: 3, username: 'bob', deviceId: 1, accessKey: new Uint8Array(16), id: new Uint8Array(16), envelope: new Uint8Array(512) })) as Record<string, unknown>;
  for (const [frame, binary, what] of [
    ['not json', false, 'not JSON'],
    [Buffer.from('{"type":"send"}'), true, 'a binary frame'],
    [encodeClientFrame({ type: 'auth', token: new Uint8Array(32) }), false, "the device socket's auth frame"],
  ] as const) {
    const r = await hostile(server.url, frame, binary);
    assert.equal(r.code, WS_CLOSE_MALFORMED, what);
    assert.deepEqual(r.answers.map((a) => [a.type, a.rid]), [['error', 0]], what);
  }
  // A text frame of invalid UTF-8 is refused by the WebSocket layer itself (RFC 6455 §8.1: 1007).
  const invalid = await hostile(server.url, Buffer.from([0xc3, 0x28]), false);
  assert.equal(invalid.code, 1007, 'invalid UTF-8');
  const wrongKey = await hostile(server.url, JSON.stringify(good));
  assert.deepEqual(wrongKey.answers.map((a) => [a.type, a.rid, a.type === 'error' ? a.error.code : '']), [['error', 3, 'ERR_API_UNAUTHORIZED']], 'a wrong access key');
  const badField = await hostile(server.url, JSON.stringify({ ...good, envelope: 'AAAA' }));
  assert.deepEqual(badField.answers.map((a) => [a.type, a.rid, a.type === 'error' ? a.error.code : '']), [['error', 3, 'ERR_API_BAD_REQUEST']], 'a bad field');
  const huge = await hostile(server.url, 'x'.repeat(600 * 1024));
  assert.equal(huge.code, 1009, 'over the frame bound');

  assert.equal((await fetch(`${server.url}/health`)).status, 200, 'still serving');
  assert.equal(enqueued(await (await fetch(`${server.url}/metrics`)).text()), before, 'nothing stored by the hostile frames');
  await alice.sendText('bob', 'after the storm');
  assert.equal(await bobIn.next(), 'after the storm');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(bobIn.all, ['first (bearer, HTTP)', 'sealed socket both ways', 'after the storm'], 'each once');
  await aliceIn.stop();
  await bobIn.stop();
});
