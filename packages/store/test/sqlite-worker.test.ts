// What is new about the SQLite store openSqliteStore returns (src/sqlite-worker.ts): reads on the
// calling thread, writes on the writer thread. The conformance suite, settings, migrations, crash
// safety and group commit run against it in sqlite.test.ts; here: a read made the moment a write
// resolves sees it, a crash of the writer thread fails calls instead of hanging them, close() with
// calls in flight, and a process is kept alive by calls in flight only.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore, type DeviceAddress, type Store } from '@sotto/store';
import { SqliteStore } from '../src/sqlite.ts';
import { SqliteWorkerStore } from '../src/sqlite-worker.ts';
import { accessKeyHash, id16, identityKey, message, prekeys, rejectsWith } from './conformance.ts';

const root = mkdtempSync(join(tmpdir(), 'sotto-store-sqlite-worker-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
function freshPath(): string {
  const dir = join(root, String(++dirs));
  mkdirSync(dir);
  return join(dir, 'sotto.db');
}
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const ALICE: DeviceAddress = { username: 'alice', deviceId: 1 };
const account = (username: string, fill: number) => ({ username, identityKey: identityKey(fill), accessKeyHash: accessKeyHash(fill), createdAt: 1, firstDeviceId: 1 });

async function openWorkerStore(path: string): Promise<SqliteWorkerStore> {
  const store = await openSqliteStore(path);
  assert.ok(store instanceof SqliteWorkerStore, 'openSqliteStore returns the store with a writer thread');
  return store;
}

test('sqlite writer thread: a read made as soon as a write resolves sees it', async () => {
  const store = await openWorkerStore(freshPath());
  await store.createAccount(account('alice', 1));
  assert.notEqual(await store.getAccount('alice'), null);
  // Every enqueue of a burst of 100 is read back in its own resolution, before the others resolve.
  const seen = await Promise.all(
    Array.from({ length: 100 }, (_, n) =>
      store.enqueue(ALICE, message(n)).then(async (r) => {
        const queue = await store.fetch(ALICE, { after: r.seq - 1, limit: 1 });
        return queue[0]?.seq === r.seq;
      }),
    ),
  );
  assert.deepEqual(seen, seen.map(() => true));
  assert.equal(await store.ack(ALICE, [id16(0), id16(1)]), 2);
  assert.equal((await store.fetch(ALICE, { after: 0, limit: 1000 })).length, 98);
  await store.addDevice({ username: 'alice', deviceId: 2 }, 5);
  await store.touchDevice({ username: 'alice', deviceId: 2 }, 9);
  assert.deepEqual((await store.listDevices('alice')).map((d) => d.lastSeenAt), [1, 9]);
  assert.deepEqual(
    await store.storePrekeys(ALICE, { signedPrekey: { id: 1, record: new Uint8Array([1]) }, lastResortKemPrekey: { id: 2, record: new Uint8Array([2]) }, oneTime: { x25519: prekeys('x', [1, 2]), kem: prekeys('k', [1]) } }),
    { x25519: 2, kem: 1 },
  );
  assert.deepEqual(await store.countOneTimePrekeys(ALICE), { x25519: 2, kem: 1 });
  const bundle = await store.takeBundleParts(ALICE);
  assert.deepEqual(bundle.oneTimePrekey, prekeys('x', [1])[0]);
  assert.deepEqual(await store.countOneTimePrekeys(ALICE), { x25519: 1, kem: 0 });
  const attachment = { id: id16(7), bytes: new Uint8Array([7, 7]), expiresAt: 50 };
  await store.putAttachment(attachment);
  assert.deepEqual(await store.getAttachment(id16(7)), { ...attachment, size: 2 });
  assert.equal(await store.expireAttachments(50), 1);
  assert.equal(await store.getAttachment(id16(7)), null);
  assert.equal(await store.expireMessages(2000), 98);
  assert.deepEqual(await store.fetch(ALICE, { after: 0, limit: 10 }), []);
  await store.close();
});

test('sqlite writer thread: argument errors reject at once, before anything crosses to the writer', async () => {
  const store = await openWorkerStore(freshPath());
  await store.createAccount(account('alice', 1));
  const commits = await store.groupCommits();
  const bad = store.enqueue(ALICE, { ...message(1), id: new Uint8Array(3) });
  const good = store.enqueue(ALICE, message(2));
  await rejectsWith(bad, 'ERR_STORE_ARGUMENT', 'a 3-byte message id');
  assert.equal((await good).duplicate, false);
  assert.equal(await store.groupCommits(), commits + 1);
  await store.close();
});

test('sqlite writer thread: one batch of packed (enqueue, ack) and generic calls runs in call order, each call with its own result', async () => {
  const store = await openWorkerStore(freshPath());
  await store.createAccount(account('alice', 1));
  const lone = { username: 'x\ud800', deviceId: 1 }; // a lone surrogate: packing cannot carry it, so generic
  await store.createAccount(account(lone.username, 2));
  const detachedEnvelope = new Uint8Array([1, 2, 3]);
  const detachedId = id16(9);
  // All in one event-loop turn, so all in one batch.
  const calls = [
    store.enqueue(ALICE, message(1)),
    store.ack(ALICE, [id16(1)]), // after the enqueue: deletes it
    store.enqueue(ALICE, message(1)), // after the ack: new again
    store.enqueue(ALICE, message(1)), // a duplicate of the one before
    store.enqueue({ username: 'alice', deviceId: 7 }, message(2)), // no such device: a failure among packed answers
    store.touchDevice(ALICE, 9), // generic, between packed calls
    store.enqueue(lone, message(3)),
    store.enqueue(ALICE, { ...message(4), envelope: detachedEnvelope }),
    store.ack(ALICE, [detachedId]),
    store.ack(lone, [id16(3), id16(5)]),
    store.enqueue(ALICE, message(6)),
  ];
  for (const p of calls) p.catch(() => undefined); // checked one by one below, after the batch settled
  // Detached after the calls were checked, before the batch is sent: those two calls cannot be sent.
  for (const b of [detachedEnvelope.buffer, detachedId.buffer] as ArrayBuffer[]) structuredClone(b, { transfer: [b] });
  const [first, acked, again, duplicate, noDevice, touched, loneEnqueued, noEnvelope, noId, loneAcked, last] = calls;
  const r1 = (await first) as { seq: number; duplicate: boolean };
  assert.equal(r1.duplicate, false);
  assert.equal(await acked, 1);
  const r2 = (await again) as { seq: number; duplicate: boolean };
  assert.ok(r2.seq > r1.seq && !r2.duplicate);
  assert.deepEqual(await duplicate, { seq: r2.seq, duplicate: true });
  await rejectsWith(noDevice as Promise<unknown>, 'ERR_STORE_NOT_FOUND', 'an enqueue for an unknown device');
  assert.equal(await touched, undefined);
  assert.equal(((await loneEnqueued) as { duplicate: boolean }).duplicate, false);
  await rejectsWith(noEnvelope as Promise<unknown>, 'ERR_STORE_ARGUMENT', 'an envelope detached before sending');
  await rejectsWith(noId as Promise<unknown>, 'ERR_STORE_ARGUMENT', 'an ack id detached before sending');
  assert.equal(await loneAcked, 1);
  assert.ok(((await last) as { seq: number }).seq > r2.seq);
  assert.deepEqual(
    (await store.fetch(ALICE, { after: 0, limit: 10 })).map((m) => [m.id, m.envelope]),
    [1, 6].map((n) => [message(n).id, message(n).envelope]),
  );
  assert.deepEqual(await store.fetch(lone, { after: 0, limit: 10 }), []);
  assert.deepEqual((await store.listDevices('alice')).map((d) => d.lastSeenAt), [9]);
  await store.close();
});

for (const how of ['exit', 'throw'] as const)
test(`sqlite writer thread: a crash (${how}) fails every call in flight and every later call with ERR_STORE_BACKEND`, async () => {
  const path = freshPath();
  const store = await openWorkerStore(path);
  const neighbour = await openWorkerStore(freshPath()); // the same writer thread serves it
  await store.createAccount(account('alice', 1));
  // In the same batch: calls before the fault, the fault, a call after it. (A write the writer had
  // already committed when it died may still be in the file: a rejection with ERR_STORE_BACKEND
  // says that the call's outcome is unknown, as with any crash.)
  const inFlight = [store.enqueue(ALICE, message(1)), store.createAccount(account('bob', 2)), neighbour.createAccount(account('carol', 3))];
  store.injectWriterFault(how);
  inFlight.push(store.enqueue(ALICE, message(2)));
  for (const [i, p] of inFlight.entries()) await rejectsWith(p, 'ERR_STORE_BACKEND', `call ${i} in flight`);
  await rejectsWith(store.enqueue(ALICE, message(3)), 'ERR_STORE_BACKEND', 'a write after the crash');
  await rejectsWith(store.getAccount('alice'), 'ERR_STORE_BACKEND', 'a read after the crash');
  await rejectsWith(neighbour.fetch(ALICE, { after: 0, limit: 1 }), 'ERR_STORE_BACKEND', 'a read of the other store');
  await rejectsWith(store.enqueue(ALICE, { ...message(4), expiresAt: 0 }), 'ERR_STORE_ARGUMENT', 'argument checks still come first');
  await store.close();
  await neighbour.close();
  await rejectsWith(store.getAccount('alice'), 'ERR_STORE_CLOSED', 'a read after close');

  // The next store starts a new writer thread, and has what committed before the crash.
  const again = await openWorkerStore(path);
  assert.deepEqual((await again.getAccount('alice'))?.identityKey, identityKey(1));
  assert.equal((await again.enqueue(ALICE, message(5))).duplicate, false);
  assert.deepEqual((await again.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id).at(-1), id16(5));
  await again.close();
});

test('sqlite writer thread: close() lets every call made before it finish, then closes both connections', async () => {
  const path = freshPath();
  const store = await openWorkerStore(path);
  await store.createAccount(account('alice', 1));
  await store.enqueue(ALICE, message(0));
  // All in one turn, none awaited: a write of each kind, then close, then calls after it.
  const pending: Promise<unknown>[] = [
    store.createAccount(account('bob', 2)),
    store.enqueue(ALICE, message(1)),
    store.enqueue(ALICE, message(2)),
    store.storePrekeys(ALICE, { signedPrekey: { id: 1, record: new Uint8Array([1]) }, lastResortKemPrekey: { id: 2, record: new Uint8Array([2]) }, oneTime: { x25519: prekeys('x', [1]), kem: [] } }),
    store.takeBundleParts(ALICE),
    store.ack(ALICE, [id16(0)]),
    store.createAccount(account('alice', 9)), // taken: fails alone
  ];
  const closing = store.close();
  assert.equal(store.close(), closing, 'close is idempotent: the same promise');
  const late = [
    rejectsWith(store.enqueue(ALICE, message(3)), 'ERR_STORE_CLOSED', 'a write after close'),
    rejectsWith(store.fetch(ALICE, { after: 0, limit: 1 }), 'ERR_STORE_CLOSED', 'a read after close'),
  ];
  await closing;
  const results = await Promise.allSettled(pending);
  assert.deepEqual(results.slice(0, 6).map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  assert.equal((results[5] as PromiseFulfilledResult<number>).value, 1);
  assert.equal(results[6]?.status, 'rejected');
  await Promise.all(late);
  // The last connection to close checkpoints the WAL and removes it: neither is left open.
  assert.equal(existsSync(`${path}-wal`), false, 'both connections are closed');

  const reopened = await openWorkerStore(path);
  assert.notEqual(await reopened.getAccount('bob'), null);
  assert.deepEqual((await reopened.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id), [id16(1), id16(2)]);
  assert.deepEqual(await reopened.countOneTimePrekeys(ALICE), { x25519: 0, kem: 0 });
  await reopened.close();
});

test('sqlite writer thread: a call in flight keeps the process alive, an idle or closed store does not', { timeout: 30_000 }, async () => {
  const closedPath = freshPath();
  const openPath = freshPath();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('fixtures/writer-exit.ts', import.meta.url)), closedPath, openPath], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'enqueued\n');
  const s: Store = await openSqliteStore(openPath);
  assert.deepEqual((await s.fetch({ username: 'bob', deviceId: 1 }, { after: 0, limit: 10 })).map((m) => m.id), [new Uint8Array(16).fill(3)]);
  await s.close();
});

test("sqlite writer thread: ':memory:' is one connection's own database, so it gets the one-thread store", async () => {
  const store = await openSqliteStore(':memory:');
  assert.ok(store instanceof SqliteStore);
  await store.createAccount(account('alice', 1));
  assert.equal((await store.enqueue(ALICE, message(1))).duplicate, false);
  assert.equal((await store.fetch(ALICE, { after: 0, limit: 10 })).length, 1);
  await store.close();
});
