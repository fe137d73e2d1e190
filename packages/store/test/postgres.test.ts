// The PostgreSQL store against a real server (test/fixtures/postgres-cluster.ts starts a throw-away
// one on 127.0.0.1 and removes it in the after hook): the shared conformance suite with a fresh
// database per store, then what only a shared database server has: schema migrations (also several
// processes upgrading at once), two pools racing for one-time keys, and the queue's commit order
// under concurrent enqueues.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgresStore, type BundleParts, type Store } from '@sotto/store';
import { openPostgresStoreWith, PostgresStore } from '../src/postgres.ts';
import { bundledPostgresMigrations } from '../src/internal/pg-migrate.ts';
import type { Migration } from '../src/internal/migrations.ts';
import { accessKeyHash, id16, identityKey, message, prekeys, rejectsWith, storeConformance } from './conformance.ts';
import { startPostgresCluster } from './fixtures/postgres-cluster.ts';
import { queueModelTest } from './queue-model.ts';

const cluster = await startPostgresCluster();
after(() => cluster.stop());

/** The pool settings of a new empty database. */
async function freshDatabase(extra?: pg.PoolConfig): Promise<pg.PoolConfig> {
  return cluster.config(await cluster.createDatabase(), extra);
}

storeConformance('postgres', async () => openPostgresStore(await freshDatabase()));

const ALICE = { username: 'alice', deviceId: 1 };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function schemaVersions(config: pg.PoolConfig): Promise<{ version: number; name: string }[]> {
  const rows = await cluster.sql<{ version: string; name: string }>('SELECT version, name FROM schema_version ORDER BY version', [], config.database);
  return rows.map((r) => ({ version: Number(r.version), name: r.name }));
}

test('postgres: a URL works as well as a PoolConfig', async () => {
  const config = await freshDatabase();
  const store = await openPostgresStore(`postgres://postgres@127.0.0.1:${cluster.port}/${config.database ?? ''}`);
  assert.ok(store instanceof PostgresStore);
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await store.close();
});

test('postgres: a schema of its own through pg options (search_path)', async () => {
  const config = await freshDatabase();
  await cluster.sql('CREATE SCHEMA sotto', [], config.database);
  const store = await openPostgresStore({ ...config, options: '-c search_path=sotto' });
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await store.close();
  assert.deepEqual(
    await cluster.sql("SELECT to_regclass('sotto.accounts') IS NOT NULL AS here, to_regclass('public.accounts') IS NULL AS not_there, (SELECT count(*)::int FROM sotto.accounts) AS n", [], config.database),
    [{ here: true, not_there: true, n: 1 }],
  );
});

test('postgres: a pool hook of the caller (onConnect) still runs on every connection, and the store\'s planner settings after it', async () => {
  const config = await freshDatabase();
  const hooked: pg.ClientBase[] = [];
  const store = await openPostgresStore({
    ...config,
    // pg-pool awaits the hook (see postgres.ts); @types/pg declares its result void
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    onConnect: async (client) => {
      hooked.push(client);
      await client.query('SET enable_seqscan = on'); // the store's settings come after, and win
    },
  });
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  assert.ok(hooked.length >= 1, 'the caller\'s hook ran');
  for (const client of hooked) {
    // an idle connection of the pool, asked directly (nothing else uses it meanwhile)
    const { rows } = await client.query<{ seq: string; hash: string; merge: string }>(
      "SELECT current_setting('enable_seqscan') AS seq, current_setting('enable_hashjoin') AS hash, current_setting('enable_mergejoin') AS merge",
    );
    assert.deepEqual(rows, [{ seq: 'off', hash: 'off', merge: 'off' }]);
  }
  await store.close();
  // a connection whose setup fails is not used: the store does not open
  await rejectsWith(
    openPostgresStore({
      ...config,
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect: async () => {
        await Promise.reject(new Error('setup refused'));
      },
    }),
    'ERR_STORE_BACKEND',
    'a failing onConnect',
  );
});

test('postgres: a new database gets every bundled migration, recorded in schema_version', async () => {
  const config = await freshDatabase();
  await (await openPostgresStore(config)).close();
  const bundled = bundledPostgresMigrations();
  assert.deepEqual(
    await schemaVersions(config),
    bundled.map((m) => ({ version: m.version, name: m.name })),
  );
  assert.deepEqual((await schemaVersions(config))[0], { version: 1, name: 'initial' });
  await (await openPostgresStore(config)).close(); // opening again changes nothing
  assert.equal((await schemaVersions(config)).length, bundled.length);
});

test('postgres: the SQLite and PostgreSQL migrations have the same versions and names', async () => {
  const { bundledSqliteMigrations } = await import('../src/internal/sqlite-migrate.ts');
  const names = (ms: readonly Migration[]): string[] => ms.map((m) => `${m.version}-${m.name}`);
  assert.deepEqual(names(bundledPostgresMigrations()), names(bundledSqliteMigrations()));
});

test('postgres: several processes opening one new database at once upgrade it once', async () => {
  const config = await freshDatabase();
  // eight pools (their own connections, as eight server processes would have) race for the upgrade
  const stores = await Promise.all(range(8).map(() => openPostgresStore(config)));
  assert.equal((await schemaVersions(config)).length, bundledPostgresMigrations().length);
  await stores[0]?.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  assert.equal((await stores[7]?.getAccount('alice'))?.createdAt, 1);
  await Promise.all(stores.map((s) => s.close()));
});

test('postgres: opening an older database runs the missing migrations and keeps the data', async () => {
  const config = await freshDatabase();
  const v1 = bundledPostgresMigrations();
  const old = await openPostgresStoreWith(config, v1);
  await old.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await old.enqueue(ALICE, message(1));
  await old.close();

  const extra: Migration = { version: v1.length + 1, name: 'test-extra', sql: 'CREATE TABLE test_extra (x bigint NOT NULL);' };
  const upgraded = await openPostgresStoreWith(config, [...v1, extra]);
  assert.deepEqual((await upgraded.getAccount('alice'))?.identityKey, identityKey(1));
  assert.equal((await upgraded.fetch(ALICE, { after: 0, limit: 10 })).length, 1);
  await upgraded.close();
  assert.deepEqual((await schemaVersions(config)).at(-1), { version: v1.length + 1, name: 'test-extra' });
  assert.deepEqual(await cluster.sql('SELECT count(*)::int AS n FROM test_extra', [], config.database), [{ n: 0 }]);
});

test('postgres: migration 2 gives version-1 accounts the all-zero access-key hash, and new accounts need one', async () => {
  const config = await freshDatabase();
  const [initial] = bundledPostgresMigrations();
  assert.ok(initial !== undefined);
  await (await openPostgresStoreWith(config, [initial])).close();
  await cluster.sql('INSERT INTO accounts (username, identity_key, created_at) VALUES ($1, $2, $3)', ['old', Buffer.from(identityKey(1)), 5], config.database);
  const upgraded = await openPostgresStore(config);
  assert.deepEqual(await upgraded.getAccount('old'), { username: 'old', identityKey: identityKey(1), accessKeyHash: new Uint8Array(32), createdAt: 5 });
  await upgraded.createAccount({ username: 'new', identityKey: identityKey(2), accessKeyHash: accessKeyHash(2), createdAt: 6, firstDeviceId: 1 });
  assert.deepEqual((await upgraded.getAccount('new'))?.accessKeyHash, accessKeyHash(2));
  await upgraded.close();
  assert.deepEqual((await schemaVersions(config))[1], { version: 2, name: 'access-key-hash' });
  // The default is gone after the migration: a row without a hash, or with a short one, is refused.
  await assert.rejects(cluster.sql('INSERT INTO accounts (username, identity_key, created_at) VALUES ($1, $2, $3)', ['bad', Buffer.from(identityKey(3)), 1], config.database), /null value/);
  await assert.rejects(cluster.sql('INSERT INTO accounts (username, identity_key, access_key_hash, created_at) VALUES ($1, $2, $3, $4)', ['bad', Buffer.from(identityKey(3)), Buffer.alloc(31), 1], config.database), /check constraint/);
});

test('postgres: a migration that fails leaves the database at its old version, still usable', async () => {
  const config = await freshDatabase();
  const v1 = bundledPostgresMigrations();
  const s = await openPostgresStoreWith(config, v1);
  await s.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await s.close();
  const broken: Migration[] = [
    { version: v1.length + 1, name: 'creates-a-table', sql: 'CREATE TABLE half_done (x bigint);' },
    { version: v1.length + 2, name: 'broken', sql: 'ALTER TABLE no_such_table ADD COLUMN y bigint;' },
  ];
  await rejectsWith(openPostgresStoreWith(config, [...v1, ...broken]), 'ERR_STORE_BACKEND', 'broken migration');
  assert.equal((await schemaVersions(config)).length, v1.length);
  assert.deepEqual(await cluster.sql("SELECT to_regclass('half_done') IS NULL AS gone", [], config.database), [{ gone: true }], 'the first script was rolled back too');
  const again = await openPostgresStore(config);
  assert.equal((await again.getAccount('alice'))?.createdAt, 1);
  await again.close();
});

test('postgres: a database from a newer version is refused with ERR_STORE_SCHEMA_TOO_NEW and left untouched', async () => {
  const config = await freshDatabase();
  await (await openPostgresStore(config)).close();
  const newest = bundledPostgresMigrations().length;
  await cluster.sql('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [newest + 1, 'from-the-future'], config.database);
  await rejectsWith(openPostgresStore(config), 'ERR_STORE_SCHEMA_TOO_NEW', 'newer database');
  assert.equal((await schemaVersions(config)).length, newest + 1);
});

test('postgres: a schema_version that does not match the migrations is ERR_STORE_SCHEMA_INVALID', async () => {
  const config = await freshDatabase();
  await (await openPostgresStore(config)).close();
  await cluster.sql("UPDATE schema_version SET name = 'something-else' WHERE version = 1", [], config.database);
  await rejectsWith(openPostgresStore(config), 'ERR_STORE_SCHEMA_INVALID', 'renamed migration');
});

test('postgres: an unreachable server or a missing database is ERR_STORE_BACKEND, with the driver error as cause', async () => {
  await rejectsWith(openPostgresStore(cluster.config('no_such_database')), 'ERR_STORE_BACKEND', 'missing database');
  const closedPort = cluster.config('postgres', { port: 1, connectionTimeoutMillis: 2000 });
  await assert.rejects(openPostgresStore(closedPort), (e: unknown) => {
    assert.ok(e instanceof Error && 'code' in e && e.code === 'ERR_STORE_BACKEND');
    assert.ok(e.cause instanceof Error, 'the driver error is kept as cause');
    return true;
  });
});

test('postgres: the schema rejects what the code must never write (CHECK constraints)', async () => {
  const config = await freshDatabase();
  await (await openPostgresStore(config)).close();
  const bad = [
    "INSERT INTO accounts (username, identity_key, created_at, access_key_hash) VALUES ('a', '\\x00'::bytea, 1, decode(repeat('00', 32), 'hex'))", // identity key of 1 byte
    "INSERT INTO accounts (username, identity_key, created_at, access_key_hash) VALUES ('a', decode(repeat('00', 32), 'hex'), 1, decode(repeat('00', 31), 'hex'))", // access-key hash of 31 bytes
    "INSERT INTO accounts (username, identity_key, created_at, access_key_hash) VALUES ('a', decode(repeat('00', 32), 'hex'), 1, decode(repeat('00', 32), 'hex')); INSERT INTO devices VALUES ('a', 4294967296, 1, 1)",
    "INSERT INTO attachments VALUES (decode(repeat('00', 16), 'hex'), '\\x0102'::bytea, 3, 1)", // wrong size
  ];
  for (const sql of bad) await assert.rejects(cluster.sql(sql, [], config.database), /violates check constraint/);
});

test('postgres: seqs are never reused, even after the queue was emptied and the store reopened', async () => {
  const config = await freshDatabase();
  const a = await openPostgresStore(config);
  await a.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const first = await a.enqueue(ALICE, message(1));
  await a.ack(ALICE, [id16(1)]);
  await a.close();
  const b = await openPostgresStore(config);
  const second = await b.enqueue(ALICE, message(2));
  assert.ok(second.seq > first.seq, `${second.seq} > ${first.seq}`);
  await b.close();
});

test('postgres: two pools of several connections take 1,000 bundles and never the same one-time key', async () => {
  const config = await freshDatabase();
  const X = 900;
  const K = 700;
  const CALLS = 500; // per pool
  const [a, b] = await Promise.all([openPostgresStore({ ...config, max: 5 }), openPostgresStore({ ...config, max: 5 })]);
  await a.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await a.setSignedPrekey(ALICE, { id: 1, record: new Uint8Array([1]) });
  await a.setLastResortKemPrekey(ALICE, { id: 9999, record: new Uint8Array([2]) });
  await a.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', range(X)));
  await b.addOneTimePrekeys(ALICE, 'kem', prekeys('k', range(K)));
  const takeAll = (s: Store): Promise<BundleParts[]> => Promise.all(range(CALLS).map(() => s.takeBundleParts(ALICE)));
  const bundles = (await Promise.all([takeAll(a), takeAll(b)])).flat();
  assert.equal(bundles.length, 2 * CALLS);
  const xs = bundles.flatMap((bp) => (bp.oneTimePrekey === null ? [] : [bp.oneTimePrekey.id]));
  const ks = bundles.filter((bp) => !bp.kemPrekeyIsLastResort).map((bp) => bp.kemPrekey.id);
  assert.equal(new Set(xs).size, xs.length, 'an X25519 one-time key was handed out twice');
  assert.equal(new Set(ks).size, ks.length, 'a KEM one-time key was handed out twice');
  assert.equal(xs.length, X, 'every X25519 one-time key was handed out');
  assert.equal(ks.length, K, 'every KEM one-time key was handed out');
  assert.equal(bundles.filter((bp) => bp.kemPrekeyIsLastResort && bp.kemPrekey.id === 9999).length, 2 * CALLS - K);
  assert.deepEqual(await b.countOneTimePrekeys(ALICE), { x25519: 0, kem: 0 });
  await Promise.all([a.close(), b.close()]);
});

/** Polls until `ready` resolves true (each poll is a query; bounded so a bug fails instead of hanging). */
async function until(what: string, ready: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('postgres: an enqueue waits for an earlier enqueue to the same device to commit, so no reader sees seq n+1 before n', async () => {
  const config = await freshDatabase();
  const db = config.database ?? '';
  const store = await openPostgresStore({ ...config, max: 4 });
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await store.createAccount({ username: 'bob', identityKey: identityKey(2), accessKeyHash: accessKeyHash(2), createdAt: 1, firstDeviceId: 1 });
  // A test-only trigger stalls the insert of an envelope reading 'hold' (after its seq was taken, before
  // its commit) for as long as the test holds advisory lock 4242: an enqueue caught mid-transaction.
  await cluster.sql(
    'CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ' +
      "IF NEW.envelope = convert_to('hold', 'UTF8') THEN PERFORM pg_advisory_xact_lock(4242); END IF; RETURN NEW; END $$; " +
      'CREATE TRIGGER test_hold AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION test_hold();',
    [],
    db,
  );
  const holder = new pg.Client(config);
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock(4242)');
  const waiting = async (event: string): Promise<number> =>
    Number(
      (await cluster.sql<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event = $2", [db, event]))[0]
        ?.n,
    );

  const hold = new TextEncoder().encode('hold');
  const first = store.enqueue(ALICE, { ...message(1), envelope: hold });
  await until('the first enqueue to stall with its seq taken', async () => (await waiting('advisory')) === 1);
  // The second enqueue comes from another store (another server process): within one store the
  // enqueues of a device already wait for each other before reaching the database.
  const other = await openPostgresStore({ ...config, max: 4 });
  let secondDone = false;
  const second = other.enqueue(ALICE, message(2)).then((r) => {
    secondDone = true;
    return r;
  });
  // Another device's queue is not held up.
  assert.equal((await store.enqueue({ username: 'bob', deviceId: 1 }, message(3))).duplicate, false);
  // The second enqueue to alice waits for the first one's row lock on alice's device (a 'tuple' or
  // 'transactionid' lock wait) instead of committing a larger seq first.
  await until('the second enqueue to wait for the first', async () => secondDone || (await waiting('tuple')) + (await waiting('transactionid')) === 1);
  assert.equal(secondDone, false, 'the second enqueue committed while the first was still open');
  assert.deepEqual(await store.fetch(ALICE, { after: 0, limit: 10 }), [], 'a reader sees neither message yet');

  await holder.query('SELECT pg_advisory_unlock(4242)');
  const [r1, r2] = await Promise.all([first, second]);
  assert.ok(r2.seq > r1.seq, `${r2.seq} > ${r1.seq}`);
  assert.deepEqual(
    (await store.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id),
    [id16(1), id16(2)],
  );
  await holder.end();
  await Promise.all([store.close(), other.close()]);
});

test('postgres: group commit: a burst of enqueues to many devices, duplicates, unknown devices and acks is one enqueue and one ack statement, each call with its own result', async () => {
  const store = await openPostgresStore(await freshDatabase());
  assert.ok(store instanceof PostgresStore);
  const DEVICES = 20;
  const device = (d: number): { username: string; deviceId: number } => ({ username: `user${d}`, deviceId: 1 });
  for (const d of range(DEVICES)) await store.createAccount({ username: device(d).username, identityKey: identityKey(d + 1), accessKeyHash: accessKeyHash(d + 1), createdAt: 1, firstDeviceId: 1 });
  await store.enqueue(device(0), message(1000)); // held before the burst: the burst's ack deletes it
  const before = store.groupCommits();
  // All issued in one event-loop turn: 200 enqueues round-robin over the devices, then the rest.
  const fresh = range(200).map((n) => store.enqueue(device(n % DEVICES), message(n)));
  const dupSame = store.enqueue(device(7), message(7)); // a duplicate within the burst
  const dupOther = store.enqueue(device(9), { ...message(9), envelope: new Uint8Array([0xee]) }); // first envelope stands
  const otherDevice = store.enqueue(device(3), message(7)); // same id, another device: a new message
  const unknown = store.enqueue({ username: 'nobody', deviceId: 1 }, message(201));
  const unknownDevice = store.enqueue({ username: 'user1', deviceId: 9 }, message(202));
  const acked = store.ack(device(0), [id16(1000), id16(4242)]);
  const ackedTwice = store.ack(device(0), [id16(1000)]); // the same row, named by two calls of one batch
  const notMine = store.ack(device(1), [id16(0)]); // user0's message

  const results = await Promise.all(fresh);
  await rejectsWith(unknown, 'ERR_STORE_NOT_FOUND', 'unknown account');
  await rejectsWith(unknownDevice, 'ERR_STORE_NOT_FOUND', 'unknown device');
  assert.deepEqual(await dupSame, { seq: results[7]?.seq, duplicate: true });
  assert.deepEqual(await dupOther, { seq: results[9]?.seq, duplicate: true });
  assert.equal((await otherDevice).duplicate, false);
  assert.equal((await acked) + (await ackedTwice), 1, 'one row deleted, counted once');
  assert.equal(await notMine, 0);
  const after = store.groupCommits();
  assert.deepEqual({ enqueue: after.enqueue - before.enqueue, ack: after.ack - before.ack }, { enqueue: 1, ack: 1 }, 'the burst shares one statement of each kind');

  results.forEach((r, n) => {
    assert.equal(r.duplicate, false);
    if (n > 0) assert.ok(r.seq > (results[n - 1]?.seq ?? 0), 'seqs follow the calls');
  });
  for (const d of range(DEVICES)) {
    const queue = await store.fetch(device(d), { after: 0, limit: 1000 });
    const expected = range(200).filter((n) => n % DEVICES === d);
    if (d === 3) expected.push(7);
    assert.deepEqual(
      queue.map((m) => m.id),
      expected.map(id16),
      `queue of ${device(d).username}`,
    );
  }
  assert.deepEqual((await store.fetch(device(9), { after: 0, limit: 1 }))[0]?.envelope, message(9).envelope);
  await store.close();
});

test('postgres: two stores enqueueing bursts to the same devices in opposite orders never deadlock, and every queue keeps its order', async () => {
  const config = await freshDatabase();
  const db = config.database ?? '';
  const [a, b] = await Promise.all([openPostgresStore({ ...config, max: 4 }), openPostgresStore({ ...config, max: 4 })]);
  const DEVICES = 12;
  const device = (d: number): { username: string; deviceId: number } => ({ username: `user${String(d).padStart(2, '0')}`, deviceId: 1 });
  for (const d of range(DEVICES)) await a.createAccount({ username: device(d).username, identityKey: identityKey(d + 1), accessKeyHash: accessKeyHash(d + 1), createdAt: 1, firstDeviceId: 1 });
  // A third connection holds a device in the middle while both stores issue one burst (one batch)
  // naming every device, a in ascending order and b in descending order. Had each batch locked in its
  // own call order, a would now hold the devices below the held one and b those above, and once it
  // is let go each would wait for the other: a deadlock, which PostgreSQL ends by aborting one
  // statement (ERR_STORE_BACKEND). Locked in (username, device_id) order, b waits for a's first device.
  const holder = new pg.Client(config);
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM devices WHERE username = $1 FOR NO KEY UPDATE', [device(DEVICES / 2).username]);
  const calls: Promise<unknown>[] = [];
  for (const d of range(DEVICES)) calls.push(a.enqueue(device(d), message(d)));
  for (const d of range(DEVICES).reverse()) calls.push(b.enqueue(device(d), message(500 + d)));
  const lockWaits = async (): Promise<number> =>
    Number((await cluster.sql<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [db]))[0]?.n);
  await until('both batches to wait for a lock', async () => (await lockWaits()) === 2);
  await holder.query('COMMIT');
  // More bursts from both, unheld, as the stalled ones finish.
  for (const round of range(5)) {
    for (const d of range(DEVICES)) calls.push(a.enqueue(device(d), message((round + 1) * 1000 + d)));
    for (const d of range(DEVICES).reverse()) calls.push(b.enqueue(device(d), message((round + 1) * 1000 + 500 + d)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const settled = await Promise.allSettled(calls);
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error && r.reason.cause instanceof Error ? r.reason.cause.message : String(r.reason)] : []));
  assert.deepEqual(failed.slice(0, 3), []);
  for (const d of range(DEVICES)) {
    const queue = await a.fetch(device(d), { after: 0, limit: 1000 });
    assert.equal(queue.length, 12);
    const ofA = queue.map((m) => new DataView(m.id.buffer).getUint32(12)).filter((n) => n % 1000 < 500);
    assert.deepEqual(ofA, range(6).map((r) => r * 1000 + d), "one store's calls to a device are queued in call order");
  }
  await holder.end();
  await Promise.all([a.close(), b.close()]);
});

test('postgres: a reader following its cursor during concurrent enqueues from two pools misses nothing', async () => {
  const config = await freshDatabase();
  const [a, b, reader] = await Promise.all([openPostgresStore({ ...config, max: 6 }), openPostgresStore({ ...config, max: 6 }), openPostgresStore({ ...config, max: 1 })]);
  await a.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const COUNT = 600;
  let writing = true;
  const writers = Promise.all(range(COUNT).map((n) => (n % 2 === 0 ? a : b).enqueue(ALICE, message(n)))).finally(() => {
    writing = false;
  });
  const seen: number[] = [];
  let cursor = 0;
  const stillWriting = (): boolean => writing;
  for (let done = false; !done; ) {
    done = !stillWriting(); // one more fetch after the last write resolved
    const page = await reader.fetch(ALICE, { after: cursor, limit: 1000 });
    for (const m of page) seen.push(new DataView(m.id.buffer).getUint32(12));
    cursor = page.at(-1)?.seq ?? cursor;
  }
  await writers;
  assert.equal(seen.length, COUNT, 'the reader skipped a message (or saw one twice)');
  assert.deepEqual([...seen].sort((x, y) => x - y), range(COUNT));
  await Promise.all([a.close(), b.close(), reader.close()]);
});

test('postgres: concurrent duplicate enqueues store one message, and every caller gets its seq', async () => {
  const config = await freshDatabase();
  const [a, b] = await Promise.all([openPostgresStore({ ...config, max: 4 }), openPostgresStore({ ...config, max: 4 })]);
  await a.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  const results = await Promise.all(range(20).map((i) => (i % 2 === 0 ? a : b).enqueue(ALICE, message(7))));
  assert.equal(results.filter((r) => !r.duplicate).length, 1);
  assert.equal(new Set(results.map((r) => r.seq)).size, 1);
  assert.equal((await a.fetch(ALICE, { after: 0, limit: 10 })).length, 1);
  // racing registrations of one username: one wins, the others are conflicts
  const created = await Promise.allSettled(range(6).map((i) => (i % 2 === 0 ? a : b).createAccount({ username: 'carol', identityKey: identityKey(i), accessKeyHash: accessKeyHash(i), createdAt: i, firstDeviceId: 1 })));
  assert.equal(created.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of created) if (r.status === 'rejected') await rejectsWith(Promise.reject(r.reason as Error), 'ERR_STORE_CONFLICT', 'second carol');
  await Promise.all([a.close(), b.close()]);
});

// The queue model on PostgreSQL: one database, emptied before each run (faster than a database per run;
// seqs keep growing across runs, which the model allows: only their order is observable).
let modelDatabase: pg.PoolConfig | undefined;
queueModelTest(
  'PostgreSQL',
  async () => {
    modelDatabase ??= await freshDatabase({ max: 2 });
    const store = await openPostgresStore(modelDatabase);
    await cluster.sql('TRUNCATE accounts, devices, messages CASCADE', [], modelDatabase.database);
    return store;
  },
  100,
);

test('postgres: after a server crash every write that had resolved is there, and an open store carries on', async () => {
  const config = await freshDatabase();
  const COUNT = 200;
  const store = await openPostgresStore({ ...config, max: 4 });
  await store.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  await store.addOneTimePrekeys(ALICE, 'kem', prekeys('k', [1]));
  await Promise.all(range(COUNT).map((n) => store.enqueue(ALICE, message(n))));
  await store.putAttachment({ id: new Uint8Array(16).fill(7), bytes: new Uint8Array(100_000).fill(9), expiresAt: 20 });

  await cluster.crashAndRestart(); // the pool's idle connections die with the server

  const reopened = await openPostgresStore(config);
  const got = await reopened.fetch(ALICE, { after: 0, limit: 1000 });
  assert.deepEqual(
    got.map((m) => new DataView(m.id.buffer).getUint32(12)).sort((x, y) => x - y),
    range(COUNT),
  );
  for (const m of got) assert.deepEqual(m.envelope, message(new DataView(m.id.buffer).getUint32(12)).envelope);
  assert.deepEqual(await reopened.countOneTimePrekeys(ALICE), { x25519: 0, kem: 1 });
  assert.equal((await reopened.getAttachment(new Uint8Array(16).fill(7)))?.size, 100_000);
  await reopened.close();
  // the store opened before the crash did not take the process down with its dead connections, and
  // its next operations get fresh ones
  assert.equal((await store.fetch(ALICE, { after: 0, limit: 1000 })).length, COUNT);
  await store.enqueue(ALICE, message(COUNT));
  await store.close();
});

/** pg_stat_user_tables of the queue and the devices, once the counts of every ended connection are in
 *  (a backend flushes its statistics when it exits: waits until `inserted` rows of messages show). */
async function tableScans(database: string, inserted: number): Promise<{ messagesSeq: number; devicesSeq: number; messagesIdx: number }> {
  for (let tries = 0; ; tries++) {
    const rows = await cluster.sql<{ relname: string; seq_scan: string; idx_scan: string | null; n_tup_ins: string }>(
      "SELECT relname, seq_scan, idx_scan, n_tup_ins FROM pg_stat_user_tables WHERE relname IN ('messages', 'devices')",
      [],
      database,
    );
    const of = (name: string): { seq_scan: string; idx_scan: string | null; n_tup_ins: string } | undefined => rows.find((r) => r.relname === name);
    const messages = of('messages');
    const devices = of('devices');
    if (messages !== undefined && devices !== undefined && Number(messages.n_tup_ins) >= inserted) {
      return { messagesSeq: Number(messages.seq_scan), devicesSeq: Number(devices.seq_scan), messagesIdx: Number(messages.idx_scan ?? 0) };
    }
    if (tries > 100) throw new Error(`the statistics of the ended connections never showed ${inserted} messages inserted`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('postgres: the hot path reads the queue and the devices through their indexes, never a sequential scan, however stale the statistics and cached the plans', async () => {
  // A fresh database has no statistics, and autovacuum does not come round during the test: the
  // table holds thousands of dead rows that the planner does not know of, and each connection keeps
  // the generic plans it made after its fifth execution of a statement. Without the session settings
  // (postgres.ts header), the acks hash-join a sequential scan of messages, and the enqueues and
  // fetches scan devices.
  const config = await freshDatabase();
  const database = config.database ?? '';
  const DEVICES = 20;
  const device = (d: number): { username: string; deviceId: number } => ({ username: `user${d}`, deviceId: 1 });
  const setup = await openPostgresStore(config);
  for (const d of range(DEVICES)) await setup.createAccount({ username: device(d).username, identityKey: identityKey(d + 1), accessKeyHash: accessKeyHash(d + 1), createdAt: 1, firstDeviceId: 1 });
  await setup.enqueue(device(0), message(1_000_000));
  await setup.close();
  const before = await tableScans(database, 1);

  const store = await openPostgresStore({ ...config, max: 2 });
  const ROUNDS = 60;
  const BURST = 40;
  let previous: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ns = range(BURST).map((i) => round * BURST + i);
    const calls: Promise<unknown>[] = ns.map((n) => store.enqueue(device(n % DEVICES), message(n, 1000, 2000 + n)));
    calls.push(...previous.map((n) => store.ack(device(n % DEVICES), [id16(n)])));
    await Promise.all(calls);
    const first = round * BURST;
    assert.equal((await store.enqueue(device(first % DEVICES), message(first, 1000, 2000 + first))).duplicate, true); // looks up an id already queued
    assert.equal((await store.fetch(device(round % DEVICES), { after: 0, limit: 10 })).length > 0, true);
    previous = ns;
  }
  assert.equal(await store.expireMessages(2000 + ROUNDS * BURST), BURST + 1, 'the last round and the message queued before');
  await store.close();

  const after = await tableScans(database, 1 + ROUNDS * BURST);
  assert.ok(after.messagesIdx > before.messagesIdx, 'the statistics counted the index scans');
  assert.deepEqual({ messages: after.messagesSeq - before.messagesSeq, devices: after.devicesSeq - before.devicesSeq }, { messages: 0, devices: 0 }, 'sequential scans');
});
