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
