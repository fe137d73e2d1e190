// Makes `npm start` and `npm test` work on a fresh clone: installs npm packages when they are missing,
// and (when a later test needs them) Debian packages through apt-get. Only prints what it does.
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

// The web client (packages/web/dist, served by `sotto serve` at /): built when missing or older than
// any of its sources — its own and those of the packages it bundles.
const newest = (p) => (statSync(p).isDirectory() ? Math.max(0, ...readdirSync(p).map((n) => newest(join(p, n)))) : statSync(p).mtimeMs);
const web = join(root, 'packages', 'web');
if (existsSync(web)) {
  const built = join(web, 'dist', 'index.html');
  const sources = [join(web, 'index.html'), join(web, 'vite.config.ts'), join(web, 'public'), ...['web', 'client', 'crypto', 'protocol'].map((p) => join(root, 'packages', p, 'src'))];
  if (!existsSync(built) || newest(built) < Math.max(...sources.filter(existsSync).map(newest))) {
    process.stdout.write('ensure-deps: building the web client (packages/web/dist)\n');
    run('npm', ['run', '--silent', 'build:web']);
  }
}

// `npm test` only (never `npm start`): packages/crypto/test/mlkem-wasm.test.ts rebuilds the ML-KEM
// WebAssembly binary to check that it is reproducible, which needs clang and wasm-ld (Debian's clang
// and lld packages); packages/store/test/postgres.test.ts starts a throw-away PostgreSQL server, which
// needs Debian's initdb and pg_ctl (/usr/lib/postgresql/<version>/bin, package postgresql); the browser
// tests (packages/test-support/src/browser.ts) drive Debian's Chromium at /usr/bin/chromium through
// playwright-core, which never downloads a browser itself; the TURN tests
// (packages/server/test/fixtures/coturn.ts) start their own loopback coturn (`turnserver`, and its
// client `turnutils_uclient`: Debian's coturn package).
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const hasPostgres = () => spawnSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/initdb'], { stdio: 'ignore' }).status === 0;
if (process.env.npm_lifecycle_event === 'test') {
  const missing = [
    ...(has('clang') && has('wasm-ld') ? [] : ['clang', 'lld']),
    ...(hasPostgres() ? [] : ['postgresql']),
    ...(existsSync('/usr/bin/chromium') ? [] : ['chromium']),
    ...(has('turnserver') && has('turnutils_uclient') ? [] : ['coturn']),
  ];
  if (missing.length > 0) {
    process.stdout.write(`ensure-deps: installing Debian packages ${missing.join(' ')}\n`);
    // The tests start their own throw-away server; Debian would also create and start a 'main' cluster.
    if (missing.includes('postgresql')) {
      mkdirSync('/etc/postgresql-common/createcluster.d', { recursive: true });
      writeFileSync('/etc/postgresql-common/createcluster.d/sotto-tests.conf', 'create_main_cluster = false\n');
    }
    // The tests start their own coturn; Debian's unit would start one on the default port under
    // systemd: masked before the install, so it never starts (its sysv script starts nothing unless
    // /etc/default/coturn sets TURNSERVER_ENABLED=1, and it does not by default).
    if (missing.includes('coturn') && existsSync('/run/systemd/system')) {
      mkdirSync('/etc/systemd/system', { recursive: true });
      if (!existsSync('/etc/systemd/system/coturn.service')) symlinkSync('/dev/null', '/etc/systemd/system/coturn.service');
    }
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', ...missing]);
  }
}
