// The Store conformance suite (STYLE.md §13): one set of behaviours every back-end must show,
// registered unchanged for memory, SQLite and (later) PostgreSQL. A back-end's test file calls
// storeConformance(name, makeStore) with a factory that returns a fresh, empty store each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError, limits, type DeviceAddress, type NewAccount, type NewMessage, type PrekeyRecord, type Store, type StoreErrorCode } from '@sotto/store';

export type MakeStore = () => Promise<Store>;

/** 16 bytes whose last four encode n: distinct, readable ids. */
export function id16(n: number): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(12, n);
  return b;
}

export const identityKey = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
/** A 32-byte access-key hash distinct from identityKey(fill). */
export const accessKeyHash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill ^ 0x80);
const record = (kind: string, n: number): Uint8Array => new TextEncoder().encode(`${kind}-${n}`);
export const prekeys = (kind: string, ids: readonly number[]): PrekeyRecord[] => ids.map((id) => ({ id, record: record(kind, id) }));
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

export function message(n: number, receivedAt = 1000, expiresAt = 2000): NewMessage {
  return { id: id16(n), envelope: record('envelope', n), receivedAt, expiresAt };
}

export async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStoreError(e, code), `${what}: expected ${code}, got ${e instanceof Error ? e.message : String(e)}`);
    return true;
  });
}

const ALICE: DeviceAddress = { username: 'alice', deviceId: 1 };
const ALICE2: DeviceAddress = { username: 'alice', deviceId: 2 };
const BOB: DeviceAddress = { username: 'bob', deviceId: 1 };

/** A store with accounts alice (devices 1, 2) and bob (device 1). */
async function withAccounts(makeStore: MakeStore): Promise<Store> {
  const s = await makeStore();
  await s.createAccount({ username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 100, firstDeviceId: 1 });
  await s.addDevice(ALICE2, 150);
  await s.createAccount({ username: 'bob', identityKey: identityKey(2), accessKeyHash: accessKeyHash(2), createdAt: 200, firstDeviceId: 1 });
  return s;
}

/** Runs `body` on a fresh store with accounts, closing it afterwards whatever happens. */
async function using(makeStore: MakeStore, body: (s: Store) => Promise<void>): Promise<void> {
  const s = await withAccounts(makeStore);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

export function storeConformance(name: string, makeStore: MakeStore): void {
  const t = (title: string, body: (s: Store) => Promise<void>): void => {
    test(`${name}: ${title}`, () => using(makeStore, body));
  };

  // --- accounts and devices ---

  t('an account reads back exactly, with its first device', async (s) => {
    assert.deepEqual(await s.getAccount('alice'), { username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 100 });
    assert.deepEqual(await s.listDevices('bob'), [{ deviceId: 1, createdAt: 200, lastSeenAt: 200 }]);
    assert.equal(await s.getAccount('carol'), null);
    await rejectsWith(s.listDevices('carol'), 'ERR_STORE_NOT_FOUND', 'devices of an unknown account');
  });

  t('usernames are stored byte for byte: the store neither folds case nor normalises', async (s) => {
    await s.createAccount({ username: 'Alice', identityKey: identityKey(3), accessKeyHash: accessKeyHash(3), createdAt: 1, firstDeviceId: 7 });
    const decomposed = 'zoe\u0301';
    await s.createAccount({ username: decomposed, identityKey: identityKey(4), accessKeyHash: accessKeyHash(4), createdAt: 2, firstDeviceId: 0 });
    assert.deepEqual((await s.getAccount('Alice'))?.identityKey, identityKey(3));
    assert.deepEqual((await s.getAccount('alice'))?.identityKey, identityKey(1));
    assert.equal((await s.getAccount(decomposed))?.username, decomposed);
    assert.equal(await s.getAccount('zo\u00e9'), null);
  });

  t('a taken username is a conflict and changes nothing', async (s) => {
    await rejectsWith(
      s.createAccount({ username: 'alice', identityKey: identityKey(9), accessKeyHash: accessKeyHash(9), createdAt: 999, firstDeviceId: 5 }),
      'ERR_STORE_CONFLICT',
      'second alice',
    );
    assert.deepEqual(await s.getAccount('alice'), { username: 'alice', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 100 });
    assert.deepEqual(
      (await s.listDevices('alice')).map((d) => d.deviceId),
      [1, 2],
    );
  });

  t('devices: added in any order, listed by id; unknown account and taken id are rejected', async (s) => {
    await s.addDevice({ username: 'bob', deviceId: limits.MAX_U32 }, 300);
    await s.addDevice({ username: 'bob', deviceId: 0 }, 301);
    assert.deepEqual(await s.listDevices('bob'), [
      { deviceId: 0, createdAt: 301, lastSeenAt: 301 },
      { deviceId: 1, createdAt: 200, lastSeenAt: 200 },
      { deviceId: limits.MAX_U32, createdAt: 300, lastSeenAt: 300 },
    ]);
    await rejectsWith(s.addDevice({ username: 'carol', deviceId: 1 }, 1), 'ERR_STORE_NOT_FOUND', 'device of unknown account');
    await rejectsWith(s.addDevice(BOB, 999), 'ERR_STORE_CONFLICT', 'taken device id');
    assert.equal((await s.listDevices('bob')).find((d) => d.deviceId === 1)?.createdAt, 200);
  });

  t('touchDevice moves lastSeenAt forward only', async (s) => {
    await s.touchDevice(ALICE, 500);
    await s.touchDevice(ALICE, 400);
    assert.deepEqual(await s.listDevices('alice'), [
      { deviceId: 1, createdAt: 100, lastSeenAt: 500 },
      { deviceId: 2, createdAt: 150, lastSeenAt: 150 },
    ]);
    await rejectsWith(s.touchDevice({ username: 'alice', deviceId: 3 }, 1), 'ERR_STORE_NOT_FOUND', 'touch unknown device');
    await rejectsWith(s.touchDevice({ username: 'carol', deviceId: 1 }, 1), 'ERR_STORE_NOT_FOUND', 'touch unknown account');
  });

  t('account and device arguments out of their domain are rejected before anything is stored', async (s) => {
    const bad: [string, () => Promise<unknown>][] = [
      ['31-byte identity key', () => s.createAccount({ username: 'carol', identityKey: new Uint8Array(31), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 })],
      ['empty username', () => s.createAccount({ username: '', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 })],
      ['256-byte username', () => s.createAccount({ username: 'x'.repeat(256), identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 })],
      ['negative device id', () => s.createAccount({ username: 'carol', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: -1 })],
      ['31-byte access-key hash', () => s.createAccount({ username: 'carol', identityKey: identityKey(1), accessKeyHash: new Uint8Array(31), createdAt: 1, firstDeviceId: 1 })],
      ['no access-key hash', () => s.createAccount({ username: 'carol', identityKey: identityKey(1), createdAt: 1, firstDeviceId: 1 } as unknown as NewAccount)],
      ['device id 2^32', () => s.addDevice({ username: 'alice', deviceId: 2 ** 32 }, 1)],
      ['fractional device id', () => s.addDevice({ username: 'alice', deviceId: 1.5 }, 1)],
      ['negative time', () => s.addDevice({ username: 'alice', deviceId: 9 }, -1)],
      ['fractional time', () => s.touchDevice(ALICE, 1.5)],
    ];
    for (const [what, call] of bad) await rejectsWith(call(), 'ERR_STORE_ARGUMENT', what);
    assert.equal(await s.getAccount('carol'), null);
    assert.equal(await s.getAccount('x'.repeat(256)).catch(() => 'rejected'), 'rejected');
    assert.deepEqual(
      (await s.listDevices('alice')).map((d) => d.deviceId),
      [1, 2],
    );
    await s.createAccount({ username: 'x'.repeat(255), identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 });
  });

  // --- prekeys ---

  t('a bundle needs a signed prekey and a KEM prekey; without them nothing is consumed', async (s) => {
    await rejectsWith(s.takeBundleParts(ALICE), 'ERR_STORE_NOT_FOUND', 'no prekeys at all');
    await s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', [1, 2]));
    await rejectsWith(s.takeBundleParts(ALICE), 'ERR_STORE_NOT_FOUND', 'no signed prekey');
    await s.setSignedPrekey(ALICE, { id: 7, record: record('signed', 7) });
    await rejectsWith(s.takeBundleParts(ALICE), 'ERR_STORE_NOT_FOUND', 'no KEM prekey');
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 2, kem: 0 });
    await rejectsWith(s.takeBundleParts({ username: 'alice', deviceId: 3 }), 'ERR_STORE_NOT_FOUND', 'unknown device');
    await rejectsWith(s.takeBundleParts({ username: 'carol', deviceId: 1 }), 'ERR_STORE_NOT_FOUND', 'unknown account');
  });

  t('bundles hand out one-time keys oldest first, then fall back to the last-resort KEM key', async (s) => {
    await s.setSignedPrekey(ALICE, { id: 1, record: record('signed', 1) });
    await s.setSignedPrekey(ALICE, { id: 2, record: record('signed', 2) }); // replaces
    await s.setLastResortKemPrekey(ALICE, { id: 50, record: record('last', 50) });
    await s.setLastResortKemPrekey(ALICE, { id: 51, record: record('last', 51) }); // replaces
    await s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', [30, 10]));
    await s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', [20]));
    await s.addOneTimePrekeys(ALICE, 'kem', prekeys('k', [5, 4]));
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 3, kem: 2 });

    const signedPrekey = { id: 2, record: record('signed', 2) };
    const lastResort = { id: 51, record: record('last', 51) };
    const expected = [
      { signedPrekey, oneTimePrekey: { id: 30, record: record('x', 30) }, kemPrekey: { id: 5, record: record('k', 5) }, kemPrekeyIsLastResort: false },
      { signedPrekey, oneTimePrekey: { id: 10, record: record('x', 10) }, kemPrekey: { id: 4, record: record('k', 4) }, kemPrekeyIsLastResort: false },
      { signedPrekey, oneTimePrekey: { id: 20, record: record('x', 20) }, kemPrekey: lastResort, kemPrekeyIsLastResort: true },
      { signedPrekey, oneTimePrekey: null, kemPrekey: lastResort, kemPrekeyIsLastResort: true },
      { signedPrekey, oneTimePrekey: null, kemPrekey: lastResort, kemPrekeyIsLastResort: true },
    ];
    for (const [i, want] of expected.entries()) assert.deepEqual(await s.takeBundleParts(ALICE), want, `bundle ${i}`);
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 0, kem: 0 });
  });

  t('one-time prekey ids: duplicates in a batch or with held keys reject the whole batch', async (s) => {
    await s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', [1, 2]));
    await rejectsWith(s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', [3, 4, 3])), 'ERR_STORE_CONFLICT', 'repeat within batch');
    await rejectsWith(s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', [5, 2])), 'ERR_STORE_CONFLICT', 'repeat of held key');
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 2, kem: 0 });
    // the same id is fine for the other kind, and on another device or account
    await s.addOneTimePrekeys(ALICE, 'kem', prekeys('k', [1, 2]));
    await s.addOneTimePrekeys(ALICE2, 'x25519', prekeys('x', [1, 2]));
    await s.addOneTimePrekeys(BOB, 'x25519', prekeys('x', [1, 2]));
    await s.addOneTimePrekeys(ALICE, 'x25519', []);
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 2, kem: 2 });
    // once handed out, an id is no longer held
    await s.setSignedPrekey(ALICE, { id: 1, record: record('signed', 1) });
    assert.equal((await s.takeBundleParts(ALICE)).oneTimePrekey?.id, 1);
    await s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x-again', [1]));
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 2, kem: 1 });
  });

  t('storePrekeys applies a whole upload in one step, or nothing of it', async (s) => {
    const counts = await s.storePrekeys(ALICE, {
      signedPrekey: { id: 1, record: record('signed', 1) },
      lastResortKemPrekey: { id: 9, record: record('last', 9) },
      oneTime: { x25519: prekeys('x', [1, 2]), kem: prekeys('k', [3]) },
    });
    assert.deepEqual(counts, { x25519: 2, kem: 1 });
    // a conflict in the KEM batch leaves the X25519 batch and the signed prekey as they were
    await rejectsWith(
      s.storePrekeys(ALICE, { signedPrekey: { id: 2, record: record('signed', 2) }, oneTime: { x25519: prekeys('x', [5]), kem: prekeys('k', [3]) } }),
      'ERR_STORE_CONFLICT',
      'held KEM id',
    );
    await rejectsWith(s.storePrekeys(ALICE, { lastResortKemPrekey: { id: 10, record: record('last', 10) }, oneTime: { x25519: prekeys('x', [6, 6]), kem: [] } }), 'ERR_STORE_CONFLICT', 'repeat within batch');
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 2, kem: 1 });
    assert.deepEqual(await s.takeBundleParts(ALICE), {
      signedPrekey: { id: 1, record: record('signed', 1) },
      oneTimePrekey: { id: 1, record: record('x', 1) },
      kemPrekey: { id: 3, record: record('k', 3) },
      kemPrekeyIsLastResort: false,
    });
    // parts are optional: one-time keys only, then a rotation only
    assert.deepEqual(await s.storePrekeys(ALICE, { oneTime: { x25519: prekeys('x', [7]), kem: [] } }), { x25519: 2, kem: 0 });
    assert.deepEqual(await s.storePrekeys(ALICE, { signedPrekey: { id: 2, record: record('signed', 2) }, oneTime: { x25519: [], kem: [] } }), { x25519: 2, kem: 0 });
    const b = await s.takeBundleParts(ALICE);
    assert.deepEqual([b.signedPrekey.id, b.kemPrekey.id, b.kemPrekeyIsLastResort], [2, 9, true]);
    await rejectsWith(s.storePrekeys({ username: 'carol', deviceId: 1 }, { oneTime: { x25519: [], kem: [] } }), 'ERR_STORE_NOT_FOUND', 'unknown device');
    await rejectsWith(s.storePrekeys(ALICE, { signedPrekey: { id: -1, record: record('s', 1) }, oneTime: { x25519: [], kem: [] } }), 'ERR_STORE_ARGUMENT', 'bad id');
  });

  t('prekeys belong to one device: taking from one leaves the others untouched', async (s) => {
    for (const d of [ALICE, ALICE2, BOB]) {
      await s.setSignedPrekey(d, { id: d.deviceId, record: record(`signed-${d.username}`, d.deviceId) });
      await s.addOneTimePrekeys(d, 'x25519', prekeys(`x-${d.username}-${d.deviceId}`, [1, 2, 3]));
      await s.addOneTimePrekeys(d, 'kem', prekeys(`k-${d.username}-${d.deviceId}`, [1, 2, 3]));
    }
    const b = await s.takeBundleParts(ALICE2);
    assert.deepEqual(b.signedPrekey, { id: 2, record: record('signed-alice', 2) });
    assert.deepEqual(b.oneTimePrekey, { id: 1, record: record('x-alice-2', 1) });
    assert.deepEqual(b.kemPrekey, { id: 1, record: record('k-alice-2', 1) });
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 3, kem: 3 });
    assert.deepEqual(await s.countOneTimePrekeys(ALICE2), { x25519: 2, kem: 2 });
    assert.deepEqual(await s.countOneTimePrekeys(BOB), { x25519: 3, kem: 3 });
  });

  t('prekey operations on an unknown device, and out-of-domain prekeys, are rejected', async (s) => {
    const nobody: DeviceAddress = { username: 'alice', deviceId: 9 };
    await rejectsWith(s.setSignedPrekey(nobody, { id: 1, record: record('s', 1) }), 'ERR_STORE_NOT_FOUND', 'signed');
    await rejectsWith(s.setLastResortKemPrekey(nobody, { id: 1, record: record('l', 1) }), 'ERR_STORE_NOT_FOUND', 'last resort');
    await rejectsWith(s.addOneTimePrekeys(nobody, 'kem', prekeys('k', [1])), 'ERR_STORE_NOT_FOUND', 'one-time');
    await rejectsWith(s.countOneTimePrekeys(nobody), 'ERR_STORE_NOT_FOUND', 'count');
    await rejectsWith(s.setSignedPrekey(ALICE, { id: 2 ** 32, record: record('s', 1) }), 'ERR_STORE_ARGUMENT', 'id 2^32');
    await rejectsWith(s.setSignedPrekey(ALICE, { id: 1, record: new Uint8Array(0) }), 'ERR_STORE_ARGUMENT', 'empty record');
    await rejectsWith(s.addOneTimePrekeys(ALICE, 'ed25519' as 'kem', prekeys('k', [1])), 'ERR_STORE_ARGUMENT', 'unknown kind');
    await rejectsWith(s.addOneTimePrekeys(ALICE, 'kem', prekeys('k', range(0, limits.MAX_PREKEYS_PER_CALL + 1))), 'ERR_STORE_ARGUMENT', 'too many');
    await rejectsWith(s.addOneTimePrekeys(ALICE, 'kem', [...prekeys('k', [1]), { id: -1, record: record('k', 2) }]), 'ERR_STORE_ARGUMENT', 'bad id in batch');
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 0, kem: 0 });
  });

  t('many concurrent bundle fetches never receive the same one-time key', async (s) => {
    const X = 150;
    const K = 120;
    const CALLS = 200;
    await s.setSignedPrekey(ALICE, { id: 1, record: record('signed', 1) });
    await s.setLastResortKemPrekey(ALICE, { id: 999, record: record('last', 999) });
    for (let i = 0; i < X; i += 50) await s.addOneTimePrekeys(ALICE, 'x25519', prekeys('x', range(i, 50)));
    for (let i = 0; i < K; i += 40) await s.addOneTimePrekeys(ALICE, 'kem', prekeys('k', range(i, 40)));
    const bundles = await Promise.all(Array.from({ length: CALLS }, () => s.takeBundleParts(ALICE)));
    const xs = bundles.flatMap((b) => (b.oneTimePrekey === null ? [] : [b.oneTimePrekey.id]));
    const ks = bundles.filter((b) => !b.kemPrekeyIsLastResort).map((b) => b.kemPrekey.id);
    assert.equal(new Set(xs).size, xs.length, 'an X25519 one-time key was handed out twice');
    assert.equal(new Set(ks).size, ks.length, 'a KEM one-time key was handed out twice');
    assert.deepEqual([...xs].sort((a, b) => a - b), range(0, X));
    assert.deepEqual([...ks].sort((a, b) => a - b), range(0, K));
    assert.equal(bundles.filter((b) => b.kemPrekeyIsLastResort && b.kemPrekey.id === 999).length, CALLS - K);
    assert.deepEqual(await s.countOneTimePrekeys(ALICE), { x25519: 0, kem: 0 });
  });

  // --- message queues ---

  t('a queue returns messages in arrival order, after a cursor, at most limit at a time', async (s) => {
    const seqs: number[] = [];
    for (const n of [5, 3, 9, 1, 7]) {
      const r = await s.enqueue(ALICE, message(n, 1000 + n, 5000));
      assert.equal(r.duplicate, false);
      seqs.push(r.seq);
    }
    assert.ok(seqs.every((q, i) => q >= 1 && (i === 0 || q > (seqs[i - 1] ?? 0))), `seqs strictly increase: ${seqs.join(',')}`);
    const all = await s.fetch(ALICE, { after: 0, limit: 100 });
    assert.deepEqual(
      all.map((m) => m.id),
      [5, 3, 9, 1, 7].map(id16),
    );
    assert.deepEqual(all[0], { seq: seqs[0], ...message(5, 1005, 5000) });
    const page1 = await s.fetch(ALICE, { after: 0, limit: 2 });
    const page2 = await s.fetch(ALICE, { after: page1[1]?.seq ?? -1, limit: 2 });
    const page3 = await s.fetch(ALICE, { after: page2[1]?.seq ?? -1, limit: 2 });
    assert.deepEqual([...page1, ...page2, ...page3], all);
    assert.equal(page3.length, 1);
    assert.deepEqual(await s.fetch(ALICE, { after: seqs[4] ?? -1, limit: 10 }), []);
    assert.deepEqual(await s.fetch(ALICE2, { after: 0, limit: 10 }), [], 'another device of the same account');
    assert.deepEqual(await s.fetch(BOB, { after: 0, limit: 10 }), []);
  });

  t('enqueue is idempotent per device and message id: the first envelope stands', async (s) => {
    const first = await s.enqueue(ALICE, message(1));
    await s.enqueue(ALICE, message(2));
    const again = await s.enqueue(ALICE, { ...message(1, 1500, 9000), envelope: record('other', 1) });
    assert.deepEqual(again, { seq: first.seq, duplicate: true });
    const queue = await s.fetch(ALICE, { after: 0, limit: 10 });
    assert.deepEqual(
      queue.map((m) => m.id),
      [id16(1), id16(2)],
    );
    assert.deepEqual(queue[0], { seq: first.seq, ...message(1) });
    // the same id addressed to another device is another message
    assert.equal((await s.enqueue(ALICE2, message(1))).duplicate, false);
    assert.equal((await s.enqueue(BOB, message(1))).duplicate, false);
  });

  t('concurrent enqueues to one device resolve in seq order, duplicates included (the live push relies on it)', async (s) => {
    const settled: { n: number; seq: number; duplicate: boolean }[] = [];
    // Two devices interleaved; every fifth call to alice repeats an earlier id of hers.
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const device = i % 2 === 0 ? ALICE : BOB;
        const n = i % 10 === 8 ? i - 4 : i;
        const r = await s.enqueue(device, message(n));
        if (device === ALICE) settled.push({ n, ...r });
      }),
    );
    const fresh = settled.filter((r) => !r.duplicate);
    assert.equal(fresh.length, 80);
    fresh.forEach((r, i) => {
      if (i > 0) assert.ok(r.seq > (fresh[i - 1]?.seq ?? 0), `resolved in seq order: ${fresh.map((x) => x.seq).join(',')}`);
    });
    for (const d of settled.filter((r) => r.duplicate)) assert.equal(d.seq, fresh.find((f) => f.n === d.n)?.seq);
  });

  t('ack deletes from the acknowledging device only, ignores unknown ids, and counts', async (s) => {
    for (const n of [1, 2, 3]) await s.enqueue(ALICE, message(n));
    await s.enqueue(BOB, message(2));
    assert.equal(await s.ack(BOB, [id16(1), id16(3)]), 0, "bob cannot acknowledge alice's messages");
    assert.equal(await s.ack(ALICE, [id16(1), id16(3), id16(42)]), 2);
    assert.equal(await s.ack(ALICE, [id16(1)]), 0, 'a repeated ack');
    assert.equal(await s.ack({ username: 'carol', deviceId: 1 }, [id16(2)]), 0, 'an unknown device has nothing to acknowledge');
    assert.deepEqual(
      (await s.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id),
      [id16(2)],
    );
    assert.deepEqual(
      (await s.fetch(BOB, { after: 0, limit: 10 })).map((m) => m.id),
      [id16(2)],
    );
    assert.equal(await s.ack(ALICE, []), 0);
  });

  t('a seq is never reused: a cursor past a deleted message still sees every later one', async (s) => {
    const a = await s.enqueue(ALICE, message(1));
    const b = await s.enqueue(ALICE, message(2));
    await s.ack(ALICE, [id16(1), id16(2)]);
    const c = await s.enqueue(ALICE, message(3));
    assert.ok(c.seq > b.seq && b.seq > a.seq, `seqs ${a.seq}, ${b.seq}, ${c.seq}`);
    assert.deepEqual(
      (await s.fetch(ALICE, { after: b.seq, limit: 10 })).map((m) => m.id),
      [id16(3)],
    );
    // an acknowledged id may arrive again (a sender's late retry): it is a new delivery
    const again = await s.enqueue(ALICE, message(1));
    assert.equal(again.duplicate, false);
    assert.ok(again.seq > c.seq);
  });

  t('expireMessages deletes every message with expiresAt <= now, in every queue', async (s) => {
    await s.enqueue(ALICE, message(1, 10, 100));
    await s.enqueue(ALICE, message(2, 10, 200));
    await s.enqueue(BOB, message(3, 10, 100));
    await s.enqueue(BOB, message(4, 10, 101));
    await s.enqueue(ALICE2, message(5, 10, 10));
    assert.equal(await s.expireMessages(99), 1);
    assert.equal(await s.expireMessages(100), 2);
    assert.equal(await s.expireMessages(100), 0);
    assert.deepEqual(
      (await s.fetch(ALICE, { after: 0, limit: 10 })).map((m) => m.id),
      [id16(2)],
    );
    assert.deepEqual(
      (await s.fetch(BOB, { after: 0, limit: 10 })).map((m) => m.id),
      [id16(4)],
    );
    assert.deepEqual(await s.fetch(ALICE2, { after: 0, limit: 10 }), []);
  });

  t('queue operations on an unknown device, and out-of-domain messages, are rejected', async (s) => {
    const nobody: DeviceAddress = { username: 'bob', deviceId: 2 };
    await rejectsWith(s.enqueue(nobody, message(1)), 'ERR_STORE_NOT_FOUND', 'enqueue');
    await rejectsWith(s.fetch(nobody, { after: 0, limit: 1 }), 'ERR_STORE_NOT_FOUND', 'fetch');
    const bad: [string, () => Promise<unknown>][] = [
      ['15-byte id', () => s.enqueue(ALICE, { ...message(1), id: new Uint8Array(15) })],
      ['expiry before arrival', () => s.enqueue(ALICE, message(1, 100, 99))],
      ['limit 0', () => s.fetch(ALICE, { after: 0, limit: 0 })],
      ['limit too large', () => s.fetch(ALICE, { after: 0, limit: limits.MAX_FETCH_LIMIT + 1 })],
      ['negative cursor', () => s.fetch(ALICE, { after: -1, limit: 1 })],
      ['17-byte ack id', () => s.ack(ALICE, [new Uint8Array(17)])],
      ['too many ack ids', () => s.ack(ALICE, range(0, limits.MAX_ACK_IDS + 1).map(id16))],
      ['negative now', () => s.expireMessages(-1)],
    ];
    for (const [what, call] of bad) await rejectsWith(call(), 'ERR_STORE_ARGUMENT', what);
    assert.deepEqual(await s.fetch(ALICE, { after: 0, limit: 10 }), []);
    await s.enqueue(ALICE, { ...message(1), envelope: new Uint8Array(0) }); // an empty envelope is the server's call, not the store's
  });

  // --- attachments ---

  t('attachments: put, get, conflict on a taken id, expiry', async (s) => {
    const a = { id: id16(1), bytes: record('attachment', 1), expiresAt: 100 };
    await s.putAttachment(a);
    await s.putAttachment({ id: id16(2), bytes: new Uint8Array(0), expiresAt: 200 });
    assert.deepEqual(await s.getAttachment(id16(1)), { ...a, size: a.bytes.length });
    assert.deepEqual(await s.getAttachment(id16(2)), { id: id16(2), bytes: new Uint8Array(0), size: 0, expiresAt: 200 });
    assert.equal(await s.getAttachment(id16(3)), null);
    await rejectsWith(s.putAttachment({ ...a, bytes: record('other', 1) }), 'ERR_STORE_CONFLICT', 'taken id');
    assert.deepEqual((await s.getAttachment(id16(1)))?.bytes, a.bytes);
    await rejectsWith(s.putAttachment({ ...a, id: new Uint8Array(8) }), 'ERR_STORE_ARGUMENT', 'short id');
    await rejectsWith(s.getAttachment(new Uint8Array(0)), 'ERR_STORE_ARGUMENT', 'empty id');
    assert.equal(await s.expireAttachments(99), 0);
    assert.equal(await s.expireAttachments(100), 1);
    assert.equal(await s.getAttachment(id16(1)), null);
    assert.notEqual(await s.getAttachment(id16(2)), null);
  });

  // --- copies and closing ---

  t('byte arrays are copied in and out: callers cannot change what is stored', async (s) => {
    const key = identityKey(5);
    await s.createAccount({ username: 'carol', identityKey: key, accessKeyHash: accessKeyHash(5), createdAt: 1, firstDeviceId: 1 });
    key.fill(0);
    const got = await s.getAccount('carol');
    assert.deepEqual(got?.identityKey, identityKey(5));
    got.identityKey.fill(0);
    got.accessKeyHash.fill(0);
    assert.deepEqual((await s.getAccount('carol'))?.identityKey, identityKey(5));
    assert.deepEqual((await s.getAccount('carol'))?.accessKeyHash, accessKeyHash(5));

    const m = message(1);
    await s.enqueue(ALICE, m);
    m.envelope.fill(0);
    m.id.fill(0);
    const [q] = await s.fetch(ALICE, { after: 0, limit: 1 });
    assert.deepEqual(q?.envelope, record('envelope', 1));
    q.envelope.fill(0);
    assert.deepEqual((await s.fetch(ALICE, { after: 0, limit: 1 }))[0]?.envelope, record('envelope', 1));

    const signed = { id: 1, record: record('signed', 1) };
    await s.setSignedPrekey(ALICE, signed);
    await s.setLastResortKemPrekey(ALICE, { id: 2, record: record('last', 2) });
    signed.record.fill(0);
    const b1 = await s.takeBundleParts(ALICE);
    b1.signedPrekey.record.fill(0);
    b1.kemPrekey.record.fill(0);
    const b2 = await s.takeBundleParts(ALICE);
    assert.deepEqual(b2.signedPrekey.record, record('signed', 1));
    assert.deepEqual(b2.kemPrekey.record, record('last', 2));

    const blob = record('blob', 1);
    await s.putAttachment({ id: id16(9), bytes: blob, expiresAt: 1 });
    blob.fill(0);
    assert.deepEqual((await s.getAttachment(id16(9)))?.bytes, record('blob', 1));
  });

  test(`${name}: after close every operation rejects with ERR_STORE_CLOSED; close is idempotent`, async () => {
    const s = await withAccounts(makeStore);
    await s.close();
    await s.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['createAccount', () => s.createAccount({ username: 'z', identityKey: identityKey(1), accessKeyHash: accessKeyHash(1), createdAt: 1, firstDeviceId: 1 })],
      ['getAccount', () => s.getAccount('alice')],
      ['addDevice', () => s.addDevice({ username: 'alice', deviceId: 5 }, 1)],
      ['listDevices', () => s.listDevices('alice')],
      ['touchDevice', () => s.touchDevice(ALICE, 1)],
      ['setSignedPrekey', () => s.setSignedPrekey(ALICE, { id: 1, record: record('s', 1) })],
      ['setLastResortKemPrekey', () => s.setLastResortKemPrekey(ALICE, { id: 1, record: record('s', 1) })],
      ['addOneTimePrekeys', () => s.addOneTimePrekeys(ALICE, 'kem', [])],
      ['countOneTimePrekeys', () => s.countOneTimePrekeys(ALICE)],
      ['storePrekeys', () => s.storePrekeys(ALICE, { oneTime: { x25519: [], kem: [] } })],
      ['takeBundleParts', () => s.takeBundleParts(ALICE)],
      ['enqueue', () => s.enqueue(ALICE, message(1))],
      ['fetch', () => s.fetch(ALICE, { after: 0, limit: 1 })],
      ['ack', () => s.ack(ALICE, [])],
      ['expireMessages', () => s.expireMessages(1)],
      ['putAttachment', () => s.putAttachment({ id: id16(1), bytes: new Uint8Array(1), expiresAt: 1 })],
      ['getAttachment', () => s.getAttachment(id16(1))],
      ['expireAttachments', () => s.expireAttachments(1)],
    ];
    for (const [what, call] of calls) await rejectsWith(call(), 'ERR_STORE_CLOSED', what);
  });
}
