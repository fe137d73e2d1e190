// startServer with a databaseUrl runs on PostgreSQL (a throw-away cluster on 127.0.0.1, the store
// package's test fixture): the same API, messages surviving a restart of the server process state,
// and live pushes that keep up with concurrent sends to one device when the database's replies
// arrive out of order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeFetchResponse, decodeServerFrame, encodeClientFrame } from '@sotto/protocol';
import { startServer } from '@sotto/server';
import { seededRng } from '@sotto/test-support';
import { startPostgresCluster } from '../../store/test/fixtures/postgres-cluster.ts';
import { accessKeyHeader, authenticate, bearer, expectOk, json, registeredPair, rng, sendBody, viaNetwork } from './support.ts';

const cluster = await startPostgresCluster();
after(() => cluster.stop());

test('startServer({ databaseUrl }) serves from PostgreSQL; a second server on the same database sees the queue', { timeout: 120_000 }, async (t) => {
  const database = await cluster.createDatabase();
  const databaseUrl = `postgres://postgres@127.0.0.1:${cluster.port}/${database}`;
  const first = await startServer({ host: '127.0.0.1', port: 0, dataDir: '/nonexistent-unused', databaseUrl });
  t.after(() => first.close());
  const http = viaNetwork(first.url);
  const { alice, bob } = await registeredPair(http);
  await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, Date.now()), accessKeyHeader(bob.accessKey))));
  await first.close();

  const second = await startServer({ host: '127.0.0.1', port: 0, dataDir: '/nonexistent-unused', databaseUrl });
  t.after(() => second.close());
  const http2 = viaNetwork(second.url);
  const token = await authenticate(http2, bob);
  const page = decodeFetchResponse(await expectOk(await http2('GET', '/v1/messages?after=0&limit=10', { headers: bearer(token) })));
  assert.equal(page.messages.length, 1);
  await second.close();
});

/**
 * A TCP proxy in front of PostgreSQL that holds what the database sends (in order per connection):
 * most chunks for 0–1 ms, one in five for 20 ms, as a busy host or network would. Replies on the
 * pool's connections then reach the server in an order of their own, not the order the database
 * sent them in.
 */
async function jitterProxy(targetPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const jitter = seededRng('pg-jitter');
  const sockets = new Set<Socket>();
  const proxy = createNetServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    const queue: { at: number; chunk: Buffer }[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const pump = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && (queue[0]?.at ?? 0) <= now) client.write(queue.shift()?.chunk ?? Buffer.alloc(0));
      if (queue.length > 0) timer = setTimeout(pump, (queue[0]?.at ?? now) - now);
      else if (ended) client.end();
    };
    upstream.on('data', (chunk: Buffer) => {
      const last = queue.at(-1)?.at ?? 0;
      const r = jitter(1)[0] ?? 0;
      queue.push({ at: Math.max(last, performance.now() + (r < 52 ? 20 : r % 2)), chunk });
      timer ??= setTimeout(pump, 0);
    });
    upstream.on('end', () => {
      ended = true;
      timer ??= setTimeout(pump, 0);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

test('live push on PostgreSQL: concurrent sends to one device all reach its open WebSocket, in seq order, none held back for a reconnect', { timeout: 120_000 }, async (t) => {
  const database = await cluster.createDatabase();
  const proxy = await jitterProxy(cluster.port);
  t.after(() => proxy.close());
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: '/nonexistent-unused', databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/${database}` });
  t.after(() => server.close());
  const http = viaNetwork(server.url);
  const { alice, bob } = await registeredPair(http);
  const token = await authenticate(http, bob);

  // Bob's receiver: acknowledges what it gets (one frame per event-loop turn) and remembers it.
  const received: { seq: number; id: string }[] = [];
  const arrived = new Map<string, () => void>();
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/ws`);
  t.after(() => {
    ws.terminate();
  });
  let pendingAcks: Uint8Array[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(encodeClientFrame({ type: 'auth', token }));
    });
    ws.on('message', (data: Buffer) => {
      const frame = decodeServerFrame(new Uint8Array(data));
      if (frame.type === 'ready') resolve();
      if (frame.type !== 'message') return;
      const id = Buffer.from(frame.id).toString('hex');
      received.push({ seq: frame.seq, id });
      arrived.get(id)?.();
      if (pendingAcks.length === 0) {
        setImmediate(() => {
          ws.send(encodeClientFrame({ type: 'ack', ids: pendingAcks }));
          pendingAcks = [];
        });
      }
      pendingAcks.push(frame.id);
    });
  });

  // 400 sealed sends to bob, 64 at a time.
  const N = 400;
  const bodies = await Promise.all(
    Array.from({ length: N }, async () => {
      const id = rng(16);
      return { id: Buffer.from(id).toString('hex'), body: await sendBody(alice, bob, Date.now(), id) };
    }),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < N) {
        const { body } = bodies[next++] ?? { body: '' };
        await expectOk(await http('PUT', '/v1/messages/bob/1', json(body, accessKeyHeader(bob.accessKey))));
      }
    }),
  );
  // One more message, sent after every other was stored: the largest seq. It is pushed after all of
  // them, so once it arrives every earlier message must have arrived too — on this connection.
  const lastId = rng(16);
  const last = Buffer.from(lastId).toString('hex');
  const lastArrived = new Promise<void>((resolve) => arrived.set(last, resolve));
  await expectOk(await http('PUT', '/v1/messages/bob/1', json(await sendBody(alice, bob, Date.now(), lastId), accessKeyHeader(bob.accessKey))));
  if (!received.some((m) => m.id === last)) await lastArrived;

  const got = new Set(received.map((m) => m.id));
  const missing = bodies.filter((b) => !got.has(b.id)).length;
  assert.equal(missing, 0, `${missing} of ${N} messages were stored but not pushed live`);
  assert.equal(received.length, N + 1, 'each message pushed once');
  received.forEach((m, i) => {
    if (i > 0) assert.ok(m.seq > (received[i - 1]?.seq ?? 0), 'pushed in seq order');
  });
});
