// Retry timing (docs/protocol/10 §10.5): 250 ms doubling, at most 30 s, with jitter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corpusAt } from '@sotto/test-support';
import { backoffDelay } from '@sotto/client';

const corpus = corpusAt(new URL('corpus/', import.meta.url));

test('back-off: half fixed, half jitter, doubling from 250 ms to a 30 s ceiling', async () => {
  assert.equal(backoffDelay(0, 250, 30_000, 0), 125);
  assert.equal(backoffDelay(0, 250, 30_000, 0.999999), 250);
  assert.equal(backoffDelay(3, 250, 30_000, 0), 1000);
  assert.equal(backoffDelay(20, 250, 30_000, 0), 15_000);
  assert.equal(backoffDelay(1e9, 250, 30_000, 0.999999), 30_000);
  await corpus.check('backoff-bounds', fc.tuple(fc.nat({ max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), ([attempt, r]) => {
    const d = backoffDelay(attempt, 250, 30_000, r);
    const ceiling = Math.min(30_000, 250 * 2 ** attempt);
    assert.ok(d >= ceiling / 2 - 1 && d <= ceiling, `attempt ${attempt}: ${d}`);
    assert.ok(backoffDelay(attempt + 1, 250, 30_000, r) >= d, 'never shorter for a later attempt with the same jitter');
  });
});
