// docs/errors.md must list every error code each package can throw (STYLE.md §9), in that package's
// section, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
const read = (p: string): string => readFileSync(fileURLToPath(new URL(p, root)), 'utf8');
const doc = read('docs/errors.md');

const packages = [
  { section: '@sotto/protocol', file: 'packages/protocol/src/errors.ts', union: 'ProtocolErrorCode' },
  { section: '@sotto/escrow', file: 'packages/escrow/src/errors.ts', union: 'EscrowErrorCode' },
  { section: '@sotto/store', file: 'packages/store/src/errors.ts', union: 'StoreErrorCode' },
  { section: '@sotto/server', file: 'packages/server/src/errors.ts', union: 'ServerErrorCode' },
  { section: '@sotto/client', file: 'packages/client/src/errors.ts', union: 'ClientErrorCode' },
  { section: '@sotto/cli', file: 'packages/cli/src/errors.ts', union: 'CliErrorCode' },
  { section: '@sotto/web', file: 'packages/web/src/errors.ts', union: 'WebErrorCode' },
  { section: '@sotto/attacks', file: 'packages/attacks/src/errors.ts', union: 'AttacksErrorCode' },
] as const;

/** The table rows of the `## <section>` part of docs/errors.md. */
function documentedIn(section: string): Set<string> {
  // "## @sotto/cli (" — the parenthesis keeps @sotto/cli from matching "## @sotto/client".
  const start = doc.indexOf(`## ${section} (`);
  assert.ok(start >= 0, `docs/errors.md has a section "## ${section} (...)"`);
  const next = doc.indexOf('\n## ', start + 3);
  const body = doc.slice(start, next < 0 ? undefined : next);
  return new Set([...body.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? ''));
}

for (const p of packages) {
  const source = read(p.file);
  const unionBody = new RegExp(`export type ${p.union} =([\\s\\S]*?);`).exec(source)?.[1] ?? '';
  const codes = [...unionBody.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1] ?? '');

  test(`${p.section}: the ${p.union} union was found and is not empty`, () => {
    assert.ok(codes.length >= 4, `expected the union in ${p.file} to list codes, found ${codes.length}`);
  });

  test(`${p.section}: every error code is documented in its section of docs/errors.md, and no other`, () => {
    const documented = documentedIn(p.section);
    assert.deepEqual(codes.filter((c) => !documented.has(c)), [], 'codes missing from docs/errors.md');
    const known = new Set(codes);
    assert.deepEqual([...documented].filter((c) => !known.has(c)), [], `documented but not in ${p.file}`);
  });
}
