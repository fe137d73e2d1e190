// The SQLite store: the shared conformance suite against a real file in a fresh temporary directory
// per test, then what only a file-backed store has: its settings, schema migrations, crash safety and
// several connections to the same file. Both shapes run: what openSqliteStore returns (reads here,
// writes on the writer thread: sqlite-worker.ts; what is new about that is in sqlite-worker.test.ts)
// and the one-connection SqliteStore it is built from, whose group commit the writer thread runs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openSqliteStore, type BundleParts, type Store } from '@sotto/store';
import { openSqliteStoreWith, SqliteStore } from '../src/sqlite.ts';
import { SqliteWorkerStore } from '../src/sqlite-worker.ts';
import { bundledSqliteMigrations, migrate } from '../src/internal/sqlite-migrate.ts';
import { loadMigrations, type Migration } from '../src/internal/migrations.ts';
import { accessKeyHash, id16, identityKey, message, prekeys, rejectsWith, storeConformance } from './conformance.ts';

const root = mkdtempSync(join(tmpdir(), 'sotto-store-sqlite-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
/** A new empty directory under this file's temporary root. */
function freshDir(): string {
  const dir = join(root, String(++dirs));
  mkdirSync(dir);
  return dir;
}
const freshPath = (): string => join(freshDir(), 'sotto.db');

storeConformance('sqlite', () => openSqliteStore(freshPath()));
storeConformance('sqlite, one connection', () => Promise.resolve(openSqliteStoreWith(freshPath(), bundledSqliteMigrations())));

/** The two shapes of the SQLite store, for the tests of the group commit that both must pass. */
const shapes = [
  { name: 'sqlite', open: (path: string): Promise<Store> => openSqliteStore(path) },
  { name: 'sqlite, one connection', open: (path: string): Promise<Store> => Promise.resolve(openSqliteStoreWith(path, bundledSqliteMigrations())) },
] as const;

/** How many group commits the store's writing connection has made. */
async function groupCommits(store: Store): Promise<number> {
  if (store instanceof SqliteWorkerStore) return store.groupCommits();
  assert.ok(store instanceof SqliteStore);
  return store.groupCommits();
}

const ALICE = { username: 'alice', deviceId: 1 };
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function schemaVersions(path: string): { version: number; name: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT version, name FROM schema_version ORDER BY version').all() as { version: number; name: string }[];
  } finally {
    db.close();
  }
}

test('sqlite: every connection runs with WAL, synchronous=FULL, foreign keys and secure delete', async () => {
  const store = await openSqliteStore(freshPath());
  assert.ok(store instanceof SqliteWorkerStore);
  // synchronous: 2 = FULL (https://sqlite.org/pragma.html#pragma_synchronous)
  const expected = { journalMode: 'wal', synchronous: 2, foreignKeys: 1, secureDelete: 1 };
  assert.deepEqual(await store.settings(), { reader: expected, writer: expected });
  await store.close();
});

test('sqlite: a new file gets every bundled migration, recorded in schema_version', async () => {
  const path = freshPath();
  await (await openSqliteStore(path)).close();
  const bundled = bundledSqliteMigrations();
  assert.ok(bundled.length >= 1);
  assert.deepEqual(
    schemaVersions(path),
    bundled.map((m) => ({ version: m.version, name: m.name })),
  );
  assert.deepEqual(schemaVersions(path)[0], { version: 1, name: 'initial' });
  // opening again changes nothing
  await (await openSqliteStore(path)).close();
  assert.equal(schemaVersions(path).length, bundled.length);
});

test('sqlite: opening an older file runs the missing migrations and keeps the data', async () => {
  const path = freshPath();
  const v1 = bundledSqliteMigrations();
  const extra: Migration = { version: v1.length + 1, name: 'test-extra', sql: 'CREATE TABLE test_extra (x INTEGER NOT NULL) STRICT;' };
  const old = openSqliteStoreWith(path, v1);
  await old.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await old.enqueue(ALICE, message(1));
  await old.close();

  const upgraded = openSqliteStoreWith(path, [...v1, extra]);
  assert.deepEqual((await upgraded.getAccount('alice'))?.identityKey, identityKey(1));
  assert.equal((await upgraded.fetch(ALICE, { after: 0, limit: 10 })).length, 1);
  await upgraded.close();
  assert.deepEqual(schemaVersions(path).at(-1), { version: v1.length + 1, name: 'test-extra' });
  const db = new Database(path, { readonly: true });
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM test_extra').get(), { n: 0 });
  db.close();
});

test('sqlite: migration 2 gives version-1 accounts the all-zero access-key hash, and new accounts need one', async () => {
  const path = freshPath();
  const [initial] = bundledSqliteMigrations();
  assert.ok(initial !== undefined);
  // A version-1 file, written the way version 1 of the store wrote it.
  const db = new Database(path);
  migrate(db, [initial]);
  db.prepare('INSERT INTO accounts (username, identity_key, created_at) VALUES (?, ?, ?)').run('old', Buffer.from(identityKey(1)), 5);
  db.close();
  const upgraded = await openSqliteStore(path);
  assert.deepEqual(await upgraded.getAccount('old'), { username: 'old', identityKey: identityKey(1), accessKeyHash: new Uint8Array(32), createdAt: 5 });
  await upgraded.createAccount({ username: 'new', identityKey: identityKey(2), accessKeyHash: accessKeyHash(2), createdAt: 6, firstDeviceId: 1 });
  assert.deepEqual((await upgraded.getAccount('new'))?.accessKeyHash, accessKeyHash(2));
  await upgraded.close();
  assert.deepEqual(schemaVersions(path)[1], { version: 2, name: 'access-key-hash' });
  const raw = new Database(path);
  assert.throws(() => raw.prepare('INSERT INTO accounts (username, identity_key, access_key_hash, created_at) VALUES (?, ?, ?, ?)').run('bad', Buffer.from(identityKey(3)), Buffer.alloc(31), 1), /CHECK/);
  raw.close();
});

test('sqlite: a migration that fails leaves the file at its old version, still usable', async () => {
  const path = freshPath();
  const v1 = bundledSqliteMigrations();
  const s = openSqliteStoreWith(path, v1);
  await s.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await s.close();
  const broken: Migration[] = [
    { version: v1.length + 1, name: 'creates-a-table', sql: 'CREATE TABLE half_done (x INTEGER) STRICT;' },
    { version: v1.length + 2, name: 'broken', sql: 'ALTER TABLE no_such_table ADD COLUMN y INTEGER;' },
  ];
  assert.throws(
    () => openSqliteStoreWith(path, [...v1, ...broken]),
    (e: unknown) => e instanceof Error && 'code' in e && e.code === 'ERR_STORE_BACKEND',
  );
  assert.equal(schemaVersions(path).length, v1.length);
  const db = new Database(path, { readonly: true });
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get(), undefined, 'the first script was rolled back too');
  db.close();
  const again = await openSqliteStore(path);
  assert.equal((await again.getAccount('alice'))?.createdAt, 1);
  await again.close();
});

test('sqlite: a file from a newer version is refused with ERR_STORE_SCHEMA_TOO_NEW and left untouched', async () => {
  const path = freshPath();
  await (await openSqliteStore(path)).close();
  const newest = bundledSqliteMigrations().length;
  const db = new Database(path);
  db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)').run(newest + 1, 'from-the-future');
  db.close();
  await rejectsWith(openSqliteStore(path), 'ERR_STORE_SCHEMA_TOO_NEW', 'newer file');
  assert.equal(schemaVersions(path).length, newest + 1);
});

test('sqlite: a schema_version that does not match the migrations is ERR_STORE_SCHEMA_INVALID', async () => {
  const path = freshPath();
  await (await openSqliteStore(path)).close();
  const db = new Database(path);
  db.prepare('UPDATE schema_version SET name = ? WHERE version = 1').run('something-else');
  db.close();
  await rejectsWith(openSqliteStore(path), 'ERR_STORE_SCHEMA_INVALID', 'renamed migration');
});

test('sqlite: a file that is not a SQLite database is ERR_STORE_BACKEND', async () => {
  const path = freshPath();
  writeFileSync(path, 'this is not a database, just text that is long enough to fill a header '.repeat(20));
  await rejectsWith(openSqliteStore(path), 'ERR_STORE_BACKEND', 'text file');
  await rejectsWith(openSqliteStore(join(freshDir(), 'missing-dir', 'x.db')), 'ERR_STORE_BACKEND', 'missing directory');
});

test('sqlite: migration files must be NNNN-name.sql numbered 1..n without gaps', () => {
  const dir = freshDir();
  const url = (d: string): URL => new URL(`file://${d}/`);
  assert.throws(() => loadMigrations(url(dir)), /ERR_STORE_SCHEMA_INVALID/, 'empty directory');
  writeFileSync(join(dir, '0001-first.sql'), 'SELECT 1;');
  assert.equal(loadMigrations(url(dir)).length, 1);
  writeFileSync(join(dir, '0003-third.sql'), 'SELECT 1;');
  assert.throws(() => loadMigrations(url(dir)), /ERR_STORE_SCHEMA_INVALID: migration 0003-third.sql: expected version 2, got 3/);
  rmSync(join(dir, '0003-third.sql'));
  writeFileSync(join(dir, 'notes.txt'), '');
  assert.throws(() => loadMigrations(url(dir)), /ERR_STORE_SCHEMA_INVALID: migration file name/);
});

test('sqlite: seqs are never reused, even after the queue was emptied and the file reopened', async () => {
  const path = freshPath();
  const a = await openSqliteStore(path);
  await a.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const first = await a.enqueue(ALICE, message(1));
  await a.ack(ALICE, [id16(1)]);
  await a.close();
  const b = await openSqliteStore(path);
  const second = await b.enqueue(ALICE, message(2));
  assert.ok(second.seq > first.seq, `${second.seq} > ${first.seq}`);
  await b.close();
});

test('sqlite: secure delete: an acknowledged envelope is not left in the file', async () => {
  const path = freshPath();
  const s = await openSqliteStore(path);
  await s.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const marker = 'MARKER-that-must-vanish-'.repeat(8);
  await s.enqueue(ALICE, { ...message(1), envelope: new TextEncoder().encode(marker) });
  await s.ack(ALICE, [id16(1)]);
  await s.close(); // checkpoints the WAL into the file and removes it
  assert.equal(existsSync(`${path}-wal`), false);
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(path).includes(Buffer.from(marker)), false);
});

for (const mode of ['sequential', 'concurrent'] as const)
test(`sqlite: killed with SIGKILL after writes resolved (${mode} enqueues), the reopened file has every write`, async () => {
  const path = freshPath();
  const COUNT = 200;
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('fixtures/crash-writer.ts', import.meta.url)), path, String(COUNT), mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => {
      reject(new Error(`crash-writer exited early with ${String(code)}: ${stderr}`));
    });
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  assert.equal(await exited, null); // killed by the signal: no exit code
  assert.ok(statSync(`${path}-wal`).size > 0, 'the writes are still in the WAL: no clean shutdown happened');

  const s = await openSqliteStore(path);
  const got = await s.fetch(ALICE, { after: 0, limit: 1000 });
  assert.equal(got.length, COUNT);
  got.forEach((m, n) => {
    assert.deepEqual(m.id, id16(n));
    assert.deepEqual(m.envelope, new TextEncoder().encode(`envelope-${n}`));
  });
  assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 0, kem: 1 });
  assert.equal((await s.getAttachment(new Uint8Array(16).fill(7)))?.size, 100_000);
  await s.close();
});

test('sqlite: two connections to one file see each other and never take the same one-time key', async () => {
  const path = freshPath();
  const WORKERS = 4;
  const CALLS = 250;
  const X = 900;
  const K = 700;
  const setup = await openSqliteStore(path);
  await setup.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await setup.setSignedPrekey(ALICE, { id: 1, record: new Uint8Array([1]) });
  await setup.setLastResortKemPrekey(ALICE, { id: 9999, record: new Uint8Array([2]) });
  await setup.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', Array.from({ length: X }, (_, i) => i)));
  await setup.addOneTimePrekeys(ALICE, 'kem', prekeys('k', Array.from({ length: K }, (_, i) => i)));

  // two connections in this thread: a write on one is visible on the other at once
  const other = await openSqliteStore(path);
  await setup.enqueue(ALICE, message(1));
  assert.equal((await other.fetch(ALICE, { after: 0, limit: 10 })).length, 1);
  assert.equal(await other.ack(ALICE, [id16(1)]), 1);
  assert.deepEqual(await setup.fetch(ALICE, { after: 0, limit: 10 }), []);
  await other.close();

  // WORKERS threads, one connection each, all released at the same moment
  const start = new SharedArrayBuffer(4);
  const workers = Array.from({ length: WORKERS }, () => new Worker(new URL('fixtures/ts-worker.mjs', import.meta.url), { workerData: { script: new URL('fixtures/take-bundles-worker.ts', import.meta.url).href, path, calls: CALLS, start } }));
  const results = workers.map(
    (w) =>
      new Promise<BundleParts[]>((resolve, reject) => {
        w.once('message', (m: BundleParts[]) => {
          resolve(m);
        });
        w.once('error', reject);
      }),
  );
  await new Promise((r) => setTimeout(r, 200)); // let every worker open its connection and wait on the flag
  const flag = new Int32Array(start);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const bundles = (await Promise.all(results)).flat();
  assert.equal(bundles.length, WORKERS * CALLS);
  const xs = bundles.flatMap((b) => (b.oneTimePrekey === null ? [] : [b.oneTimePrekey.id]));
  const ks = bundles.filter((b) => !b.kemPrekeyIsLastResort).map((b) => b.kemPrekey.id);
  assert.equal(new Set(xs).size, xs.length, 'an X25519 one-time key was handed out twice');
  assert.equal(new Set(ks).size, ks.length, 'a KEM one-time key was handed out twice');
  assert.equal(xs.length, X);
  assert.equal(ks.length, K);
  assert.equal(bundles.filter((b) => b.kemPrekeyIsLastResort).length, WORKERS * CALLS - K);
  assert.deepEqual(await setup.countOneTimePrekeys(ALICE), { x25519: 0, kem: 0 });
  await setup.close();
});

for (const shape of shapes) {
test(`${shape.name}: group commit: 200 concurrent enqueues, duplicates, acks and an unknown device share one commit, each with its own result`, async () => {
  const store = await shape.open(freshPath());
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await store.createAccount({ username: 'bob', identityKey: identityKey(2), accessKeyHash: accessKeyHash(2), createdAt: 1, firstDeviceId: 1 });
  const BOB = { username: 'bob', deviceId: 1 };
  const N = 200;
  const commitsBefore = await groupCommits(store);
  // All issued in one event-loop turn, in this order.
  const fresh = Array.from({ length: N }, (_, n) => store.enqueue(ALICE, message(n)));
  const dupSame = store.enqueue(ALICE, message(7)); // duplicate within the batch
  const dupOther = store.enqueue(ALICE, { ...message(9), envelope: new Uint8Array([0xee]) }); // first envelope stands
  const unknown = store.enqueue({ username: 'nobody', deviceId: 1 }, message(N + 1));
  const unknownDevice = store.enqueue({ username: 'alice', deviceId: 9 }, message(N + 2));
  const toBob = store.enqueue(BOB, message(3)); // same id, other device: not a duplicate
  const ackAlice = store.ack(ALICE, [id16(11), id16(12), id16(N + 50)]);
  const ackBobWrongDevice = store.ack(BOB, [id16(13)]); // alice's message: bob cannot delete it
  const again = store.enqueue(ALICE, message(11)); // acked earlier in the batch: a new message
  const after = store.enqueue(ALICE, message(N));

  const results = await Promise.all(fresh);
  await rejectsWith(unknown, 'ERR_STORE_NOT_FOUND', 'unknown account');
  await rejectsWith(unknownDevice, 'ERR_STORE_NOT_FOUND', 'unknown device');
  assert.equal(await groupCommits(store), commitsBefore + 1, 'the whole burst is one commit');

  results.forEach((r, n) => {
    assert.equal(r.duplicate, false);
    if (n > 0) assert.equal(r.seq, (results[n - 1]?.seq ?? 0) + 1, 'seq order = arrival order');
  });
  const seqOf = (n: number): number => results[n]?.seq ?? -1;
  assert.deepEqual(await dupSame, { seq: seqOf(7), duplicate: true });
  assert.deepEqual(await dupOther, { seq: seqOf(9), duplicate: true });
  const bob = await toBob;
  assert.equal(bob.duplicate, false);
  assert.equal(await ackAlice, 2);
  assert.equal(await ackBobWrongDevice, 0);
  const againR = await again;
  const afterR = await after;
  assert.equal(againR.duplicate, false);
  assert.ok(againR.seq > bob.seq && afterR.seq === againR.seq + 1, 'later calls in the batch get later seqs');

  const queue = await store.fetch(ALICE, { after: 0, limit: 1000 });
  const expected = [...Array.from({ length: N }, (_, n) => n).filter((n) => n !== 11 && n !== 12), 11, N];
  assert.deepEqual(
    queue.map((m) => m.id),
    expected.map(id16),
  );
  assert.deepEqual(queue.find((m) => m.seq === seqOf(9))?.envelope, message(9).envelope);
  assert.deepEqual((await store.fetch(BOB, { after: 0, limit: 10 })).map((m) => m.id), [id16(3)]);
  await store.close();
});

test(`${shape.name}: group commit: calls made before close() still commit; calls after it reject`, async () => {
  const path = freshPath();
  const store = await shape.open(path);
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const pending = [store.enqueue(ALICE, message(1)), store.enqueue(ALICE, message(2))];
  await store.close();
  assert.deepEqual((await Promise.all(pending)).map((r) => r.duplicate), [false, false]);
  await rejectsWith(store.enqueue(ALICE, message(3)), 'ERR_STORE_CLOSED', 'enqueue after close');
  const reopened = await openSqliteStore(path);
  assert.deepEqual((await reopened.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id), [id16(1), id16(2)]);
  await reopened.close();
});

test(`${shape.name}: group commit: a write made after un-awaited enqueues commits after them; reads see only committed calls`, async () => {
  const store = await shape.open(freshPath());
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const enq = store.enqueue(ALICE, message(1));
  const before = await store.fetch(ALICE, { after: 0, limit: 10 }); // the enqueue has not resolved yet
  assert.deepEqual(before, []);
  const enq2 = store.enqueue({ username: 'alice', deviceId: 2 }, message(2));
  await store.addDevice({ username: 'alice', deviceId: 2 }, 5); // a write: the queued calls go first
  await rejectsWith(enq2, 'ERR_STORE_NOT_FOUND', 'enqueued before the device existed');
  assert.equal((await enq).duplicate, false);
  assert.deepEqual((await store.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id), [id16(1)]);
  await store.close();
});
}
