// The queue model (STYLE.md §12), shared by every back-end's model-based test: a random sequence of
// enqueue / ack / expire / fetch operations, run on the in-memory store and on the store under test,
// gives the same observable results on both. Shrunk counterexamples are saved in test/corpus/ and
// replayed first on every run (the same corpus for every back-end).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import { createMemoryStore, type DeviceAddress, type Store } from '@sotto/store';
import { accessKeyHash, id16, identityKey } from './conformance.ts';

const DEVICES: readonly DeviceAddress[] = [
  { username: 'alice', deviceId: 1 },
  { username: 'alice', deviceId: 2 },
  { username: 'bob', deviceId: 1 },
];

/** Operations on small domains, so that ids repeat (duplicates, acks of queued ids) and times meet. */
type Op =
  | { op: 'enqueue'; device: number; n: number; body: number; receivedAt: number; ttl: number }
  | { op: 'ack'; device: number; ns: number[] }
  | { op: 'expire'; now: number }
  /** after: the seq this store returned when message `after` was last enqueued to this device (0 if never). */
  | { op: 'fetch'; device: number; after: number; limit: number };

const device = fc.integer({ min: 0, max: DEVICES.length - 1 });
const n = fc.integer({ min: 0, max: 7 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('enqueue' as const), device, n, body: fc.integer({ min: 0, max: 3 }), receivedAt: fc.integer({ min: 0, max: 50 }), ttl: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ack' as const), device, ns: fc.array(n, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), now: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fetch' as const), device, after: fc.integer({ min: -1, max: 7 }), limit: fc.integer({ min: 1, max: 5 }) }) },
);

/** Applies the operations to one store; returns what a caller observes, minus the raw seq values
 *  (opaque by contract: only their order is), which are checked to increase within every fetch. */
async function observe(store: Store, ops: readonly Op[]): Promise<unknown[]> {
  for (const [i, d] of DEVICES.entries()) {
    if (d.deviceId === 1) await store.createAccount({ username: d.username, identityKey: identityKey(i), accessKeyHash: accessKeyHash(i), createdAt: 0, firstDeviceId: 1 });
    else await store.addDevice(d, 0);
  }
  const seqOf = new Map<string, number>(); // `${device}/${n}` -> seq from the latest enqueue
  const seen: unknown[] = [];
  for (const o of ops) {
    const d = DEVICES[o.op === 'expire' ? 0 : o.device];
    if (d === undefined) throw new Error('device index out of range');
    switch (o.op) {
      case 'enqueue': {
        const r = await store.enqueue(d, { id: id16(o.n), envelope: new Uint8Array([o.n, o.body]), receivedAt: o.receivedAt, expiresAt: o.receivedAt + o.ttl });
        seqOf.set(`${o.device}/${o.n}`, r.seq);
        seen.push({ enqueued: r.duplicate ? 'duplicate' : 'new' });
        break;
      }
      case 'ack':
        seen.push({ acked: await store.ack(d, o.ns.map(id16)) });
        break;
      case 'expire':
        seen.push({ expired: await store.expireMessages(o.now) });
        break;
      case 'fetch': {
        const got = await store.fetch(d, { after: o.after < 0 ? 0 : (seqOf.get(`${o.device}/${o.after}`) ?? 0), limit: o.limit });
        assert.ok(
          got.every((m, i) => i === 0 || m.seq > (got[i - 1]?.seq ?? Infinity)),
          'seqs increase within a fetch',
        );
        seen.push({ fetched: got.map((m) => ({ id: m.id, envelope: m.envelope, receivedAt: m.receivedAt, expiresAt: m.expiresAt })) });
        break;
      }
    }
  }
  // the final state of every queue
  for (const d of DEVICES) seen.push({ final: (await store.fetch(d, { after: 0, limit: 100 })).map((m) => m.id) });
  return seen;
}

/** Registers the model-based test for one back-end; `open` returns a fresh, empty store each time. */
export function queueModelTest(name: string, open: () => Promise<Store>, numRuns: number): void {
  test(`queue model: memory and ${name} observe the same results for any sequence of operations`, async () => {
    const corpus = corpusAt(new URL('corpus/', import.meta.url));
    await corpus.check(
      'queue-model',
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      async (ops) => {
        const memory = createMemoryStore();
        const other = await open();
        try {
          assert.deepEqual(await observe(other, ops), await observe(memory, ops));
        } finally {
          await memory.close();
          await other.close();
        }
      },
      { numRuns },
    );
  });
}
