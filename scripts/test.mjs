// Runs every test file with Node's own test runner (node --test), TypeScript loaded through tsx.
// Usage: node scripts/test.mjs [path-substring ...]  — with arguments, only files whose path contains one.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const testDir = join(root, 'packages', pkg, 'test');
  try {
    if (statSync(testDir).isDirectory()) walk(testDir, files);
  } catch {
    // a package without tests
  }
}
const selected = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (selected.length === 0) {
  process.stderr.write('test: no test files matched\n');
  process.exit(1);
}
const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec', ...selected];

// Every test talks only to loopback. Where we can (root on Linux: CI and these machines), the whole run
// goes into a fresh network namespace holding nothing but `lo`, so a test that tried to reach anything
// else would fail instead of leaking traffic, and WebRTC finds no interface but loopback
// (shared/notes/browser-calls.md). SOTTO_TEST_NETNS=off turns it off; tests see SOTTO_TEST_NETNS=inside.
function canUseNetns() {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  if (process.env.SOTTO_TEST_NETNS === 'off' || process.env.SOTTO_TEST_NETNS === 'inside') return false;
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  return probe.status === 0;
}

const r = canUseNetns()
  ? spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...nodeArgs], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, SOTTO_TEST_NETNS: 'inside' },
    })
  : spawnSync(process.execPath, nodeArgs, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
