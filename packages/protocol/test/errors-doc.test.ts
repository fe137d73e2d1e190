// docs/errors.md must list every error code the source can throw (STYLE.md §9), and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
const source = readFileSync(fileURLToPath(new URL('packages/protocol/src/errors.ts', root)), 'utf8');
const doc = readFileSync(fileURLToPath(new URL('docs/errors.md', root)), 'utf8');

const unionBody = /export type ProtocolErrorCode =([\s\S]*?);/.exec(source)?.[1] ?? '';
const codes = [...unionBody.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1]);
const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));

test('the ProtocolErrorCode union was found and is not empty', () => {
  assert.ok(codes.length >= 10, `expected the union in errors.ts to list codes, found ${codes.length}`);
});

test('every protocol error code is documented in docs/errors.md', () => {
  const missing = codes.filter((c) => c !== undefined && !documented.has(c));
  assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
});

test('docs/errors.md documents no code the source lacks', () => {
  const known = new Set(codes);
  const extra = [...documented].filter((c) => c !== undefined && c.startsWith('ERR_') && !known.has(c));
  assert.deepEqual(extra, [], `documented but not in errors.ts: ${extra.join(', ')}`);
});
