// The fast-check corpus (STYLE.md §12, vodozemac's run_corpus): every shrunk counterexample of a property
// is saved as <corpus dir>/<name>-<hash>.json, and every saved one is replayed before the random runs, on
// every run. Hand-written seeds are named <name>-seed-<label>.json and are replayed the same way.
//
// Files are JSON with tagged leaves, so they stay readable and diffable: a Uint8Array is
// { "$bytes": "<lowercase hex>" }, and the values JSON cannot hold are { "$undefined": true },
// { "$bigint": "<decimal>" } and { "$number": "NaN" | "Infinity" | "-Infinity" | "-0" }. Plain objects
// (also null-prototype ones, which come back with Object.prototype) and arrays nest freely.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

/** A property body: throwing or returning `false` is a failure (as in fast-check). */
export type CorpusPredicate<T> = (value: T) => unknown;

/** One saved counterexample: its file name (inside the corpus directory) and decoded value. */
export interface CorpusEntry {
  readonly file: string;
  readonly value: unknown;
}

/** A corpus directory with the two operations bound to it. */
export interface Corpus {
  readonly dir: string;
  entries(name: string): CorpusEntry[];
  check<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: CorpusPredicate<T>, params?: fc.Parameters<[T]>): Promise<void>;
}

const SPECIAL_NUMBERS: Readonly<Record<string, number>> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 };
const NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new Error(`corpus name must be lowercase words joined by '-', got ${JSON.stringify(name)}`);
}

function dirPath(dir: string | URL): string {
  return dir instanceof URL ? fileURLToPath(dir) : dir;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function encodeValue(v: unknown, path: string): unknown {
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (v === undefined) return { $undefined: true };
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $number: 'NaN' };
    if (v === Infinity) return { $number: 'Infinity' };
    if (v === -Infinity) return { $number: '-Infinity' };
    if (Object.is(v, -0)) return { $number: '-0' };
    return v;
  }
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x: unknown, i) => encodeValue(x, `${path}[${i}]`));
  if (typeof v === 'object' && isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encodeValue(x, `${path}.${k}`);
    return out;
  }
  throw new Error(`cannot save ${path} in a corpus file: ${typeof v === 'object' ? (v.constructor.name || 'object') : typeof v} is not supported`);
}

function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const tag = o.$bytes ?? o.$undefined ?? o.$bigint ?? o.$number;
    if (keys[0] === '$bytes' && typeof tag === 'string') {
      if (tag.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(tag)) throw new Error(`corpus $bytes is not even-length hex (${tag.length} characters)`);
      return new Uint8Array(Buffer.from(tag, 'hex'));
    }
    if (keys[0] === '$undefined' && tag === true) return undefined;
    if (keys[0] === '$bigint' && typeof tag === 'string') return BigInt(tag);
    if (keys[0] === '$number' && typeof tag === 'string') {
      const n = SPECIAL_NUMBERS[tag];
      if (n === undefined) throw new Error(`corpus $number must be NaN, Infinity, -Infinity or -0, got ${tag}`);
      return n;
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = decodeValue(o[k]);
  return out;
}

/** The corpus file text of a value (one-space indented JSON with tagged leaves, no trailing newline). */
export function toCorpusJson(value: unknown): string {
  return JSON.stringify(encodeValue(value, 'value'), null, 1);
}

/** The value of a corpus file's text. */
export function fromCorpusJson(text: string): unknown {
  return decodeValue(JSON.parse(text));
}

/** Saved counterexamples of property `name` in `dir`, in file-name order: `<name>-<16 hex>.json` (saved
 *  by checkWithCorpus) and `<name>-seed-<label>.json` (hand-written). Another property's files never
 *  match, even when its name extends this one (`x-long-…` is not in the corpus of `x`). */
export function corpusEntries(dir: string | URL, name: string): CorpusEntry[] {
  checkName(name);
  const path = dirPath(dir);
  if (!existsSync(path)) return [];
  const own = new RegExp(`^${name}-(?:[0-9a-f]{16}|seed-[a-z0-9]+(?:-[a-z0-9]+)*)\\.json$`);
  return readdirSync(path)
    .filter((f) => own.test(f))
    .sort()
    .map((file) => {
      try {
        return { file, value: fromCorpusJson(readFileSync(join(path, file), 'utf8')) };
      } catch (e) {
        throw new Error(`corpus file ${file} is unreadable: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    });
}

/**
 * Replays every saved counterexample of `name` (failing on the first that fails again), then runs
 * `fc.check(fc.asyncProperty(arbitrary, predicate), params)`. On a failure the shrunk counterexample is
 * saved as `<dir>/<name>-<hash>.json` before the test fails with fast-check's report, so it is replayed
 * first on every later run. A property over several values takes `fc.tuple(...)` and destructures.
 */
export async function checkWithCorpus<T>(
  dir: string | URL,
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: CorpusPredicate<T>,
  params: fc.Parameters<[T]> = {},
): Promise<void> {
  const path = dirPath(dir);
  for (const { file, value } of corpusEntries(path, name)) {
    let result: unknown;
    try {
      result = await predicate(value as T);
    } catch (e) {
      if (fc.PreconditionFailure.isFailure(e)) continue;
      assert.fail(`${name}: corpus ${file} fails again: ${e instanceof Error ? e.message : String(e)}`);
    }
    assert.ok(result !== false, `${name}: corpus ${file} fails again: the property returned false`);
  }
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (value) => (await predicate(value)) !== false),
    params,
  );
  if (!details.failed) return;
  let saved = 'no counterexample to save';
  if (details.counterexample !== null) {
    try {
      const text = toCorpusJson(details.counterexample[0]);
      const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
      const file = join(path, `${name}-${hash}.json`);
      mkdirSync(path, { recursive: true });
      writeFileSync(file, `${text}\n`);
      saved = `counterexample saved to ${file}; it is replayed first on every later run`;
    } catch (e) {
      saved = `the counterexample could not be saved: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const report = (await fc.asyncDefaultReportMessage(details)) ?? 'property failed';
  // fast-check 4 leaves the predicate's own error out of the report (fc.assert attaches it as `cause`):
  // show it inline too, since it says what broke.
  const cause = details.errorInstance;
  const why = cause instanceof Error ? cause.message : String(cause);
  throw new assert.AssertionError({ message: `${name}: ${saved}\n${report.includes(why) ? report : `${report}\nGot error: ${why}`}` });
}

/** The corpus in `dir` (a path, or a file URL such as `new URL('corpus/', import.meta.url)`). */
export function corpusAt(dir: string | URL): Corpus {
  const path = dirPath(dir);
  return {
    dir: path,
    entries: (name) => corpusEntries(path, name),
    check: (name, arbitrary, predicate, params) => checkWithCorpus(path, name, arbitrary, predicate, params),
  };
}
