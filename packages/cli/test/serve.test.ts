// `sotto serve` as a real process: the one `listening on` line with the real port, a clean stop on
// SIGINT (Ctrl-C) as on SIGTERM (quickstart.test.ts), and start-up failures as one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@sotto/test-support';
import { cleanEnv, oneErrorLine, SOTTO, startServe } from './helpers.ts';

test('serve: listens on the port it prints, creates --data, stops cleanly on SIGINT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-serve-'));
  try {
    const data = join(dir, 'nested', 'data');
    const { url, proc } = await startServe(data);
    assert.ok(existsSync(join(data, 'sotto.db')), 'the SQLite database is created under --data');
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await proc.stop('SIGINT'), { status: 0, signal: null });
    assert.equal(proc.stdout(), `sotto: listening on ${url}\n`, 'exactly one line on stdout');
    assert.match(proc.stderr(), /^sotto: SIGINT received, shutting down$/m);
    // Server log lines are JSON and name no request contents.
    const logs = proc.stderr().split('\n').filter((l) => l.startsWith('{'));
    assert.ok(logs.length >= 1);
    for (const l of logs) assert.equal(typeof (JSON.parse(l) as { event?: unknown }).event, 'string');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: a port in use and a database URL that is not PostgreSQL are one line each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-cli-serve-'));
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const inUse = await runProcess(process.execPath, [SOTTO, 'serve', '--port', String(port), '--data', join(dir, 'data')], { env: cleanEnv() });
    assert.equal(inUse.status, 1);
    assert.equal(oneErrorLine(inUse), `sotto: cannot listen on 127.0.0.1:${port}: the address is already in use`);
    assert.equal(inUse.stdout, '');
    const badUrl = await runProcess(process.execPath, [SOTTO, 'serve', '--database', 'mysql://root:secret@db/x'], { env: cleanEnv() });
    assert.equal(badUrl.status, 2);
    assert.equal(oneErrorLine(badUrl), 'sotto: --database must be a postgres:// or postgresql:// URL');
    assert.ok(!badUrl.stderr.includes('secret'), 'a password in the URL is never echoed');
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
