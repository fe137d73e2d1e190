// Makes `npm start` and `npm test` work on a fresh clone: installs npm packages when they are missing,
// and (when a later test needs them) Debian packages through apt-get. Only prints what it does.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`ensure-deps: '${cmd} ${args.join(' ')}' failed with exit code ${String(r.status)}\n`);
    process.exit(1);
  }
}

const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || !existsSync(join(root, 'node_modules', 'tsx'))) {
  process.stdout.write('ensure-deps: node_modules missing, running npm ci\n');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// `npm test` only (never `npm start`): packages/crypto/test/mlkem-wasm.test.ts rebuilds the ML-KEM
// WebAssembly binary to check that it is reproducible, which needs clang and wasm-ld (Debian's clang
// and lld packages).
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (process.env.npm_lifecycle_event === 'test' && !(has('clang') && has('wasm-ld'))) {
  process.stdout.write('ensure-deps: clang or wasm-ld missing, installing Debian packages clang and lld\n');
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', '--no-install-recommends', 'clang', 'lld']);
}
