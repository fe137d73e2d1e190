// Code blocks in the documentation cannot rot (STYLE.md §19): every ```ts block in README.md,
// docs/**/*.md and packages/*/README.md is written out as a module and type-checked with the
// repository's strict settings against the real packages, then run. Signature listings use ```text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function markdownFiles(): string[] {
  const out = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.md')) out.push(p);
    }
  };
  walk(join(root, 'docs'));
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const readme = join(root, 'packages', pkg, 'README.md');
    if (existsSync(readme)) out.push(readme);
  }
  return out;
}

test('every ```ts block in the documentation type-checks', () => {
  const dir = join(root, '.doc-snippets');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const written: string[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8');
    let n = 0;
    for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      const name = `${relative(root, file).replace(/[^A-Za-z0-9]+/g, '_')}_${n++}.ts`;
      writeFileSync(join(dir, name), `// from ${relative(root, file)}\n${m[1] ?? ''}\nexport {};\n`);
      written.push(name);
    }
  }
  assert.ok(written.length >= 2, `expected code blocks in README.md and packages/crypto/README.md, found ${written.length}`);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: '../tsconfig.base.json', compilerOptions: { types: ['node'], lib: ['ES2022', 'DOM'], noUnusedLocals: false, noUnusedParameters: false }, include: ['*.ts'] }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `documentation code does not type-check:\n${r.stdout}${r.stderr}`);
  // ...and runs: every block is a complete program.
  for (const name of written) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(dir, name)], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `${name} failed when run:\n${run.stdout}${run.stderr}`);
  }
  rmSync(dir, { recursive: true, force: true });
});
