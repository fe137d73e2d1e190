// The fast-check corpus helper (STYLE.md §12): files round-trip their values, a failure is saved and then
// replayed first on every later run, and one property never picks up another property's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkWithCorpus, corpusAt, corpusEntries, fromCorpusJson, toCorpusJson } from '@sotto/test-support';

function withDir(run: (dir: string) => unknown): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sotto-corpus-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('corpus JSON: bytes nested in objects and arrays, and the values JSON lacks, come back equal', () => {
  const value = {
    a: Uint8Array.of(0, 1, 0xfe, 0xff),
    list: [Uint8Array.of(), { b: Uint8Array.of(7) }, [Uint8Array.of(9, 9)]],
    missing: undefined,
    holes: [undefined, null, 1],
    big: 2n ** 70n,
    special: [NaN, Infinity, -Infinity, -0, 0],
    text: 'x\u{1F600}\uFEFF',
  };
  const text = toCorpusJson(value);
  assert.match(text, /"\$bytes": "0001feff"/, 'bytes are readable hex');
  assert.deepEqual(fromCorpusJson(text), value);
  assert.ok(Object.is((fromCorpusJson(text) as typeof value).special[3], -0), '-0 survives');
  assert.throws(() => toCorpusJson({ f: new Map() }), /value\.f.*Map/);
  assert.throws(() => fromCorpusJson('{"$bytes":"abc"}'), /even-length hex/);
});

test('corpus JSON: the hand-written ratchet seed file reads back and re-serialises to the same text', () => {
  const text = readFileSync(new URL('../../protocol/test/corpus/ratchet-schedule-seed-dropped-chain.json', import.meta.url), 'utf8');
  const value = fromCorpusJson(text);
  assert.ok(Array.isArray(value) && value.length > 0);
  assert.ok((value as unknown[]).some((op) => typeof op === 'object' && op !== null && 'bytes' in op && op.bytes instanceof Uint8Array), 'a $bytes leaf becomes a Uint8Array');
  assert.equal(`${toCorpusJson(value)}\n`, text);
});

test('a failing property saves its shrunk counterexample, which is replayed first on the next run', withDir(async (dir) => {
  const arb = fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.nat({ max: 100 }));
  const predicate = ([b, n]: [Uint8Array, number]): void => {
    assert.ok(b.length < 3 || n < 5, 'deliberate: long bytes with n >= 5');
  };
  await assert.rejects(checkWithCorpus(dir, 'demo-prop', arb, predicate, { seed: 42, numRuns: 200 }), (e) => {
    assert.ok(e instanceof assert.AssertionError);
    assert.match(e.message, /^demo-prop: counterexample saved to /);
    assert.match(e.message, /Counterexample: /);
    assert.match(e.message, /deliberate: long bytes/);
    return true;
  });
  const files = readdirSync(dir);
  assert.equal(files.length, 1);
  assert.match(files[0] ?? '', /^demo-prop-[0-9a-f]{16}\.json$/);
  assert.deepEqual(corpusEntries(dir, 'demo-prop').map((e) => e.value), [[new Uint8Array(3), 5]], 'the shrunk value is saved');
  // An arbitrary that can only produce a passing value still fails: the saved file is replayed.
  await assert.rejects(checkWithCorpus(dir, 'demo-prop', fc.constant<[Uint8Array, number]>([new Uint8Array(0), 0]), predicate, { numRuns: 1 }), /corpus demo-prop-[0-9a-f]{16}\.json fails again: deliberate/);
}));

test('a predicate returning false fails on replay; a passing property writes nothing', withDir(async (dir) => {
  const corpus = corpusAt(dir);
  writeFileSync(join(dir, 'neg-seed-minus-one.json'), '-1\n');
  await assert.rejects(corpus.check('neg', fc.nat(), (n) => n >= 0, { numRuns: 10 }), /corpus neg-seed-minus-one\.json fails again: the property returned false/);
  await corpus.check('pos', fc.nat(), (n) => n >= 0, { numRuns: 50 });
  assert.deepEqual(readdirSync(dir), ['neg-seed-minus-one.json']);
}));

test('a property only replays its own files, not those of a longer name; names are checked', withDir((dir) => {
  writeFileSync(join(dir, 'codec-0123456789abcdef.json'), '1\n');
  writeFileSync(join(dir, 'codec-seed-edge.json'), '2\n');
  writeFileSync(join(dir, 'codec-long-0123456789abcdef.json'), '3\n');
  writeFileSync(join(dir, 'codec-long-seed-x.json'), '4\n');
  writeFileSync(join(dir, 'codec-notes.txt'), 'not a corpus file');
  assert.deepEqual(corpusEntries(dir, 'codec').map((e) => e.value), [1, 2]);
  assert.deepEqual(corpusEntries(dir, 'codec-long').map((e) => e.value), [3, 4]);
  assert.deepEqual(corpusEntries(join(dir, 'absent'), 'codec'), []);
  assert.throws(() => corpusEntries(dir, 'Bad Name'), /corpus name/);
}));
