// The README's first command must keep working. `npm start` is `node scripts/ensure-deps.mjs &&
// node packages/cli/bin/sotto.mjs serve`: the test runs that very command line (read from
// package.json) as a real child process, on a free port and a temporary data directory instead of
// 8080 and ./data, checks that /health answers, and that SIGTERM stops it cleanly. The protocol
// demonstration the README still points to (scripts/demo.ts) is run as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from '../src/process.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npm start: runs `sotto serve`, which answers /health and stops cleanly on SIGTERM', async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts['start'] ?? '';
  const [ensure, serve] = start.split(' && ');
  assert.equal(ensure, 'node scripts/ensure-deps.mjs', 'npm start first makes sure dependencies are installed');
  const argv = (serve ?? '').split(' ');
  assert.deepEqual(argv, ['node', 'packages/cli/bin/sotto.mjs', 'serve'], 'npm start runs sotto serve on its defaults');

  const data = join(mkdtempSync(join(tmpdir(), 'sotto-quickstart-')), 'data');
  const server = startProcess(process.execPath, [...argv.slice(1), '--port', '0', '--data', data], { cwd: root });
  try {
    const m = await server.waitFor(/^sotto: listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
    const health = await fetch(`${m[1] ?? ''}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.ok(readdirSync(data).length > 0, 'the SQLite database is created under --data');
    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { status: 0, signal: null }, `a clean exit on SIGTERM\n${server.stderr()}`);
    assert.equal(server.stdout().trim().split('\n').length, 1, 'one line on stdout: where it listens');
  } finally {
    await server.stop('SIGKILL');
    rmSync(join(data, '..'), { recursive: true, force: true });
  }
});

test('the protocol demo (node --import tsx scripts/demo.ts) runs end to end', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `demo exited with ${String(r.status)}: ${r.stderr}`);
  const out = r.stdout;
  assert.match(out, /Bob opens it: from "alice", says "Hello Bob/);
  assert.match(out, /Alice reads Bob's reply: "Hi Alice! Got it\."/);
  assert.match(out, /replayed message is rejected: ERR_DUPLICATE_MESSAGE/);
  assert.match(out, /flipped bit is rejected: ERR_DECRYPT_FAILED/);
  assert.match(out, /genuine one still decrypts/);
  const shown = [...out.matchAll(/(?:Alice|Bob) sees: +([\d ]+)/g)].map((x) => (x[1] ?? '').replace(/ /g, ''));
  assert.equal(shown.length, 2, 'both safety numbers printed');
  assert.match(shown[0] ?? '', /^\d{60}$/, 'a safety number has 60 digits');
  assert.equal(shown[0], shown[1], 'both sides see the same safety number');
  assert.match(out, /They match/);
});
