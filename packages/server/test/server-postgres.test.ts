// startServer with a databaseUrl runs on PostgreSQL (a throw-away cluster on 127.0.0.1, the store
// package's test fixture): the same API, messages surviving a restart of the server process state.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFetchResponse } from '@sotto/protocol';
import { startServer } from '@sotto/server';
import { startPostgresCluster } from '../../store/test/fixtures/postgres-cluster.ts';
import { accessKeyHeader, authenticate, bearer, expectOk, json, newUser, register, sendBody, viaNetwork } from './support.ts';

const cluster = await startPostgresCluster();
after(() => cluster.stop());

test('startServer({ databaseUrl }) serves from PostgreSQL; a second server on the same database sees the queue', { timeout: 120_000 }, async (t) => {
  const database = await cluster.createDatabase();
  const databaseUrl = `postgres://postgres@127.0.0.1:${cluster.port}/${database}`;
  const first = await startServer({ host: '127.0.0.1', port: 0, dataDir: '/nonexistent-unused', databaseUrl });
  t.after(() => first.close());
  const http = viaNetwork(first.url);
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  await register(http, alice);
  await register(http, bob);
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
