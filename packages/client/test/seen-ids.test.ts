// The seen ids of docs/protocol/10 §10.5 (src/messaging/state.ts withSeen, seenAnywhere): membership
// answered from an index that moves from snapshot to snapshot must equal a scan of the snapshot's
// lists — for the newest snapshot, for an older one asked again (a batch retried from it), with
// repeats and across contacts — and eviction beyond MAX_SEEN_IDS forgets exactly the oldest ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import { MAX_SEEN_IDS } from '../src/limits.ts';
import { seenAnywhere, withSeen } from '../src/messaging/state.ts';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

type Seen = ReadonlyMap<string, readonly string[]>;
const scan = (seen: Seen, id: string): boolean => [...seen.values()].some((ids) => ids.includes(id));

const op = fc.oneof(
  fc.record({ add: fc.constantFrom('alice', 'bob', 'carol'), id: fc.nat({ max: 12 }).map(String) }),
  fc.record({ ask: fc.nat(), id: fc.nat({ max: 12 }).map(String) }),
);

test('seenAnywhere answers what a scan of the same snapshot answers, old snapshots included', async () => {
  await corpus.check(
    'seen-ids-model',
    fc.tuple(fc.array(op, { maxLength: 60 }), fc.boolean()),
    ([ops, startIndexed]) => {
      const snapshots: Seen[] = [new Map([['alice', ['1', '2']]])];
      if (startIndexed) seenAnywhere(snapshots[0] ?? new Map(), '0'); // the first snapshot has an index
      for (const o of ops) {
        const current = snapshots.at(-1) ?? new Map();
        if ('add' in o) {
          snapshots.push(withSeen(current, o.add, o.id));
        } else {
          const s = snapshots[o.ask % snapshots.length] ?? new Map();
          assert.equal(seenAnywhere(s, o.id), scan(s, o.id));
        }
      }
      for (const s of snapshots) for (let id = 0; id <= 12; id++) assert.equal(seenAnywhere(s, String(id)), scan(s, String(id)));
    },
    { numRuns: 300 },
  );
});

test('beyond MAX_SEEN_IDS a contact forgets its oldest ids, and only those; another contact keeping one still counts', () => {
  let seen: Seen = new Map([['bob', ['id-0']]]);
  assert.equal(seenAnywhere(seen, 'id-0'), true);
  for (let i = 0; i < MAX_SEEN_IDS + 3; i++) seen = withSeen(seen, 'alice', `id-${i}`);
  assert.equal(seen.get('alice')?.length, MAX_SEEN_IDS);
  assert.equal(seenAnywhere(seen, 'id-1'), false, 'evicted from alice');
  assert.equal(seenAnywhere(seen, 'id-2'), false, 'evicted from alice');
  assert.equal(seenAnywhere(seen, 'id-3'), true, 'the oldest kept');
  assert.equal(seenAnywhere(seen, `id-${MAX_SEEN_IDS + 2}`), true, 'the newest');
  assert.equal(seenAnywhere(seen, 'id-0'), true, "evicted from alice's list, still in bob's");
});
