// The dependency direction of DESIGN.md, enforced: cli → client → protocol; web → client → protocol;
// server → protocol, store; client → store, protocol; protocol depends on nothing in the repository
// and imports no Node built-ins. Every @sotto import in a package's src must also be declared in its
// package.json, so the graph seen by npm is the graph in the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));

/** Which workspace packages each package's src may import (DESIGN.md "Dependencies point one way"). */
const allowed: Record<string, readonly string[]> = {
  protocol: [],
  crypto: ['protocol'],
  'test-support': [],
  store: ['protocol'],
  server: ['protocol', 'store', 'crypto'],
  client: ['protocol', 'store', 'crypto'],
  cli: ['client', 'protocol', 'crypto', 'server', 'store'],
  web: ['client', 'protocol', 'crypto'],
  escrow: [],
  attacks: ['protocol', 'crypto', 'store', 'server', 'client', 'escrow'],
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const importRe = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

const packages = readdirSync(packagesDir).filter((n) => existsSync(join(packagesDir, n, 'package.json')));

test('every workspace package has a declared place in the dependency graph', () => {
  const unknown = packages.filter((p) => !(p in allowed));
  assert.deepEqual(unknown, [], `add these packages to the allowed graph: ${unknown.join(', ')}`);
});

for (const pkg of packages) {
  test(`${pkg}: src imports only what DESIGN.md allows, and declares it`, () => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const declared = new Set(Object.keys(manifest.dependencies ?? {}));
    const problems: string[] = [];
    for (const file of sourceFiles(join(packagesDir, pkg, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? '';
        const rel = file.slice(packagesDir.length);
        if (spec.startsWith('@sotto/')) {
          const target = spec.slice('@sotto/'.length).split('/')[0] ?? '';
          if (!(allowed[pkg] ?? []).includes(target)) problems.push(`${rel} imports @sotto/${target}`);
          if (!declared.has(`@sotto/${target}`)) problems.push(`${rel} imports @sotto/${target} without declaring it`);
        }
        if (pkg === 'protocol' && (spec.startsWith('node:') || ['fs', 'path', 'crypto', 'os', 'net', 'http'].includes(spec))) {
          problems.push(`${rel} imports ${spec}: the protocol core must stay platform-neutral`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
}

// No import cycles between source files (STYLE.md §17 import/no-cycle), checked here without a
// resolver plugin: relative imports of every package's src form a graph that must be acyclic.
test('no import cycles inside any package src', () => {
  const graph = new Map<string, string[]>();
  for (const pkg of packages) {
    for (const file of sourceFiles(join(packagesDir, pkg, 'src'))) {
      const text = readFileSync(file, 'utf8');
      const deps: string[] = [];
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? '';
        // type-only imports vanish at run time but still couple modules; count them too
        if (spec.startsWith('.')) deps.push(join(file, '..', spec));
      }
      graph.set(file, deps);
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    const s = state.get(node);
    if (s === 'done') return;
    if (s === 'visiting') {
      cycles.push([...path.slice(path.indexOf(node)), node].map((p) => p.slice(packagesDir.length)).join(' → '));
      return;
    }
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  assert.ok(graph.size > 20, `expected to scan the sources, found ${graph.size} files`);
  assert.deepEqual(cycles, []);
});
